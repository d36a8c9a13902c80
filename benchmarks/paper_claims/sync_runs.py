"""Keep the evidence grid's finished runs across machines: a run folder's checkpoints are too big
to commit, but what the summaries and verdicts read is small.

    python benchmarks/paper_claims/sync_runs.py save     # runs/cpu/*-grid -> results (commit it)
    python benchmarks/paper_claims/sync_runs.py restore  # results -> runs/cpu/*-grid (runs skip)

A restored run has its metrics, test predictions and run info, so `stepdistill experiment`
counts it as finished and the summary recipes compare it; only finished runs are saved.
"""

import shutil
import sys
from pathlib import Path

from stepdistill.models.folder import INFO_FILE, METRICS_FILE, TEST_PREDICTIONS_FILE

ROOT = Path(__file__).resolve().parents[2]
RUNS = ROOT / "runs" / "cpu"
RESULTS = ROOT / "benchmarks" / "results" / "paper_claims" / "grid"
GRIDS = ("svamp-grid", "esnli-grid")
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
    for grid in GRIDS:
        pair = (RUNS / grid, RESULTS / grid)
        source, target = pair if direction == "save" else pair[::-1]
        for run in copy_finished(source, target) if source.is_dir() else []:
            print(f"{direction}d {grid}/{run}")


if __name__ == "__main__":
    if sys.argv[1:] not in (["save"], ["restore"]):
        sys.exit(__doc__)
    main(sys.argv[1])
