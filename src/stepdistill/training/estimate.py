"""How long a training stage will take here: from the throughput recorded by earlier runs of
the same workload, or from a calibration (a few real steps and predictions, timed now)."""

from __future__ import annotations

import contextlib
import logging
import math
import sys
import tempfile
import time
from collections.abc import Collection, Sequence
from dataclasses import replace
from pathlib import Path

from stepdistill.data.task_data import TaskData
from stepdistill.errors import NoUsableExamples
from stepdistill.schema import Example, TeacherRecord
from stepdistill.throughput import CALIBRATED, Estimate, Measurement, ThroughputLog
from stepdistill.training.config import RunSettings, TrainConfig
from stepdistill.training.speed import KIND, TrainingWork, training_workload

logger = logging.getLogger(__name__)

CALIBRATION_STEPS = 4  # the first pays set-up costs; the fastest of the rest is the step
PROBE_PREDICTIONS = 8
# a rationale the teacher has not written yet is stood in by one of about this many words
STAND_IN_WORDS = 60


def training_work(
    data: TaskData, method: str, config: TrainConfig, run: RunSettings
) -> TrainingWork:
    """The steps and predictions a run of ``method`` on ``data`` (as ``run_data`` gives it)
    makes; raises NoUsableExamples when the method can use no example."""
    from stepdistill.training.run import checked_method, validation_examples

    pairs, _ = checked_method(method, config).build(data["train"], config)
    if not pairs:
        raise NoUsableExamples(f"no usable training example for {method}")
    batch = config.per_device_batch_size * config.gradient_accumulation_steps
    steps = (
        config.max_steps
        if config.max_steps > 0
        else math.ceil(config.num_epochs * math.ceil(len(pairs) / batch))
    )
    valid = validation_examples(data, run.max_valid_examples)
    evaluations = steps // config.eval_steps if valid else 0
    test = data.splits.get("test", [])
    tested = len(test) if test and all(e.label is not None for e in test) else 0
    return TrainingWork(steps=steps, predictions=evaluations * len(valid) + tested)


def with_stand_in_rationales(data: TaskData, explained: Collection[str]) -> TaskData:
    """The data with a rationale of typical length for each training example the teacher will
    explain (``explained``: their ids), as if it kept every one: an upper bound."""
    stand_in = " ".join(["because"] * STAND_IN_WORDS)
    train = [
        replace(
            example,
            teacher=TeacherRecord(example.id, stand_in, example.label, example.label is not None),
        )
        if example.id in explained
        else example
        for example in data["train"]
    ]
    return replace(data, splits={**data.splits, "train": train})


def spread_sample(examples: Sequence[Example], count: int) -> list[Example]:
    """``count`` examples taken evenly across ``examples``, so that the share of examples with
    a rationale (and their lengths) is the run's, not that of its first rows."""
    if len(examples) <= count:
        return list(examples)
    stride = len(examples) / count
    return [examples[int(i * stride)] for i in range(count)]


def calibrate(data: TaskData, method: str, config: TrainConfig, student: str) -> Measurement:
    """A few real training steps and label predictions of ``student``, timed: the step time
    (the fastest after the first), the time per prediction, and the fixed costs (loading the
    student, the first step's set-up, saving)."""
    from stepdistill.training.clock import StepClock
    from stepdistill.training.run import train_student
    from stepdistill.training.trainer import DistillTrainer  # noqa: F401  (imported untimed)

    batch = config.per_device_batch_size * config.gradient_accumulation_steps
    train = spread_sample(data["train"], batch * CALIBRATION_STEPS)
    source = data.splits.get("test") or data.splits.get("valid") or train
    probe = [replace(example, label=example.label or "?") for example in source[:PROBE_PREDICTIONS]]
    small = TaskData(task=data.task, splits={"train": train, "test": probe})
    clock = StepClock()
    logger.info("calibrating %s with %s: %d steps", method, student, CALIBRATION_STEPS)
    # the Trainer prints its logs: on stderr, where a dry run's JSON is not
    with (
        tempfile.TemporaryDirectory(prefix="stepdistill-calibration-") as folder,
        contextlib.redirect_stdout(sys.stderr),
    ):
        started = time.perf_counter()
        result = train_student(
            data=small,
            method=method,
            config=replace(config, max_steps=CALIBRATION_STEPS),
            student=student,
            output_dir=Path(folder) / "student",
            callbacks=[clock],
        )
        wall = time.perf_counter() - started
    metrics = result.metrics
    steps = metrics["steps"]
    step = clock.steady_step_seconds() or metrics["train_seconds_excluding_eval"] / max(steps, 1)
    tested = metrics.get("test_seconds") or 0.0
    return Measurement(
        {
            "step_seconds": step,
            "prediction_seconds": tested / max(len(probe), 1),
            "overhead_seconds": max(0.0, wall - step * steps - tested),
        },
        CALIBRATED,
    )


def estimate_training(
    data: TaskData,
    method: str,
    config: TrainConfig,
    student: str,
    run: RunSettings,
    *,
    may_calibrate: bool = True,
    explained: Collection[str] | None = None,
) -> Estimate:
    """The training stage's duration on ``data`` (``run_data(source, run)``; ``run``: its data
    settings): from this machine's records of the workload, else from a calibration now (kept,
    so that the next dry run is instant) unless ``may_calibrate`` is off. ``explained``: the
    teacher has not run yet and will explain the examples of these ids; each is assumed to get
    a rationale of a typical length (an upper bound)."""
    if explained is not None:
        data = with_stand_in_rationales(data, set(explained))
    try:
        work = training_work(data, method, config, run)
    except NoUsableExamples as error:
        return Estimate.unknown(f"not trained: {error}")
    log = ThroughputLog()
    workload = training_workload(student, method, config)
    measurements = log.measurements(KIND, workload)
    if not measurements and may_calibrate:
        measurement = calibrate(data, method, config, student)
        log.record(KIND, workload, measurement)
        measurements = [measurement]
    what = f": {work.steps} steps, {work.predictions} predictions"
    if explained is not None:
        what += (
            f"; before the teacher: a rationale of about {STAND_IN_WORDS} words assumed for each "
            "example it will explain"
        )
    if not measurements:
        return Estimate.unknown("no record of this workload on this machine" + what)
    return Estimate.from_measurements(measurements, work.seconds, what)
