"""``stepdistill run``: a task, a teacher, filters, students, evaluation and export in one file,
each stage skipped when its artifact is complete, so that a killed run started again resumes;
and bootstrapped self-training. Everything outside this package imports from here."""

from stepdistill.pipeline.config import PipelineConfig, load_pipeline
from stepdistill.pipeline.runner import plan, run_pipeline
from stepdistill.pipeline.self_training import SelfTrainingConfig, run_self_training

__all__ = [
    "PipelineConfig",
    "SelfTrainingConfig",
    "load_pipeline",
    "plan",
    "run_pipeline",
    "run_self_training",
]
