"""Teacher rationale extraction: prompts in, TeacherRecord JSONL out."""

from stepdistill.extraction.extract import (
    ExtractionConfig,
    ExtractionReport,
    extract,
    extract_async,
)
from stepdistill.extraction.filters import FILTERS, apply_filters, parse_filter
from stepdistill.extraction.judge import judge_records, score_agreement
from stepdistill.extraction.teacher_file import attach_teacher_records, read_teacher_file
from stepdistill.extraction.vote import majority_vote

__all__ = [
    "FILTERS",
    "ExtractionConfig",
    "ExtractionReport",
    "apply_filters",
    "attach_teacher_records",
    "extract",
    "extract_async",
    "judge_records",
    "majority_vote",
    "parse_filter",
    "read_teacher_file",
    "score_agreement",
]
