"""Stage two, training: method configs and objects, run settings, and the entry that turns task
data into a trained folder (``train_on_task``; ``train_student`` when the data is in hand).

Everything outside this package imports from here, never from its modules.
"""

from typing import Any

from stepdistill.training.config import (
    RunSettings,
    SingleTaskConfig,
    StandardConfig,
    StepByStepConfig,
    TrainConfig,
)
from stepdistill.training.estimate import estimate_training
from stepdistill.training.label_predictor import Engine, LabelPredictor
from stepdistill.training.methods import METHODS, TrainingMethod, get_method, make_config
from stepdistill.training.output import hold_output, holder_of, holds, in_use
from stepdistill.training.run import (
    TrainResult,
    planned_examples,
    run_data,
    train_on_task,
    train_student,
)


def step_clock(hook: Any = None) -> Any:
    """A Trainer callback timing each step and telling ``hook(step, max_steps)`` after it
    (imported only when wanted: it loads transformers' trainer)."""
    from stepdistill.training.clock import StepClock

    return StepClock(hook)


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
    "estimate_training",
    "get_method",
    "hold_output",
    "holder_of",
    "holds",
    "in_use",
    "make_config",
    "planned_examples",
    "run_data",
    "step_clock",
    "train_on_task",
    "train_student",
]
