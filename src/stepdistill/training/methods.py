"""What each training method asks the student to learn, how it reads a prediction back, and
how it describes itself."""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from stepdistill.config_file import check_types
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
    LABEL_OBJECTIVE,
    RATIONALE_OBJECTIVE,
    InputMode,
    InputPrefixes,
    ObjectivePairs,
    SharedInput,
)


def training_label(example: Example, label_source: str) -> str | None:
    """The label a student learns from: gold, or the teacher's if it parsed."""
    return LABEL_SOURCES.get(label_source).label(example)


def label_of(example: Example, config: TrainConfig) -> str:
    """The training label of an example that ``build`` kept (so it has one)."""
    return training_label(example, config.label_source) or ""


def shuffled_words(text: str, seed: int, key: str) -> str:
    """``text`` with its words permuted: the same permutation for the same seed and key, on
    every machine (a string seeds ``random`` through SHA-512)."""
    words = text.split()
    random.Random(f"{seed}:{key}").shuffle(words)
    return " ".join(words)


def usable_rationale(example: Example) -> str | None:
    """The teacher's rationale, if its completion parsed and no filter set it aside."""
    record = example.teacher
    if record is None or not record.usable:
        return None
    return (record.rationale or "").strip() or None


ConfigT = TypeVar("ConfigT", bound=TrainConfig)


@dataclass(frozen=True)
class TrainingMethod(Generic[ConfigT]):
    """A method: its config class, the task pairs it trains on, how its inputs reach the
    student (``input_mode``), how it reads predictions and how it describes itself."""

    name: str
    config_class: type[ConfigT]
    needs_rationale: bool

    def pairs(self, example: Example, config: ConfigT) -> ObjectivePairs:
        """The (source, target) pair of each task for one usable example."""
        raise NotImplementedError

    def describe(self, config: ConfigT) -> str:
        """One line for model cards and reports."""
        raise NotImplementedError

    def input_mode(self, config: ConfigT) -> InputMode:
        """How the tasks' inputs reach the student (chosen here, once)."""
        return InputPrefixes()

    def loss_weights(self, config: ConfigT) -> dict[str, float]:
        return {LABEL_OBJECTIVE: 1.0}

    def label_source_text(self, text: str, config: ConfigT) -> str:
        """The model input that asks for the label (the only task run at inference)."""
        return self.input_mode(config).source(LABEL_OBJECTIVE, text)

    def label_output_prefix(self, config: ConfigT) -> str:
        """Text the student's output starts with before the label (given, not generated)."""
        return self.input_mode(config).output_prefix(LABEL_OBJECTIVE)

    def rationale_request(self, text: str, config: ConfigT) -> tuple[str, str] | None:
        """(model input, output prefix) that asks for a rationale alone, or None if the
        method has no rationale task."""
        return None

    def read_output(
        self, generated: str, task: Task, config: ConfigT
    ) -> tuple[str | None, str | None]:
        """(label, rationale) in what the label request generated.

        Labels are one line; a student that runs on past its label is read up to the newline.
        The label is its canonical form if valid, else the text itself; no rationale.
        """
        first_line = generated.strip().split("\n", 1)[0]
        checked = task.label_kind.check(first_line)
        return (checked.label if checked.label is not None else first_line.strip()), None

    def read_label(self, generated: str, task: Task, config: ConfigT) -> str | None:
        """The label in what the label request generated."""
        return self.read_output(generated, task, config)[0]

    def scores_candidate_labels(self) -> bool:
        """Whether the label request's target is the label alone, so that candidate labels
        can be scored as targets."""
        return True

    def build(
        self, examples: Sequence[Example], config: ConfigT
    ) -> tuple[list[ObjectivePairs], dict[str, int]]:
        """Task pairs for every usable example, and counts of what was kept and why not: ``used``
        the examples of the label objective, and each other objective's examples under its
        name (``rationale``: the examples whose rationale trains)."""
        kept: list[ObjectivePairs] = []
        counts: Counter[str] = Counter()
        for example in examples:
            reason = self.skip_reason(example, config)
            if reason is not None:
                counts[reason] += 1
                continue
            pairs = self.pairs(example, config)
            kept.append(pairs)
            counts["used"] += 1
            counts.update(objective for objective in pairs if objective != LABEL_OBJECTIVE)
        return kept, {"used": 0, **counts}

    def skip_reason(self, example: Example, config: ConfigT) -> str | None:
        """Why ``build`` leaves an example out (a count's name), or None when it is used."""
        if training_label(example, config.label_source) is None:
            return "skipped_no_label"
        if self.requires_rationale(config) and usable_rationale(example) is None:
            return "skipped_no_rationale"
        return None

    def requires_rationale(self, config: ConfigT) -> bool:
        """Whether an example without a usable rationale is left out (else it trains the
        objectives it has)."""
        return self.needs_rationale

    def used_labels(self, examples: Sequence[Example], config: ConfigT) -> list[str]:
        """The training labels of the examples ``build`` uses."""
        return [
            label_of(example, config)
            for example in examples
            if self.skip_reason(example, config) is None
        ]


class Standard(TrainingMethod[StandardConfig]):
    def pairs(self, example: Example, config: StandardConfig) -> ObjectivePairs:
        return {LABEL_OBJECTIVE: (example.input, label_of(example, config))}

    def describe(self, config: StandardConfig) -> str:
        return "standard: input to label"


class StepByStep(TrainingMethod[StepByStepConfig]):
    def pairs(self, example: Example, config: StepByStepConfig) -> ObjectivePairs:
        """Both objectives, or the label objective alone when the example has no usable
        rationale (partial rationale supervision)."""
        mode = self.input_mode(config)
        pairs = {
            LABEL_OBJECTIVE: (
                mode.source(LABEL_OBJECTIVE, example.input),
                label_of(example, config),
            )
        }
        if usable_rationale(example) is not None:
            pairs[RATIONALE_OBJECTIVE] = (
                mode.source(RATIONALE_OBJECTIVE, example.input),
                self.rationale_target(example, config),
            )
        return pairs

    def requires_rationale(self, config: StepByStepConfig) -> bool:
        return config.rationale_required

    def rationale_target(self, example: Example, config: StepByStepConfig) -> str:
        """The rationale to learn: as the teacher wrote it, or (the control) its words shuffled."""
        rationale = usable_rationale(example) or ""
        if config.rationale_shuffle_seed is None:
            return rationale
        return shuffled_words(rationale, config.rationale_shuffle_seed, example.id)

    def input_mode(self, config: StepByStepConfig) -> InputMode:
        prefixes = {
            LABEL_OBJECTIVE: config.label_prefix,
            RATIONALE_OBJECTIVE: config.rationale_prefix,
        }
        return SharedInput(prefixes) if config.shared_input else InputPrefixes(prefixes)

    def loss_weights(self, config: StepByStepConfig) -> dict[str, float]:
        return {LABEL_OBJECTIVE: config.alpha, RATIONALE_OBJECTIVE: 1.0 - config.alpha}

    def rationale_request(self, text: str, config: StepByStepConfig) -> tuple[str, str] | None:
        mode = self.input_mode(config)
        return mode.source(RATIONALE_OBJECTIVE, text), mode.output_prefix(RATIONALE_OBJECTIVE)

    def describe(self, config: StepByStepConfig) -> str:
        markers = (
            "task markers on the output side (shared input)"
            if config.shared_input
            else f"input prefixes {config.label_prefix!r} and {config.rationale_prefix!r}"
        )
        control = (
            ""
            if config.rationale_shuffle_seed is None
            else f"; control: rationale words shuffled (seed {config.rationale_shuffle_seed})"
        )
        examples = (
            "examples with a usable rationale only"
            if config.rationale_required
            else "every labeled example, its rationale where usable"
        )
        return (
            f"distilling step-by-step, loss = {config.alpha} label + {1 - config.alpha:g} "
            f"rationale, {markers}, {examples}{control}"
        )


class SingleTask(TrainingMethod[SingleTaskConfig]):
    def pairs(self, example: Example, config: SingleTaskConfig) -> ObjectivePairs:
        label = training_label(example, config.label_source)
        if config.label_first:
            target = f"{label}\n{usable_rationale(example)}"
        else:
            target = f"{usable_rationale(example)} {config.answer_marker} {label}"
        return {LABEL_OBJECTIVE: (example.input, target)}

    def read_output(
        self, generated: str, task: Task, config: SingleTaskConfig
    ) -> tuple[str | None, str | None]:
        """The rationale and the label after the last answer marker (label first: the label on
        the first line, the rationale after it): one generation gives both."""
        if config.label_first:
            label, _ = super().read_output(generated, task, config)
            rest = generated.strip().split("\n", 1)
            return label, rest[1].strip() if len(rest) > 1 else None
        pattern = AnswerPattern(answer_marker=re.escape(config.answer_marker))
        parsed = parse_completion(generated, pattern, task.label_kind)
        return parsed.label, parsed.rationale

    def scores_candidate_labels(self) -> bool:
        return False  # the label comes after a generated rationale

    def describe(self, config: SingleTaskConfig) -> str:
        if config.label_first:
            return "single-task: one target, the label then the rationale (control)"
        return "single-task: one target, the rationale then the label"


METHODS: Registry[TrainingMethod[Any]] = Registry("training method")
METHODS.register("standard", Standard("standard", StandardConfig, needs_rationale=False))
METHODS.register("step-by-step", StepByStep("step-by-step", StepByStepConfig, needs_rationale=True))
METHODS.register("single-task", SingleTask("single-task", SingleTaskConfig, needs_rationale=True))


def get_method(name: str) -> TrainingMethod[Any]:
    """The method registered under ``name`` (UnknownNameError lists the methods)."""
    return METHODS.get(name)


def make_config(method: str, **overrides: Any) -> TrainConfig:
    """The config of ``method`` with ``overrides``; rejects fields the method does not have."""
    config_class = get_method(method).config_class
    unknown = sorted(set(overrides) - config_class.field_names())
    if unknown:
        raise ValueError(
            f"{method} has no setting {', '.join(unknown)}; "
            f"its settings: {', '.join(sorted(config_class.field_names()))}"
        )
    check_types(config_class, overrides)
    return config_class(**overrides)
