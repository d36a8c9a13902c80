"""Stage two, training: method configs and objects, run settings, and the entry that turns task
data into a trained folder (``train_on_task``; ``train_student`` when the data is in hand).

Everything outside this package imports from here, never from its modules.
"""

from stepdistill.training.config import (
    RunSettings,
    SingleTaskConfig,
    StandardConfig,
    StepByStepConfig,
    TrainConfig,
)
from stepdistill.training.label_predictor import Engine, LabelPredictor
from stepdistill.training.methods import METHODS, TrainingMethod, get_method, make_config
from stepdistill.training.run import TrainResult, planned_examples, train_on_task, train_student

__all__ = [
    "METHODS",
    "Engine",
    "LabelPredictor",
    "RunSettings",
    "SingleTaskConfig",
    "StandardConfig",
    "StepByStepConfig",
    "TrainConfig",
    "TrainResult",
    "TrainingMethod",
    "get_method",
    "make_config",
    "planned_examples",
    "train_on_task",
    "train_student",
]
