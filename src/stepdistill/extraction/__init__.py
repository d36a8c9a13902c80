"""Stage one, extraction: teacher settings in (``TeacherSettings``), teacher records and their
report out (``extract``); voting, filters, the judge and teacher files.

Everything outside this package imports from here, never from its modules.
"""

from stepdistill.extraction.extract import (
    ExtractionConfig,
    ExtractionReport,
    batch_text,
    extract,
    extract_async,
    outcome_text,
    reasoning_requests,
)
from stepdistill.extraction.filters import FILTERS, apply_filters, parse_filter
from stepdistill.extraction.judge import JudgeReport, judge_records, score_agreement
from stepdistill.extraction.settings import TeacherSettings, estimate, prompting
from stepdistill.extraction.stage import (
    ExtractionRun,
    extraction_plan,
    run_extraction,
    split_examples,
)
from stepdistill.extraction.teacher_file import attach_teacher_records, read_teacher_file
from stepdistill.extraction.vote import majority_vote

__all__ = [
    "FILTERS",
    "ExtractionConfig",
    "ExtractionReport",
    "ExtractionRun",
    "JudgeReport",
    "TeacherSettings",
    "apply_filters",
    "attach_teacher_records",
    "batch_text",
    "estimate",
    "extract",
    "extract_async",
    "extraction_plan",
    "judge_records",
    "majority_vote",
    "outcome_text",
    "parse_filter",
    "prompting",
    "read_teacher_file",
    "reasoning_requests",
    "run_extraction",
    "score_agreement",
    "split_examples",
]
