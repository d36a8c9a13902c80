"""Label kinds: what a valid label of a task looks like, its canonical spelling, which labels
mean the same answer (for voting), and what is worth reporting about a teacher's labels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from stepdistill.evaluation.equation import equation_value, evaluate_equation
from stepdistill.evaluation.metrics import get_metric, normalize_text
from stepdistill.registry import Registry


@dataclass(frozen=True)
class CheckedLabel:
    """A label in canonical form, or why the text is not a valid label."""

    label: str | None
    error: str | None = None


class _TextVote:
    """Labels that differ only in case, white space or a final period are the same answer."""

    def vote_key(self, label: str) -> str:
        return normalize_text(label).casefold()

    def extra_accuracies(
        self, predictions: Sequence[str | None], references: Sequence[str | None]
    ) -> dict[str, float]:
        """Accuracies worth reporting beside the task's metric (none by default)."""
        return {}


@dataclass(frozen=True)
class ClosedSet(_TextVote):
    """One of a fixed list of labels (NLI: entailment / neutral / contradiction).

    Matching ignores case, outer white space and a final period; the canonical spelling is
    the one in ``labels``.
    """

    labels: tuple[str, ...]
    name: ClassVar[str] = "closed_set"

    def check(self, text: str) -> CheckedLabel:
        wanted = normalize_text(text).casefold()
        for label in self.labels:
            if label.casefold() == wanted:
                return CheckedLabel(label)
        return CheckedLabel(None, f"{text.strip()[:60]!r} is not one of {', '.join(self.labels)}")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClosedSet:
        return cls(tuple(data["labels"]))


@dataclass(frozen=True)
class AnswerText(_TextVote):
    """Free answer text (CommonsenseQA: the text of the chosen answer)."""

    name: ClassVar[str] = "answer_text"
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
    labels: ClassVar[tuple[str, ...] | None] = None

    def check(self, text: str) -> CheckedLabel:
        label = text.strip()
        result = evaluate_equation(label)
        if not result.ok:
            return CheckedLabel(None, f"not a valid arithmetic expression ({result.error})")
        return CheckedLabel(label)

    def vote_key(self, label: str) -> str:
        """Expressions with equal values are the same answer."""
        value = equation_value(label)
        return f"{value:.9g}" if value is not None else label

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Equation:
        return cls()


LabelKind = ClosedSet | AnswerText | Equation

LABEL_KINDS: Registry[type] = Registry("label kind")
for _kind in (ClosedSet, AnswerText, Equation):
    LABEL_KINDS.register(_kind.name, _kind)


def label_kind_to_dict(kind: LabelKind) -> dict[str, object]:
    return {"name": kind.name, "labels": list(kind.labels) if kind.labels else None}


def label_kind_from_dict(data: dict[str, Any]) -> LabelKind:
    """Rebuild a label kind saved by ``label_kind_to_dict``."""
    return LABEL_KINDS.get(data.get("name")).from_dict(data)
