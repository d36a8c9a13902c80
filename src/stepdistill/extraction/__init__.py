"""Teacher rationale extraction: prompts in, TeacherRecord JSONL out."""

from stepdistill.extraction.extract import (
    ExtractionConfig,
    ExtractionReport,
    extract,
    extract_async,
)
from stepdistill.extraction.filters import FILTERS
from stepdistill.extraction.teacher_file import attach_teacher_records, read_teacher_file
from stepdistill.extraction.vote import majority_vote

__all__ = [
    "FILTERS",
    "ExtractionConfig",
    "ExtractionReport",
    "attach_teacher_records",
    "extract",
    "extract_async",
    "majority_vote",
    "read_teacher_file",
]
