"""Student training: methods, configs, input modes, the trainer and the run orchestration."""

from stepdistill.training.config import (
    RunSettings,
    SingleTaskConfig,
    StandardConfig,
    StepByStepConfig,
    TrainConfig,
)
from stepdistill.training.methods import METHODS, get_method, make_config

__all__ = [
    "METHODS",
    "RunSettings",
    "SingleTaskConfig",
    "StandardConfig",
    "StepByStepConfig",
    "TrainConfig",
    "get_method",
    "make_config",
]
