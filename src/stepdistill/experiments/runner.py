"""Run a recipe's grid (finished runs are skipped), then tabulate and plot it."""

from __future__ import annotations

import csv
import logging
import math
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stepdistill.comparisons import class_report, compare_folders, folders_accuracy
from stepdistill.evaluation.classes import confusion_rows
from stepdistill.evaluation.paired import Comparison
from stepdistill.experiments.recipe import MethodEntry, Recipe
from stepdistill.models.folder import has_metrics, read_metrics
from stepdistill.reports import table, write_report

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Run:
    student: str
    entry: MethodEntry
    fraction: float
    seed: int

    def folder(self, root: Path, many_students: bool) -> Path:
        parts = [_safe(self.student)] if many_students else []
        return root.joinpath(*parts, self.entry.label, f"frac{self.fraction:g}", f"seed{self.seed}")


def _safe(name: str) -> str:
    return name.replace("/", "--")


def grid(recipe: Recipe) -> list[Run]:
    return [
        Run(student, entry, fraction, seed)
        for student in recipe.students
        for entry in recipe.methods
        for fraction in recipe.train_fractions
        for seed in recipe.seeds
    ]


def run_recipe(recipe: Recipe, *, dry_run: bool = False) -> list[dict[str, Any]]:
    """Train every run of the grid that has no metrics.json yet; returns one row per run."""
    from stepdistill.training import train_on_task

    runs = grid(recipe)
    many = len(recipe.students) > 1
    todo = [run for run in runs if not has_metrics(run.folder(recipe.output, many))]
    logger.info("%s: %d runs, %d to do", recipe.name, len(runs), len(todo))
    if dry_run:
        return [
            {"folder": str(run.folder(recipe.output, many)), "todo": run in todo} for run in runs
        ]
    source = recipe.source()
    for number, run in enumerate(todo, start=1):
        folder = run.folder(recipe.output, many)
        logger.info("[%d/%d] %s", number, len(todo), folder)
        train_on_task(
            source=source,
            method=run.entry.method,
            config=recipe.config(run.entry, run.seed),
            student=run.student,
            output_dir=folder,
            run=recipe.run_settings(run.fraction, run.seed, resume=folder.exists()),
        )
    rows = []
    for run in runs:
        metrics = read_metrics(run.folder(recipe.output, many))
        rows.append(
            {
                "folder": str(run.folder(recipe.output, many)),
                "student": run.student,
                "method": run.entry.label,
                "train_fraction": run.fraction,
                "seed": run.seed,
                "test_accuracy": metrics.get("test_accuracy"),
                "best_validation_accuracy": metrics.get("best_validation_accuracy"),
                "steps": metrics.get("steps"),
                "train_examples_per_second": metrics.get("train_examples_per_second"),
            }
        )
    return rows


Cell = tuple[str, str, float]  # student, method label, train fraction


def tested_folders(rows: list[dict[str, Any]]) -> dict[Cell, list[str]]:
    """The folders of each grid cell, one per seed, where every seed has a test accuracy."""
    cells: dict[Cell, list[dict[str, Any]]] = {}
    for row in rows:
        cells.setdefault((row["student"], row["method"], row["train_fraction"]), []).append(row)
    return {
        cell: [row["folder"] for row in members]
        for cell, members in cells.items()
        if all(row["test_accuracy"] is not None for row in members)
    }


def summarise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean and standard deviation of test accuracy over seeds, per student/method/fraction,
    with the 95% interval over test examples and seeds where every seed has predictions."""
    groups: dict[Cell, list[float]] = {}
    for row in rows:
        key = (row["student"], row["method"], row["train_fraction"])
        groups.setdefault(key, []).append(row["test_accuracy"])
    tested = tested_folders(rows)
    summary = []
    for (student, method, fraction), values in groups.items():
        values = [v for v in values if v is not None]
        folders = tested.get((student, method, fraction))
        interval = folders_accuracy(folders)[1:] if folders else (None, None)
        summary.append(
            {
                "student": student,
                "method": method,
                "train_fraction": fraction,
                "seeds": len(values),
                "test_accuracy_mean": statistics.fmean(values) if values else math.nan,
                "test_accuracy_std": statistics.stdev(values) if len(values) > 1 else 0.0,
                "test_accuracy_low": interval[0],
                "test_accuracy_high": interval[1],
            }
        )
    return summary


def recipe_verdicts(
    recipe: Recipe, rows: list[dict[str, Any]]
) -> tuple[list[Comparison], list[str]]:
    """The verdicts of the recipe's pairs, for every student (and fraction), and a note for
    each pair that could not be compared."""
    tested = tested_folders(rows)
    comparisons, notes = [], []
    for student in recipe.students:
        for pair in recipe.pairs():
            for ours, theirs in pair.fractions(recipe.train_fractions):
                names = (f"{pair.treatment} @ {ours:.0%}", f"{pair.baseline} @ {theirs:.0%}")
                treatment = tested.get((student, pair.treatment, ours))
                baseline = tested.get((student, pair.baseline, theirs))
                if not treatment or not baseline:
                    notes.append(f"{names[0]} vs {names[1]}: not compared (no test accuracy)")
                    continue
                comparisons.append(compare_folders(treatment, baseline, names=names))
    return comparisons, notes


def teacher_accuracy(recipe: Recipe) -> float | None:
    """The teacher's test accuracy (the reference line of the plots), if the data has it."""
    from stepdistill.data.inspect import teacher_summary

    data = recipe.source().load()
    if "test" not in data:
        return None
    summary = teacher_summary(data["test"], data.task)
    return summary["accuracy"] if summary else None


def write_reports(recipe: Recipe, rows: list[dict[str, Any]]) -> dict[str, Path]:
    """results.csv (every run), summary.csv and summary.md (mean ± std), accuracy.png."""
    out = recipe.output
    out.mkdir(parents=True, exist_ok=True)
    summary = summarise(rows)
    files = {
        "runs": out / "results.csv",
        "summary": out / "summary.csv",
        "table": out / "summary.md",
    }
    for path, csv_rows in ((files["runs"], rows), (files["summary"], summary)):
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(csv_rows[0]))
            writer.writeheader()
            writer.writerows(csv_rows)
    teacher = teacher_accuracy(recipe)
    lines = [
        f"# {recipe.name}: {recipe.source().task.name}, test accuracy",
        "",
        f"Mean ± standard deviation over seeds {list(recipe.seeds)}; the 95% interval covers "
        "test examples and seeds (the plot's bands).",
        "",
    ]
    lines += table(
        ["student", "method", "train data", "seeds", "test accuracy", "95% interval"],
        [
            [
                row["student"],
                row["method"],
                f"{row['train_fraction']:.0%}",
                row["seeds"],
                f"{row['test_accuracy_mean']:.4f} ± {row['test_accuracy_std']:.4f}",
                f"[{row['test_accuracy_low']:.4f}, {row['test_accuracy_high']:.4f}]"
                if row["test_accuracy_low"] is not None
                else None,
            ]
            for row in summary
        ],
    )
    if teacher is not None:
        lines += ["", f"Teacher (LLM) test accuracy: {teacher:.4f}"]
    comparisons, notes = recipe_verdicts(recipe, rows)
    if comparisons or notes:
        lines += ["", "## Verdicts", ""]
        lines += [f"- {c.line()}" for c in comparisons] + [f"- {note}" for note in notes]
    classes = {
        f"{method} @ {fraction:.0%}" + (f" ({student})" if len(recipe.students) > 1 else ""): found
        for (student, method, fraction), folders in tested_folders(rows).items()
        if (found := class_report(folders, method)) is not None
    }
    warnings = [warning for found in classes.values() for warning in found.warnings]
    for warning in warnings:
        logger.warning("%s", warning)
    if classes:
        lines += ["", "## Classes", ""]
        lines += [f"- **{warning}**" for warning in warnings]
        for cell, found in classes.items():
            columns = list(next(iter(found.confusion.values())))
            lines += [
                "",
                f"{cell}: always answering {found.majority_label!r} scores "
                f"{found.majority_accuracy:.4f}; {found.versus_majority.line()}. Confusion "
                "matrix (rows: gold, columns: predicted; summed over seeds):",
                "",
                *table(["gold", *columns], confusion_rows(found.confusion)),
            ]
    report = {
        "recipe": recipe.name,
        "teacher_accuracy": teacher,
        "summary": summary,
        "comparisons": [c.to_dict() for c in comparisons],
        "comparison_notes": notes,
        "classes": {cell: found.to_dict() for cell, found in classes.items()},
        "warnings": warnings,
        "runs": rows,
    }
    write_report(out, report, lines, markdown_name=files["table"].name)
    files["plot"] = plot_accuracy(recipe, summary, teacher, out / "accuracy.png")
    return files


def plot_accuracy(
    recipe: Recipe, summary: list[dict[str, Any]], teacher: float | None, path: Path
) -> Path:
    """Accuracy against % of training data, one line per method (and student), with the
    teacher's accuracy as a dashed reference line (the paper's Figures 4 and 5)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4), dpi=120)
    lines: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in summary:
        lines.setdefault((row["student"], row["method"]), []).append(row)
    for (student, method), points in lines.items():
        points.sort(key=lambda r: r["train_fraction"])
        label = method if len(recipe.students) == 1 else f"{method} ({student})"
        x = [100 * p["train_fraction"] for p in points]
        y = [100 * p["test_accuracy_mean"] for p in points]
        # the 95% interval over test examples and seeds; the seeds' spread where no predictions
        low = [
            100
            * (
                p["test_accuracy_low"]
                if p["test_accuracy_low"] is not None
                else p["test_accuracy_mean"] - p["test_accuracy_std"]
            )
            for p in points
        ]
        high = [
            100
            * (
                p["test_accuracy_high"]
                if p["test_accuracy_high"] is not None
                else p["test_accuracy_mean"] + p["test_accuracy_std"]
            )
            for p in points
        ]
        (line,) = axes.plot(x, y, marker="o", label=label)
        if len(points) > 1:
            axes.fill_between(x, low, high, color=line.get_color(), alpha=0.2)
        else:
            spans = [
                [a - b for a, b in zip(y, low, strict=True)],
                [b - a for a, b in zip(y, high, strict=True)],
            ]
            axes.errorbar(x, y, yerr=spans, fmt="none", capsize=4, color=line.get_color())
    if teacher is not None:
        axes.axhline(100 * teacher, linestyle="--", color="grey", label="teacher (LLM)")
    axes.set_xlabel("% of training data")
    axes.set_ylabel("test accuracy (%)")
    axes.set_title(f"{recipe.name}: {recipe.source().task.name}")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path
