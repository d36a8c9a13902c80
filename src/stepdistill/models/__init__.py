"""Shared model infrastructure below the pipeline stages: loading students and local teachers,
encoding text pairs, generation and scoring, and the trained folder's format."""

from stepdistill.models.encoding import PairEncoder
from stepdistill.models.generation import generate_texts, score_targets
from stepdistill.models.kinds import CAUSAL, SEQ2SEQ
from stepdistill.models.loading import STUDENT_PRESETS, Student, load_student

__all__ = [
    "CAUSAL",
    "SEQ2SEQ",
    "STUDENT_PRESETS",
    "PairEncoder",
    "Student",
    "generate_texts",
    "load_student",
    "score_targets",
]
