"""Run a recipe's grid (finished runs are skipped), then tabulate and plot it."""

from __future__ import annotations

import csv
import logging
import math
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def summarise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean and standard deviation of test accuracy over seeds, per student/method/fraction."""
    groups: dict[tuple, list[float]] = {}
    for row in rows:
        key = (row["student"], row["method"], row["train_fraction"])
        groups.setdefault(key, []).append(row["test_accuracy"])
    summary = []
    for (student, method, fraction), values in groups.items():
        values = [v for v in values if v is not None]
        summary.append(
            {
                "student": student,
                "method": method,
                "train_fraction": fraction,
                "seeds": len(values),
                "test_accuracy_mean": statistics.fmean(values) if values else math.nan,
                "test_accuracy_std": statistics.stdev(values) if len(values) > 1 else 0.0,
            }
        )
    return summary


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
        f"Mean ± standard deviation over seeds {list(recipe.seeds)}.",
        "",
    ]
    lines += table(
        ["student", "method", "train data", "seeds", "test accuracy"],
        [
            [
                row["student"],
                row["method"],
                f"{row['train_fraction']:.0%}",
                row["seeds"],
                f"{row['test_accuracy_mean']:.4f} ± {row['test_accuracy_std']:.4f}",
            ]
            for row in summary
        ],
    )
    if teacher is not None:
        lines += ["", f"Teacher (LLM) test accuracy: {teacher:.4f}"]
    report = {"recipe": recipe.name, "teacher_accuracy": teacher, "summary": summary, "runs": rows}
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
        axes.errorbar(
            [100 * p["train_fraction"] for p in points],
            [100 * p["test_accuracy_mean"] for p in points],
            yerr=[100 * p["test_accuracy_std"] for p in points],
            marker="o",
            capsize=3,
            label=label,
        )
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
