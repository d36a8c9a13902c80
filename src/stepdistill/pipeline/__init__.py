"""``stepdistill run``: a task, a teacher, filters, students, evaluation and export in one file,
each stage skipped when its artifact is complete, so that a killed run started again resumes."""

from stepdistill.pipeline.config import PipelineConfig, load_pipeline
from stepdistill.pipeline.runner import run_pipeline

__all__ = ["PipelineConfig", "load_pipeline", "run_pipeline"]
