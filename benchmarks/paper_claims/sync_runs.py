"""Keep the background queue's finished runs across machines: a run folder's checkpoints are too
big to commit, but what the summaries and verdicts read is small.

    python benchmarks/paper_claims/sync_runs.py save     # runs -> benchmarks/results (commit it)
    python benchmarks/paper_claims/sync_runs.py restore  # benchmarks/results -> runs (runs skip)

The grids are the evidence grid's (runs/cpu/*-grid) and issue 22's SVAMP arm
(runs/partial_rationales/svamp); each worktree of the queue saves and restores its own.

A restored run has its metrics, test predictions and run info, so `stepdistill experiment`
counts it as finished and the summary recipes compare it; only finished runs are saved.
"""

import shutil
import sys
from pathlib import Path

from stepdistill.models.folder import INFO_FILE, METRICS_FILE, TEST_PREDICTIONS_FILE

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results"
# a grid's run folder and where its finished runs are kept
GRIDS = {
    "svamp-grid": (ROOT / "runs/cpu/svamp-grid", RESULTS / "paper_claims/grid/svamp-grid"),
    "esnli-grid": (ROOT / "runs/cpu/esnli-grid", RESULTS / "paper_claims/grid/esnli-grid"),
    "svamp-partial": (ROOT / "runs/partial_rationales/svamp", RESULTS / "partial_rationales/svamp"),
}
KEPT = (TEST_PREDICTIONS_FILE, INFO_FILE, METRICS_FILE)  # metrics last: they mark a finished run


def copy_finished(source: Path, target: Path) -> list[Path]:
    """Copy the kept files of every finished run under source to the same place under target."""
    copied = []
    for metrics in sorted(source.glob(f"**/{METRICS_FILE}")):
        run = metrics.parent.relative_to(source)
        if (target / run / METRICS_FILE).is_file():
            continue
        (target / run).mkdir(parents=True, exist_ok=True)
        for name in KEPT:
            shutil.copy2(metrics.parent / name, target / run / name)
        copied.append(run)
    return copied


def main(direction: str) -> None:
    for grid, pair in GRIDS.items():
        source, target = pair if direction == "save" else pair[::-1]
        for run in copy_finished(source, target) if source.is_dir() else []:
            print(f"{direction}d {grid}/{run}")


if __name__ == "__main__":
    if sys.argv[1:] not in (["save"], ["restore"]):
        sys.exit(__doc__)
    main(sys.argv[1])
