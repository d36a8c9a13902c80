"""Verdicts of trained folders: did one method beat another on the same test examples?

Reads each folder's ``predictions_test.jsonl`` (so it works on any trained folder, from
``train``, ``run``, ``experiment`` or the demo), pairs the i-th folder of each side as one seed,
and hands the per-example correctness to ``evaluation.paired`` (the statistics and why they
are the right ones are written there).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from stepdistill.errors import StepdistillError
from stepdistill.evaluation.classes import ClassReport
from stepdistill.evaluation.classes import class_report as report_classes
from stepdistill.evaluation.paired import Comparison, accuracy_interval, compare_correctness
from stepdistill.models.folder import read_info, read_test_predictions

BASELINE_METHOD = "standard"  # what every other method is compared with, by default


@dataclass(frozen=True)
class TestOutcomes:
    """One trained folder's test predictions: its task, and per example id its gold label and
    whether the prediction was right."""

    folder: Path
    task: str
    method: str
    gold: dict[str, str]
    correct: dict[str, bool]
    predicted: dict[str, str | None]
    label_space: tuple[str, ...] | None


def read_outcomes(folder: str | Path) -> TestOutcomes:
    """The test outcomes of one trained folder.

    Raises:
        StepdistillError: not a trained folder, or no test predictions in it.
    """
    folder = Path(folder)
    info = read_info(folder)
    rows = read_test_predictions(folder)
    return TestOutcomes(
        folder=folder,
        task=info.task.name,
        method=info.method,
        gold={str(row["id"]): str(row["label"]) for row in rows},
        correct={str(row["id"]): bool(row["correct"]) for row in rows},
        predicted={str(row["id"]): row.get("prediction") for row in rows},
        label_space=tuple(info.task.label_space) if info.task.label_space else None,
    )


def _check_same_test_set(outcomes: Sequence[TestOutcomes]) -> list[str]:
    """The example ids every folder was tested on (in the first folder's order); an error
    naming the first folder that differs in task, examples or gold labels."""
    first = outcomes[0]
    for other in outcomes[1:]:
        if other.task != first.task:
            raise StepdistillError(
                f"{other.folder} is task {other.task!r}, {first.folder} is {first.task!r}: "
                "only folders of one task compare"
            )
        if other.gold != first.gold:
            only = len(set(other.gold) ^ set(first.gold))
            raise StepdistillError(
                f"{other.folder} and {first.folder} were tested on different test sets "
                f"({len(other.gold)} and {len(first.gold)} examples, {only} ids in one only, or "
                "other gold labels): compare folders tested on the same examples"
            )
    return list(first.gold)


@dataclass(frozen=True)
class PairedOutcomes:
    """Two sides' test outcomes, seed ``i`` of one against seed ``i`` of the other, on the
    test examples they share: read once, compared as a whole or class by class."""

    ours: list[TestOutcomes]
    theirs: list[TestOutcomes]
    ids: list[str]
    names: tuple[str, str]

    def compare(self, ids: Sequence[str] | None = None) -> Comparison:
        """The paired comparison on ``ids`` (default: every shared test example)."""
        ids = self.ids if ids is None else ids
        return compare_correctness(
            [[side.correct[i] for i in ids] for side in self.ours],
            [[side.correct[i] for i in ids] for side in self.theirs],
            names=self.names,
        )

    def by_class(self) -> dict[str, Comparison]:
        """The comparison on each gold class's test examples alone, for a task with a closed
        label set (empty otherwise): which classes a method gains or loses on. Each class's
        interval is wider than the whole test set's, as it rests on fewer examples."""
        gold = self.ours[0].gold
        by_class = {}
        for label in self.ours[0].label_space or ():
            of_class = [i for i in self.ids if gold[i] == label]
            if of_class:
                by_class[label] = self.compare(of_class)
        return by_class


def read_paired(
    treatment: Sequence[str | Path],
    baseline: Sequence[str | Path],
    *,
    names: tuple[str, str] | None = None,
) -> PairedOutcomes:
    """Read trained folders for a seed-by-seed comparison: ``treatment[i]`` against
    ``baseline[i]``.

    ``names``: what the two sides are called (default: their methods, or their folders' names
    when both sides are one method).

    Raises:
        StepdistillError: a folder without test predictions, folders of different tasks or
            test sets, or different numbers of folders on the two sides.
    """
    if not treatment or len(treatment) != len(baseline):
        raise StepdistillError(
            f"give one baseline folder per folder compared (the same seeds): got "
            f"{len(treatment)} and {len(baseline)}"
        )
    ours = [read_outcomes(folder) for folder in treatment]
    theirs = [read_outcomes(folder) for folder in baseline]
    ids = _check_same_test_set([*ours, *theirs])
    if names is None:
        if ours[0].method != theirs[0].method:
            names = (ours[0].method, theirs[0].method)
        else:
            names = (ours[0].folder.name, theirs[0].folder.name)
    return PairedOutcomes(ours, theirs, ids, names)


def compare_folders(
    treatment: Sequence[str | Path],
    baseline: Sequence[str | Path],
    *,
    names: tuple[str, str] | None = None,
) -> Comparison:
    """Compare trained folders seed by seed (``read_paired(...).compare()``).

    Raises:
        StepdistillError: as ``read_paired``.
    """
    return read_paired(treatment, baseline, names=names).compare()


def default_pairs(methods: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """(treatment, baseline) labels compared by default: every entry against the first one
    whose method is standard fine-tuning (none when there is none). ``methods``: (label,
    method) in the order they were given."""
    baseline = next((label for label, method in methods if method == BASELINE_METHOD), None)
    if baseline is None:
        return []
    return [(label, baseline) for label, _ in methods if label != baseline]


def folders_accuracy(folders: Sequence[str | Path]) -> tuple[float, float, float]:
    """Mean test accuracy of one method's folders (one per seed) with its 95% interval over
    test examples and seeds: (mean, low, high)."""
    outcomes = [read_outcomes(folder) for folder in folders]
    ids = _check_same_test_set(outcomes)
    return accuracy_interval([[side.correct[i] for i in ids] for side in outcomes])


def class_report(folders: Sequence[str | Path], method: str) -> ClassReport | None:
    """The majority-class baseline, the confusion matrix and the warnings of one method's
    folders (``evaluation.classes.class_report``); None for a task without a closed label set."""
    outcomes = [read_outcomes(folder) for folder in folders]
    ids = _check_same_test_set(outcomes)
    labels = outcomes[0].label_space
    if labels is None:
        return None
    return report_classes(
        method,
        [outcomes[0].gold[i] for i in ids],
        [[side.predicted[i] for i in ids] for side in outcomes],
        [[side.correct[i] for i in ids] for side in outcomes],
        labels,
    )


def plot_verdicts(
    accuracies: dict[str, tuple[float, float, float]],
    comparisons: Sequence[Comparison],
    title: str,
    path: Path,
    confusions: Mapping[str, Mapping[str, Mapping[str, int]]] | None = None,
) -> Path:
    """Test accuracy per method with its 95% interval, beside it each comparison's difference
    with its interval against a zero line, then each method's confusion matrix (closed label
    sets): the report's picture of the verdicts."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    confusions = confusions or {}
    panels = 1 + bool(comparisons) + len(confusions)
    # one row a method or comparison, names on the side: long names overlap under columns
    rows = max(len(accuracies), 2 * len(comparisons), 5)
    figure, axes = plt.subplots(
        1, panels, figsize=(5.5 * panels, 1.2 + 0.45 * rows), dpi=120, squeeze=False
    )
    left = axes[0][0]
    labels = list(accuracies)
    means = [100 * accuracies[label][0] for label in labels]
    errors = [
        [100 * (accuracies[label][0] - accuracies[label][1]) for label in labels],
        [100 * (accuracies[label][2] - accuracies[label][0]) for label in labels],
    ]
    bars = left.barh(labels, means, xerr=errors, capsize=4, color="#1f77b4", alpha=0.8)
    left.bar_label(bars, fmt="%.1f%%", padding=6)
    left.invert_yaxis()  # the first method on top
    left.set_xlabel("test accuracy (%), 95% interval")
    left.set_xlim(0, 118)  # room for the value labels beside a 100% bar
    left.set_title(title)
    if comparisons:
        right = axes[0][1]
        names = [f"{c.treatment}\nvs {c.baseline}\n({c.verdict})" for c in comparisons]
        points = [100 * c.mean_difference for c in comparisons]
        spans = [
            [100 * (c.mean_difference - c.interval[0]) for c in comparisons],
            [100 * (c.interval[1] - c.mean_difference) for c in comparisons],
        ]
        right.errorbar(points, names, xerr=spans, fmt="o", capsize=5, color="#d62728")
        right.axvline(0, color="grey", linestyle="--")
        right.invert_yaxis()
        right.set_xlabel("difference (points), 95% interval")
        right.set_title("treatment minus baseline")
    for axis, (label, matrix) in zip(
        axes[0][panels - len(confusions) :], confusions.items(), strict=True
    ):
        gold = list(matrix)
        predicted = list(next(iter(matrix.values())))
        counts = [[matrix[truth][guess] for guess in predicted] for truth in gold]
        axis.imshow(counts, cmap="Blues")
        for row, values in enumerate(counts):
            for column, count in enumerate(values):
                axis.text(column, row, str(count), ha="center", va="center")
        axis.set_xticks(range(len(predicted)), predicted, rotation=30, ha="right")
        axis.set_yticks(range(len(gold)), gold)
        axis.set_xlabel("predicted")
        axis.set_ylabel("gold")
        axis.set_title(f"{label}: confusion")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


__all__ = [
    "BASELINE_METHOD",
    "ClassReport",
    "PairedOutcomes",
    "TestOutcomes",
    "class_report",
    "compare_folders",
    "default_pairs",
    "folders_accuracy",
    "plot_verdicts",
    "read_outcomes",
    "read_paired",
]
