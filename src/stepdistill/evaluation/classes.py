"""Results that mean nothing, said so: class balance, the majority-class baseline and the
confusion matrix of a closed label set.

A teacher that calls almost everything one class, a student trained on one class, or a student
that predicts one class for every input all produce an accuracy that reads like a result (the
class's share). These checks turn each case into a warning a user can act on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from stepdistill.evaluation.paired import HELPED, Comparison, compare_correctness

DOMINANT_SHARE = 0.8  # labels "dominated by one class" from this share up
ONE_CLASS_SHARE = 0.95  # a student predicts "one class for (nearly) every input" from here
OTHER = "(other)"  # a prediction outside the label set, in a confusion matrix


def majority(gold: Sequence[str]) -> tuple[str, float]:
    """The most frequent gold label and its share: the accuracy of always predicting it."""
    label, count = Counter(gold).most_common(1)[0]
    return label, count / len(gold)


def confusion(
    gold: Sequence[str], predicted: Sequence[str | None], labels: Sequence[str]
) -> dict[str, dict[str, int]]:
    """gold label -> predicted label -> count; a prediction outside ``labels`` is ``OTHER``."""
    columns = [*labels, OTHER]
    matrix = {label: dict.fromkeys(columns, 0) for label in labels}
    for truth, guess in zip(gold, predicted, strict=True):
        if truth in matrix:
            matrix[truth][guess if guess is not None and guess in labels else OTHER] += 1
    return matrix


def coverage_warnings(
    what: str, counts: Mapping[str, int], label_space: Sequence[str]
) -> list[str]:
    """Warnings when labels counted in ``counts`` (kept teacher labels, training labels) cover
    fewer classes than the task has, or one class holds ``DOMINANT_SHARE`` of them or more."""
    counts = Counter(counts)
    total = sum(counts.values())
    if total == 0:
        return []
    warnings = []
    missing = [label for label in label_space if counts[label] == 0]
    if missing:
        warnings.append(
            f"{what} cover {len(label_space) - len(missing)} of {len(label_space)} classes "
            f"(none is {', '.join(map(repr, missing))}): a student cannot learn a class it never "
            "sees"
        )
    label, count = counts.most_common(1)[0]
    if count / total >= DOMINANT_SHARE and len(label_space) > 1:
        warnings.append(
            f"{what}: {count} of {total} ({count / total:.0%}) are {label!r}; a student trained "
            "on them learns to answer that class"
        )
    return warnings


def one_class_share(predicted: Sequence[str | None]) -> tuple[str | None, float]:
    """The most frequent prediction and its share of all predictions."""
    label, count = Counter(predicted).most_common(1)[0]
    return label, count / len(predicted)


def label_counts(labels: Iterable[str | None]) -> dict[str, int]:
    """How often each label occurs (None left out), most frequent first."""
    return dict(Counter(label for label in labels if label is not None).most_common())


def confusion_rows(matrix: Mapping[str, Mapping[str, int]]) -> list[list[object]]:
    """A confusion matrix as table rows: the gold label, then one count per predicted label."""
    return [[truth, *row.values()] for truth, row in matrix.items()]


@dataclass(frozen=True)
class ClassReport:
    """One method's answers (one list per seed) against the classes of a closed label set."""

    method: str
    majority_label: str
    majority_accuracy: float
    versus_majority: Comparison
    most_predicted: str | None
    most_predicted_share: float  # the largest share over seeds
    confusion: dict[str, dict[str, int]]  # summed over seeds
    warnings: list[str]

    def to_dict(self) -> dict[str, object]:
        return {
            "majority_label": self.majority_label,
            "majority_accuracy": self.majority_accuracy,
            "versus_majority": self.versus_majority.to_dict(),
            "most_predicted": self.most_predicted,
            "most_predicted_share": self.most_predicted_share,
            "confusion": self.confusion,
            "warnings": self.warnings,
        }


def class_report(
    method: str,
    gold: Sequence[str],
    predicted: Sequence[Sequence[str | None]],
    correct: Sequence[Sequence[bool]],
    labels: Sequence[str],
) -> ClassReport:
    """The majority-class baseline (a paired verdict against always answering it), the
    confusion matrix summed over seeds, and the warnings, from each seed's answers."""
    label, share = majority(gold)
    always = [truth == label for truth in gold]
    versus = compare_correctness(
        correct, [always for _ in correct], names=(method, f"always {label!r}")
    )
    most, most_share = max((one_class_share(seed) for seed in predicted), key=lambda p: p[1])
    matrix = confusion(gold, predicted[0], labels)
    for seed in predicted[1:]:
        for truth, row in confusion(gold, seed, labels).items():
            for guess, count in row.items():
                matrix[truth][guess] += count
    warnings = []
    if most_share >= ONE_CLASS_SHARE:
        warnings.append(
            f"{method} gives one answer, {most!r}, for {most_share:.0%} of the inputs: it "
            "learned to repeat it, not the task"
        )
    if versus.verdict != HELPED:
        warnings.append(
            f"{method} does not beat always answering {label!r} ({share:.4f}) beyond the noise: "
            f"{versus.line()}"
        )
    return ClassReport(method, label, share, versus, most, most_share, matrix, warnings)


__all__ = [
    "DOMINANT_SHARE",
    "ONE_CLASS_SHARE",
    "OTHER",
    "ClassReport",
    "class_report",
    "confusion",
    "confusion_rows",
    "coverage_warnings",
    "label_counts",
    "majority",
    "one_class_share",
]
