"""Label kinds: what a valid label of a task looks like, and its canonical spelling."""

from __future__ import annotations

from dataclasses import dataclass

from stepdistill.evaluation.equation import evaluate_equation
from stepdistill.evaluation.metrics import normalize_text


@dataclass(frozen=True)
class CheckedLabel:
    """A label in canonical form, or why the text is not a valid label."""

    label: str | None
    error: str | None = None


@dataclass(frozen=True)
class ClosedSet:
    """One of a fixed list of labels (NLI: entailment / neutral / contradiction).

    Matching ignores case, outer white space and a final period; the canonical spelling is
    the one in ``labels``.
    """

    labels: tuple[str, ...]
    name: str = "closed_set"

    def check(self, text: str) -> CheckedLabel:
        wanted = normalize_text(text).casefold()
        for label in self.labels:
            if label.casefold() == wanted:
                return CheckedLabel(label)
        return CheckedLabel(None, f"{text.strip()[:60]!r} is not one of {', '.join(self.labels)}")


@dataclass(frozen=True)
class AnswerText:
    """Free answer text (CommonsenseQA: the text of the chosen answer)."""

    name: str = "answer_text"
    labels: tuple[str, ...] | None = None

    def check(self, text: str) -> CheckedLabel:
        label = normalize_text(text)
        return CheckedLabel(label) if label else CheckedLabel(None, "empty label")


@dataclass(frozen=True)
class Equation:
    """An arithmetic expression whose value is the answer (SVAMP: ``( 84.0 / 2.0 )``)."""

    name: str = "equation"
    labels: tuple[str, ...] | None = None

    def check(self, text: str) -> CheckedLabel:
        label = text.strip()
        result = evaluate_equation(label)
        if not result.ok:
            return CheckedLabel(None, f"not a valid arithmetic expression ({result.error})")
        return CheckedLabel(label)


LabelKind = ClosedSet | AnswerText | Equation


def label_kind_to_dict(kind: LabelKind) -> dict[str, object]:
    return {"name": kind.name, "labels": list(kind.labels) if kind.labels else None}


def label_kind_from_dict(data: dict[str, object]) -> LabelKind:
    """Rebuild a label kind saved by ``label_kind_to_dict``."""
    name = data.get("name")
    if name == "closed_set":
        return ClosedSet(tuple(data["labels"]))
    if name == "equation":
        return Equation()
    if name == "answer_text":
        return AnswerText()
    raise ValueError(f"unknown label kind {name!r}; known: answer_text, closed_set, equation")
