"""What each training method asks the student to learn, and how it reads a prediction back."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from stepdistill.parsing import parse_completion
from stepdistill.registry import Registry
from stepdistill.schema import Example
from stepdistill.tasks.base import AnswerPattern, Task
from stepdistill.training.config import (
    SingleTaskConfig,
    StandardConfig,
    StepByStepConfig,
    TrainConfig,
)

LABEL_TASK = "label"
RATIONALE_TASK = "rationale"

# One training example: task name -> (source text, target text).
TaskPairs = dict[str, tuple[str, str]]


def training_label(example: Example, label_source: str) -> str | None:
    """The label a student learns from: gold, or the teacher's if it parsed."""
    if label_source == "gold":
        return example.label
    record = example.teacher
    return record.teacher_label if record is not None and record.usable else None


def usable_rationale(example: Example) -> str | None:
    """The teacher's rationale, if its completion parsed and no filter set it aside."""
    record = example.teacher
    if record is None or not record.usable or not (record.rationale or "").strip():
        return None
    return record.rationale.strip()


@dataclass(frozen=True)
class TrainingMethod:
    """A method: its config class, the task pairs it trains on and how it reads predictions."""

    name: str
    config_class: type[TrainConfig]
    needs_rationale: bool

    def pairs(self, example: Example, config: TrainConfig) -> TaskPairs | None:
        """The (source, target) pair of each task for one example, or None to skip it."""
        raise NotImplementedError

    def loss_weights(self, config: TrainConfig) -> dict[str, float]:
        return {LABEL_TASK: 1.0}

    def label_source_text(self, text: str, config: TrainConfig) -> str:
        """The model input that asks for the label (the only task run at inference)."""
        return text

    def output_markers(self, config: TrainConfig) -> dict[str, str] | None:
        """Task markers on the output side (shared-input training), or None."""
        return None

    def rationale_request(self, text: str, config: TrainConfig) -> tuple[str, str] | None:
        """(model input, output prefix) that asks for a rationale, or None if the method
        never learned to write one."""
        return None

    def label_output_prefix(self, config: TrainConfig) -> str:
        """Text the student's output starts with before the label (given, not generated)."""
        markers = self.output_markers(config)
        return markers[LABEL_TASK] if markers else ""

    def read_label(self, generated: str, task: Task, config: TrainConfig) -> str | None:
        """The label in a generated text: its canonical form if valid, else the text itself.

        Labels are one line; a student that runs on past its label is read up to the newline.
        """
        first_line = generated.strip().split("\n", 1)[0]
        checked = task.label_kind.check(first_line)
        return checked.label if checked.label is not None else first_line.strip()

    def build(
        self, examples: Sequence[Example], config: TrainConfig
    ) -> tuple[list[TaskPairs], dict[str, int]]:
        """Task pairs for every usable example, and counts of what was kept and why not."""
        kept: list[TaskPairs] = []
        counts: Counter[str] = Counter()
        for example in examples:
            if training_label(example, config.label_source) is None:
                counts["skipped_no_label"] += 1
                continue
            if self.needs_rationale and usable_rationale(example) is None:
                counts["skipped_no_rationale"] += 1
                continue
            kept.append(self.pairs(example, config))
            counts["used"] += 1
        return kept, {"used": 0, **counts}


class Standard(TrainingMethod):
    def pairs(self, example: Example, config: TrainConfig) -> TaskPairs:
        return {LABEL_TASK: (example.input, training_label(example, config.label_source))}


class StepByStep(TrainingMethod):
    def pairs(self, example: Example, config: StepByStepConfig) -> TaskPairs:
        label = training_label(example, config.label_source)
        label_source, rationale_source = (
            (example.input, example.input)
            if config.shared_input
            else (config.label_prefix + example.input, config.rationale_prefix + example.input)
        )
        return {
            LABEL_TASK: (label_source, label),
            RATIONALE_TASK: (rationale_source, usable_rationale(example)),
        }

    def output_markers(self, config: StepByStepConfig) -> dict[str, str] | None:
        if not config.shared_input:
            return None
        return {LABEL_TASK: config.label_prefix, RATIONALE_TASK: config.rationale_prefix}

    def loss_weights(self, config: StepByStepConfig) -> dict[str, float]:
        return {LABEL_TASK: config.alpha, RATIONALE_TASK: 1.0 - config.alpha}

    def label_source_text(self, text: str, config: StepByStepConfig) -> str:
        return text if config.shared_input else config.label_prefix + text

    def rationale_request(self, text: str, config: StepByStepConfig) -> tuple[str, str] | None:
        if config.shared_input:
            return text, config.rationale_prefix
        return config.rationale_prefix + text, ""


class SingleTask(TrainingMethod):
    def pairs(self, example: Example, config: SingleTaskConfig) -> TaskPairs:
        label = training_label(example, config.label_source)
        target = f"{usable_rationale(example)} {config.answer_marker} {label}"
        return {LABEL_TASK: (example.input, target)}

    def read_label(self, generated: str, task: Task, config: SingleTaskConfig) -> str | None:
        pattern = AnswerPattern(answer_marker=re.escape(config.answer_marker))
        parsed = parse_completion(generated, pattern, task.label_kind)
        return parsed.label


METHODS: Registry[TrainingMethod] = Registry("training method")
METHODS.register("standard", Standard("standard", StandardConfig, needs_rationale=False))
METHODS.register("step-by-step", StepByStep("step-by-step", StepByStepConfig, needs_rationale=True))
METHODS.register("single-task", SingleTask("single-task", SingleTaskConfig, needs_rationale=True))


def get_method(name: str) -> TrainingMethod:
    """The method registered under ``name`` (UnknownNameError lists the methods)."""
    return METHODS.get(name)


def make_config(method: str, **overrides) -> TrainConfig:
    """The config of ``method`` with ``overrides``; rejects fields the method does not have."""
    config_class = get_method(method).config_class
    unknown = sorted(set(overrides) - config_class.field_names())
    if unknown:
        raise ValueError(
            f"{method} has no setting {', '.join(unknown)}; "
            f"its settings: {', '.join(sorted(config_class.field_names()))}"
        )
    return config_class(**overrides)
