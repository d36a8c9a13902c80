"""How the queue's cells trained, from the runs saved so far: each cell's label loss, rationale
loss and validation accuracy against steps, the mean over its finished seeds (issue 27's "compare
losses": where shared input parts from the paper's two prefixes, if it does).

    python benchmarks/paper_claims/curves.py   # writes curves.md and curves-<group>.png here

The table gives each cell's mean of the logged losses over the last 100 steps (a logged loss is
one batch of 8, so single points are noisy), its best validation accuracy and the step of it
(the checkpoint its test accuracy is of) and its validation accuracy at the last step. The
cells are verdicts.py's, read from benchmarks/results/.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from statistics import mean
from typing import Any

import verdicts

from stepdistill.models.folder import read_metrics

LOSSES = ("label_loss", "rationale_loss")
LAST_STEPS = 100  # the window the table's losses are averaged over
SMOOTHING = 5  # logged points (of 10 steps each) in the figure's running mean
# each figure's cells
GROUPS = {
    "esnli-arms": (
        verdicts.ESNLI_25,
        verdicts.PREFIXES,
        verdicts.ESNLI_SBS_25,
        verdicts.ALPHA,
        verdicts.SHUFFLED,
    ),
    "svamp": (verdicts.SVAMP, verdicts.SVAMP_SBS, verdicts.KEPT, verdicts.EVERY),
}


def mean_curve(histories: Sequence[Iterable[dict[str, Any]]], key: str) -> dict[int, float]:
    """Step -> the mean of ``key`` over the histories that logged it at that step."""
    values: dict[int, list[float]] = {}
    for history in histories:
        for point in history:
            if key in point:
                values.setdefault(point["step"], []).append(point[key])
    return {step: mean(values[step]) for step in sorted(values)}


def cell_curves(folders: Sequence[Path]) -> dict[str, dict[int, float]]:
    """The mean over ``folders`` (one cell's seeds) of each loss and of validation accuracy."""
    metrics = [read_metrics(folder) for folder in folders]
    curves = {key: mean_curve([m["loss_history"] for m in metrics], key) for key in LOSSES}
    curves["validation"] = mean_curve([m["validation_curve"] for m in metrics], "accuracy")
    return {key: curve for key, curve in curves.items() if curve}


def summary(folders: Sequence[Path]) -> dict[str, Any]:
    """One cell's row: losses over the last steps, best and last validation (means over seeds)."""
    metrics = [read_metrics(folder) for folder in folders]
    curves = cell_curves(folders)
    last = max(m["steps"] for m in metrics)
    row: dict[str, Any] = {
        key: mean(value for step, value in curves[key].items() if step > last - LAST_STEPS)
        for key in LOSSES
        if key in curves
    }
    best_steps = []
    for m in metrics:
        best = max(m["validation_curve"], key=lambda point: point["accuracy"])
        best_steps.append(best["step"])
    row.update(
        best_validation=mean(m["best_validation_accuracy"] for m in metrics),
        best_steps=best_steps,
        last_validation=curves["validation"][max(curves["validation"])],
        validation_rows=metrics[0]["validation_size"],
    )
    return row


def running_mean(values: Sequence[float], width: int) -> list[float]:
    return [mean(values[max(0, i - width + 1) : i + 1]) for i in range(len(values))]


def plot(cells: dict[str, dict[str, dict[int, float]]], title: str, path: Path) -> Path:
    """Label loss, rationale loss and validation accuracy of each cell, one panel each."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = ("label_loss", "rationale_loss", "validation")
    figure, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.8), dpi=120)
    for axis, key in zip(axes, panels, strict=True):
        for number, (name, curves) in enumerate(cells.items()):
            if key not in curves:
                continue
            steps, values = list(curves[key]), list(curves[key].values())
            color = f"C{number}"  # a cell's colour is the same in every panel
            if key == "validation":
                axis.plot(steps, [100 * v for v in values], ".-", color=color, label=name)
            else:
                axis.plot(steps, running_mean(values, SMOOTHING), color=color, label=name)
        axis.set_xlabel("optimizer steps (batch 8)")
        axis.set_ylabel(
            "validation accuracy (%)"
            if key == "validation"
            else f"{key.replace('_', ' ')} (running mean of {SMOOTHING} logs)"
        )
        if key != "validation":
            axis.set_yscale("log")
        axis.grid(alpha=0.3)
    axes[0].set_title(title)
    axes[-1].legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


def markdown(rows: dict[str, dict[str, Any]]) -> str:
    lines = [
        "# How the queue's cells trained (written by `benchmarks/paper_claims/curves.py`)",
        "",
        f"Means over each cell's finished seeds. Losses: the logged batch losses of the last "
        f"{LAST_STEPS} steps (mean token cross-entropy of each objective's targets). Validation: "
        "every 30 steps, on the held-out rows of the last column; the test accuracy is of the "
        "best validation checkpoint.",
        "",
        "| cell | seeds | label loss | rationale loss | best validation (steps) "
        "| last validation | validation rows |",
        "|---|---|---|---|---|---|---|",
    ]
    for cell, row in rows.items():
        if not row:
            lines.append(f"| {cell} | 0 | waiting | | | | |")
            continue
        rationale = f"{row['rationale_loss']:.4f}" if "rationale_loss" in row else "—"
        steps = ", ".join(map(str, row["best_steps"]))
        lines.append(
            f"| {cell} | {len(row['seeds'])} | {row['label_loss']:.4f} | {rationale} "
            f"| {row['best_validation']:.4f} ({steps}) | {row['last_validation']:.4f} "
            f"| {row['validation_rows']} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    rows: dict[str, dict[str, Any]] = {}
    for group, cells in GROUPS.items():
        drawn = {}
        for cell in cells:
            runs = verdicts.finished(cell)
            folders = [runs[seed] for seed in sorted(runs)]
            rows[cell] = {"seeds": sorted(runs), **summary(folders)} if folders else {}
            if folders:
                drawn[f"{cell} ({len(folders)} seed{'s' if len(folders) > 1 else ''})"] = (
                    cell_curves(folders)
                )
        if drawn:
            print(f"wrote {plot(drawn, group, verdicts.OUTPUT / f'curves-{group}.png')}")
    text = markdown(rows)
    (verdicts.OUTPUT / "curves.md").write_text(text, encoding="utf-8")
    print(text, end="")


if __name__ == "__main__":
    main()
