"""A training run's throughput as the throughput file keeps it: the workload (what makes a
step slower or faster) and what a finished run measured."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stepdistill.throughput import RECORDED, Measurement, ThroughputLog
from stepdistill.training.config import TrainConfig

KIND = "train"
# settings that change what is learned, not how long a step or a prediction takes
NOT_SPEED = frozenset(
    {
        "method",
        "seed",
        "learning_rate",
        "max_steps",
        "num_epochs",
        "eval_steps",
        "logging_steps",
        "save_total_limit",
        "warmup_steps",
        "weight_decay",
        "lr_scheduler_type",
        "alpha",
        "label_source",
        "label_prefix",
        "rationale_prefix",
        "rationale_shuffle_seed",
        "rationale_required",
        "report_to",
    }
)


def training_workload(student: str, method: str, config: TrainConfig) -> dict[str, Any]:
    """What a step's and a prediction's time depend on: student, method, batch, lengths..."""
    settings = {k: v for k, v in config.to_dict().items() if k not in NOT_SPEED}
    return {"student": student, "method": method, "settings": settings}


@dataclass(frozen=True)
class TrainingWork:
    """What a training stage does: optimizer steps, and label predictions (every validation
    and the test split)."""

    steps: int
    predictions: int

    def seconds(self, values: Mapping[str, float]) -> float:
        """This work's duration at a measurement's rates (plus its fixed costs: loading,
        tokenizing, saving)."""
        return (
            values.get("overhead_seconds", 0.0)
            + self.steps * values.get("step_seconds", 0.0)
            + self.predictions * values.get("prediction_seconds", 0.0)
        )


def run_measurement(metrics: Mapping[str, Any], wall_seconds: float) -> Measurement | None:
    """The rates a finished run's ``metrics.json`` shows, with its fixed costs (the wall time
    less training, validation and test); None when it ran no step itself (restored)."""
    steps = metrics.get("steps", 0) - metrics.get("resumed_from_step", 0)
    if steps <= 0:
        return None
    train = metrics.get("train_seconds_excluding_eval") or 0.0
    evaluated = (metrics.get("validation_seconds") or 0.0) + (metrics.get("test_seconds") or 0.0)
    predictions = (metrics.get("validation_predictions") or 0) + (metrics.get("test_size") or 0)
    values = {
        "step_seconds": train / steps,
        "overhead_seconds": max(0.0, wall_seconds - train - evaluated),
    }
    if predictions:
        values["prediction_seconds"] = evaluated / predictions
    return Measurement(values, RECORDED)


def record_training(
    student: str, method: str, config: TrainConfig, metrics: Mapping[str, Any], wall: float
) -> None:
    """Keep a finished run's throughput for the estimates of later dry runs."""
    measurement = run_measurement(metrics, wall)
    if measurement is not None:
        ThroughputLog().record(KIND, training_workload(student, method, config), measurement)
