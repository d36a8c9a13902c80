"""Label kinds: what a valid label of a task looks like, its canonical spelling, which labels
mean the same answer (for voting), and what is worth reporting about a teacher's labels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from stepdistill.evaluation.equation import equation_value, evaluate_equation
from stepdistill.evaluation.metrics import get_metric, normalize_text
from stepdistill.evaluation.numbers import canonical_number, number_value
from stepdistill.registry import Registry


@dataclass(frozen=True)
class CheckedLabel:
    """A label in canonical form, or why the text is not a valid label."""

    label: str | None
    error: str | None = None


class _TextVote:
    """Labels that differ only in case, white space or a final period are the same answer.

    Every label kind also says how a task file names it (``file_key``), which metric scores it
    unless a task names another (``default_metric``), and where its label sits after the answer
    marker of a teacher completion (``label_regex``).
    """

    file_key: ClassVar[str]
    default_metric: ClassVar[str] = "exact_match"
    label_regex: ClassVar[str] = r"(?P<label>[^\n]+)"

    def vote_key(self, label: str) -> str:
        return normalize_text(label).casefold()

    def extra_accuracies(
        self, predictions: Sequence[str | None], references: Sequence[str | None]
    ) -> dict[str, float]:
        """Accuracies worth reporting beside the task's metric (none by default)."""
        return {}

    def answer_format(self) -> str:
        """How a teacher is asked to write the answer, so that ``check`` can read it."""
        return "a short answer"


@dataclass(frozen=True)
class ClosedSet(_TextVote):
    """One of a fixed list of labels (NLI: entailment / neutral / contradiction).

    Matching ignores case, outer white space and a final period; the canonical spelling is
    the one in ``labels``.
    """

    labels: tuple[str, ...]
    name: ClassVar[str] = "closed_set"
    file_key: ClassVar[str] = "choice"

    def check(self, text: str) -> CheckedLabel:
        wanted = normalize_text(text).casefold()
        for label in self.labels:
            if label.casefold() == wanted:
                return CheckedLabel(label)
        return CheckedLabel(None, f"{text.strip()[:60]!r} is not one of {', '.join(self.labels)}")

    def answer_format(self) -> str:
        return "one of: " + ", ".join(self.labels)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClosedSet:
        return cls(tuple(data["labels"]))


@dataclass(frozen=True)
class AnswerText(_TextVote):
    """Free answer text (CommonsenseQA: the text of the chosen answer)."""

    name: ClassVar[str] = "answer_text"
    file_key: ClassVar[str] = "text"
    labels: ClassVar[tuple[str, ...] | None] = None

    def check(self, text: str) -> CheckedLabel:
        label = normalize_text(text)
        return CheckedLabel(label) if label else CheckedLabel(None, "empty label")

    def extra_accuracies(
        self, predictions: Sequence[str | None], references: Sequence[str | None]
    ) -> dict[str, float]:
        # The reference compares case-sensitively; free answer text also differs only in case.
        casefold = get_metric("exact_match_casefold")
        return {"accuracy_ignoring_case": casefold.accuracy(predictions, references)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AnswerText:
        return cls()


@dataclass(frozen=True)
class Equation(_TextVote):
    """An arithmetic expression whose value is the answer (SVAMP: ``( 84.0 / 2.0 )``)."""

    name: ClassVar[str] = "equation"
    file_key: ClassVar[str] = "equation"
    default_metric: ClassVar[str] = "equation"
    label_regex: ClassVar[str] = r"\(.*\)"
    labels: ClassVar[tuple[str, ...] | None] = None

    def check(self, text: str) -> CheckedLabel:
        label = text.strip()
        result = evaluate_equation(label)
        if not result.ok:
            return CheckedLabel(None, f"not a valid arithmetic expression ({result.error})")
        return CheckedLabel(label)

    def answer_format(self) -> str:
        return "an arithmetic expression in parentheses, such as (12 + 5) * 3"

    def vote_key(self, label: str) -> str:
        """Expressions with equal values are the same answer."""
        value = equation_value(label)
        return f"{value:.9g}" if value is not None else label

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Equation:
        return cls()


@dataclass(frozen=True)
class Number(_TextVote):
    """A numeric answer (GSM8K-style): "42", "$1,200" or "3.5 hours", scored with a tolerance;
    the canonical label is the number alone ("1200", "3.5")."""

    name: ClassVar[str] = "number"
    file_key: ClassVar[str] = "number"
    default_metric: ClassVar[str] = "number"
    labels: ClassVar[tuple[str, ...] | None] = None

    def check(self, text: str) -> CheckedLabel:
        value = number_value(text)
        if value is None:
            return CheckedLabel(None, f"no number in {text.strip()[:60]!r}")
        return CheckedLabel(canonical_number(value))

    def answer_format(self) -> str:
        return "a number"

    def vote_key(self, label: str) -> str:
        value = number_value(label)
        return f"{value:.9g}" if value is not None else label

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Number:
        return cls()


LabelKind = ClosedSet | AnswerText | Equation | Number

# saved name (stepdistill.json) -> kind; task-file name (choice, text, ...) -> kind
LABEL_KINDS: Registry[type] = Registry("label kind")
TASK_FILE_LABEL_KINDS: Registry[type] = Registry("label_kind")
for _kind in (ClosedSet, AnswerText, Equation, Number):
    LABEL_KINDS.register(_kind.name, _kind)
    TASK_FILE_LABEL_KINDS.register(_kind.file_key, _kind)


def label_kind_to_dict(kind: LabelKind) -> dict[str, object]:
    return {"name": kind.name, "labels": list(kind.labels) if kind.labels else None}


def label_kind_from_dict(data: dict[str, Any]) -> LabelKind:
    """Rebuild a label kind saved by ``label_kind_to_dict``."""
    kind_class: Any = LABEL_KINDS.get(str(data.get("name")))
    return kind_class.from_dict(data)
