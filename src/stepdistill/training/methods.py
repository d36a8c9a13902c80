"""What each training method asks the student to learn, how it reads a prediction back, and
how it describes itself."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from stepdistill.data.label_sources import LABEL_SOURCES
from stepdistill.registry import Registry
from stepdistill.schema import Example
from stepdistill.tasks.base import AnswerPattern, Task
from stepdistill.tasks.parsing import parse_completion
from stepdistill.training.config import (
    SingleTaskConfig,
    StandardConfig,
    StepByStepConfig,
    TrainConfig,
)
from stepdistill.training.input_modes import (
    LABEL_TASK,
    RATIONALE_TASK,
    InputMode,
    InputPrefixes,
    SharedInput,
    TaskPairs,
)


def training_label(example: Example, label_source: str) -> str | None:
    """The label a student learns from: gold, or the teacher's if it parsed."""
    return LABEL_SOURCES.get(label_source).label(example)


def usable_rationale(example: Example) -> str | None:
    """The teacher's rationale, if its completion parsed and no filter set it aside."""
    record = example.teacher
    if record is None or not record.usable or not (record.rationale or "").strip():
        return None
    return record.rationale.strip()


@dataclass(frozen=True)
class TrainingMethod:
    """A method: its config class, the task pairs it trains on, how its inputs reach the
    student (``input_mode``), how it reads predictions and how it describes itself."""

    name: str
    config_class: type[TrainConfig]
    needs_rationale: bool

    def pairs(self, example: Example, config: TrainConfig) -> TaskPairs:
        """The (source, target) pair of each task for one usable example."""
        raise NotImplementedError

    def describe(self, config: TrainConfig) -> str:
        """One line for model cards and reports."""
        raise NotImplementedError

    def input_mode(self, config: TrainConfig) -> InputMode:
        """How the tasks' inputs reach the student (chosen here, once)."""
        return InputPrefixes()

    def loss_weights(self, config: TrainConfig) -> dict[str, float]:
        return {LABEL_TASK: 1.0}

    def label_source_text(self, text: str, config: TrainConfig) -> str:
        """The model input that asks for the label (the only task run at inference)."""
        return self.input_mode(config).source(LABEL_TASK, text)

    def label_output_prefix(self, config: TrainConfig) -> str:
        """Text the student's output starts with before the label (given, not generated)."""
        return self.input_mode(config).output_prefix(LABEL_TASK)

    def rationale_request(self, text: str, config: TrainConfig) -> tuple[str, str] | None:
        """(model input, output prefix) that asks for a rationale alone, or None if the
        method has no rationale task."""
        return None

    def read_output(
        self, generated: str, task: Task, config: TrainConfig
    ) -> tuple[str | None, str | None]:
        """(label, rationale) in what the label request generated.

        Labels are one line; a student that runs on past its label is read up to the newline.
        The label is its canonical form if valid, else the text itself; no rationale.
        """
        first_line = generated.strip().split("\n", 1)[0]
        checked = task.label_kind.check(first_line)
        return (checked.label if checked.label is not None else first_line.strip()), None

    def read_label(self, generated: str, task: Task, config: TrainConfig) -> str | None:
        """The label in what the label request generated."""
        return self.read_output(generated, task, config)[0]

    def scores_candidate_labels(self) -> bool:
        """Whether the label request's target is the label alone, so that candidate labels
        can be scored as targets."""
        return True

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

    def describe(self, config: TrainConfig) -> str:
        return "standard: input to label"


class StepByStep(TrainingMethod):
    def pairs(self, example: Example, config: StepByStepConfig) -> TaskPairs:
        mode = self.input_mode(config)
        return {
            LABEL_TASK: (
                mode.source(LABEL_TASK, example.input),
                training_label(example, config.label_source),
            ),
            RATIONALE_TASK: (
                mode.source(RATIONALE_TASK, example.input),
                usable_rationale(example),
            ),
        }

    def input_mode(self, config: StepByStepConfig) -> InputMode:
        prefixes = {LABEL_TASK: config.label_prefix, RATIONALE_TASK: config.rationale_prefix}
        return SharedInput(prefixes) if config.shared_input else InputPrefixes(prefixes)

    def loss_weights(self, config: StepByStepConfig) -> dict[str, float]:
        return {LABEL_TASK: config.alpha, RATIONALE_TASK: 1.0 - config.alpha}

    def rationale_request(self, text: str, config: StepByStepConfig) -> tuple[str, str] | None:
        mode = self.input_mode(config)
        return mode.source(RATIONALE_TASK, text), mode.output_prefix(RATIONALE_TASK)

    def describe(self, config: StepByStepConfig) -> str:
        markers = (
            "task markers on the output side (shared input)"
            if config.shared_input
            else f"input prefixes {config.label_prefix!r} and {config.rationale_prefix!r}"
        )
        return (
            f"distilling step-by-step, loss = {config.alpha} label + {1 - config.alpha:g} "
            f"rationale, {markers}"
        )


class SingleTask(TrainingMethod):
    def pairs(self, example: Example, config: SingleTaskConfig) -> TaskPairs:
        label = training_label(example, config.label_source)
        target = f"{usable_rationale(example)} {config.answer_marker} {label}"
        return {LABEL_TASK: (example.input, target)}

    def read_output(
        self, generated: str, task: Task, config: SingleTaskConfig
    ) -> tuple[str | None, str | None]:
        """The rationale and the label after the last answer marker: one generation gives both."""
        pattern = AnswerPattern(answer_marker=re.escape(config.answer_marker))
        parsed = parse_completion(generated, pattern, task.label_kind)
        return parsed.label, parsed.rationale

    def scores_candidate_labels(self) -> bool:
        return False  # the label comes after a generated rationale

    def describe(self, config: SingleTaskConfig) -> str:
        return "single-task: one target, the rationale then the label"


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
