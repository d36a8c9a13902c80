"""``stepdistill run``: a task, a teacher, filters, students, evaluation and export in one file,
each stage skipped when its artifact is complete, so that a killed run started again resumes;
and bootstrapped self-training. Everything outside this package imports from here."""

from stepdistill.pipeline.config import PipelineConfig, TrainStage, load_pipeline
from stepdistill.pipeline.report import (
    EXAMPLES_HEADER,
    ReportView,
    examples_cell,
    pipeline_view,
    samples_table,
    verdict_lines,
    warning_lines,
)
from stepdistill.pipeline.runner import clear_output, plan, run_pipeline
from stepdistill.pipeline.self_training import SelfTrainingConfig, run_self_training

__all__ = [
    "EXAMPLES_HEADER",
    "PipelineConfig",
    "ReportView",
    "SelfTrainingConfig",
    "TrainStage",
    "clear_output",
    "examples_cell",
    "load_pipeline",
    "pipeline_view",
    "plan",
    "run_pipeline",
    "run_self_training",
    "samples_table",
    "verdict_lines",
    "warning_lines",
]
