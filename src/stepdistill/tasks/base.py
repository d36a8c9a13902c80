"""The ``Task`` spec: how rows become inputs, what labels look like, how answers are scored."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stepdistill.errors import DataError
from stepdistill.evaluation.metrics import Metric, get_metric
from stepdistill.tasks.labels import LabelKind


@dataclass(frozen=True)
class AnswerPattern:
    """Where the answer sits in a chain-of-thought completion.

    Attributes:
        answer_marker: Regex of the phrase that introduces the answer ("So the answer is").
            The last match wins; the text before it is the rationale.
        label_regex: Regex applied to the text after the marker; its ``label`` group (or the
            whole match) is the label.
        stop_markers: Strings that start a further few-shot exemplar; the completion is cut at
            the first of them, because raw LLM output often runs on into a new question.
    """

    answer_marker: str
    label_regex: str = r"(?P<label>[^\n]+)"
    stop_markers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("answer_marker", "label_regex"):
            try:
                re.compile(getattr(self, name))
            except re.error as error:
                raise ValueError(f"AnswerPattern.{name} is not a valid regex: {error}") from None


@dataclass(frozen=True)
class PaperLayout:
    """Where a task lives in the reference implementation's ``datasets/`` folder.

    Files: ``<folder>/<folder>_<split>.json`` (JSON lines) and
    ``<folder>/llm/<split>_CoT_<i>.json`` (lists of raw completions, ``cot_batch_size`` each).
    """

    folder: str
    cot_batch_size: int
    teacher: str = "palm-540b"


@dataclass(frozen=True)
class Task:
    """Everything stepdistill needs to know about one task.

    Attributes:
        name: Registry name.
        description: One line for listings.
        input_template: ``str.format`` template over a raw row's fields; ``{sep}`` stands for
            the separator given at load time (the reference joins NLI premise and hypothesis
            with the tokenizer's end-of-sequence token).
        label_field: Raw row field holding the gold label.
        label_kind: ClosedSet, AnswerText or Equation.
        metric_name: Name of the metric in ``METRICS`` used for accuracy.
        answer_pattern: How to find rationale and label in a teacher completion.
        label_names: For integer gold labels, the text of each class index.
        id_field: Raw row field holding a stable id, if the data has one.
        paper: The reference data layout, for the paper's tasks.
        label_map: Raw label value (as text) -> label, for data whose labels are codes
            (``{"0": "entailment"}``); keys match whether the file holds a number or text.
        input_column: The raw field that is the input as it is (instead of a template).
        instruction: What the teacher is asked to do (the first line of its prompt).
        style: The name of the teacher prompt style written for this task (the paper's tasks);
            None: a style is derived from the task (answer format from its label kind).
    """

    name: str
    description: str
    input_template: str
    label_field: str
    label_kind: LabelKind
    metric_name: str
    answer_pattern: AnswerPattern
    label_names: tuple[str, ...] | None = None
    id_field: str | None = None
    paper: PaperLayout | None = None
    label_map: Mapping[str, str] | None = None
    input_column: str | None = None
    instruction: str = ""
    style: str | None = None

    def __post_init__(self) -> None:
        get_metric(self.metric_name)  # fail at definition time, listing the metrics

    @property
    def metric(self) -> Metric:
        return get_metric(self.metric_name)

    @property
    def label_space(self) -> tuple[str, ...] | None:
        """The closed set of labels, or None for open-ended labels."""
        return self.label_kind.labels

    def format_input(self, row: Mapping[str, Any], *, sep: str = "\n") -> str:
        """Build the model input from a raw row. Raises DataError naming a missing field."""
        if self.input_column is not None:
            if self.input_column not in row:
                raise DataError(
                    f"task {self.name!r}: row has no input column {self.input_column!r}; "
                    f"fields present: {', '.join(map(str, row))}"
                )
            return str(row[self.input_column])
        try:
            return self.input_template.format_map({**row, "sep": sep})
        except (KeyError, IndexError) as error:
            raise DataError(
                f"task {self.name!r}: row is missing {error} needed by input template "
                f"{self.input_template!r}; fields present: {', '.join(sorted(map(str, row)))}"
            ) from None
        except (TypeError, ValueError, AttributeError) as error:  # e.g. "choices": 5
            raise DataError(
                f"task {self.name!r}: a field of the row has the wrong type for input template "
                f"{self.input_template!r} ({error})"
            ) from None

    def gold_label(self, row: Mapping[str, Any]) -> str:
        """The gold label of a raw row as text (class indices mapped through ``label_names``)."""
        if self.label_field not in row:
            raise DataError(
                f"task {self.name!r}: row has no label field {self.label_field!r}; "
                f"fields present: {', '.join(sorted(row))}"
            )
        value = row[self.label_field]
        if self.label_map is not None:
            key = str(value).strip()
            if key not in self.label_map:
                raise DataError(
                    f"task {self.name!r}: label {value!r} is not a key of label_map "
                    f"({', '.join(self.label_map)})"
                )
            return self.label_map[key]
        if self.label_names is not None and isinstance(value, int) and not isinstance(value, bool):
            if not 0 <= value < len(self.label_names):
                raise DataError(
                    f"task {self.name!r}: label index {value} is outside "
                    f"0..{len(self.label_names) - 1}"
                )
            return self.label_names[value]
        return str(value)
