"""Student training: methods, configs, students, the trainer and the run orchestration."""

from stepdistill.training.config import (
    SingleTaskConfig,
    StandardConfig,
    StepByStepConfig,
    TrainConfig,
)
from stepdistill.training.methods import METHODS, get_method, make_config
from stepdistill.training.students import STUDENT_PRESETS, Student, load_student

__all__ = [
    "METHODS",
    "STUDENT_PRESETS",
    "SingleTaskConfig",
    "StandardConfig",
    "StepByStepConfig",
    "Student",
    "TrainConfig",
    "get_method",
    "load_student",
    "make_config",
]
