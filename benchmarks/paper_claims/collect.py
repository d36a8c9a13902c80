"""Bring the background queue's finished runs into this checkout in one step: each new run's saved
files from the queue's worktrees (where `sync_runs.py save` put them), its row in runs.csv, and
the verdicts and training curves written again from everything saved so far.

    python benchmarks/paper_claims/collect.py [WORKTREE ...]   # ../grid and ../partial by default

A run this checkout already has is left as it is (and gets no second row), so collecting twice
changes nothing. What is left to do by hand is the results page's progress line, and the commit.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import curves
import runs_csv
import sync_runs
import verdicts

from stepdistill.models.folder import read_metrics

RUNS_CSV = verdicts.OUTPUT / "runs.csv"
WORKTREES = (sync_runs.ROOT.parent / "grid", sync_runs.ROOT.parent / "partial")
SAVED = (sync_runs.MACHINE_FILE, *sync_runs.KEPT)  # what `sync_runs.py save` keeps of a run
ROLES = {"svamp-partial": "issue 22"}  # runs.csv's role of a grid's runs, "grid" where not named


def copy_new_runs(worktree: Path) -> list[tuple[str, Path]]:
    """Copy every finished run that ``worktree`` saved and this checkout lacks; returns each
    copied run's grid and folder here, in path order."""
    copied = []
    for grid, (_, target) in sync_runs.GRIDS.items():
        source = worktree / target.relative_to(sync_runs.ROOT)
        runs = sync_runs.copy_finished(source, target, SAVED)
        copied += [(grid, target / run) for run in runs]
    return copied


def add_rows(runs: list[tuple[str, Path]], path: Path) -> None:
    """Append one runs.csv row per run (the file gets its header where it is new)."""
    new_file = not path.is_file()
    with path.open("a", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=runs_csv.COLUMNS)
        if new_file:
            writer.writeheader()
        writer.writerows(runs_csv.run_row(folder, ROLES.get(grid, "grid")) for grid, folder in runs)


def collect(worktrees: list[Path]) -> list[tuple[str, Path]]:
    """Copy the worktrees' new runs here and add their rows; returns the runs copied."""
    runs = [run for worktree in worktrees for run in copy_new_runs(worktree)]
    add_rows(runs, RUNS_CSV)
    return runs


def main(worktrees: list[Path]) -> None:
    runs = collect(worktrees)
    for _, folder in runs:
        test = read_metrics(folder)["test_accuracy"]
        print(f"collected {folder.relative_to(sync_runs.ROOT)}: test {test}")
    if not runs:
        print("no new runs: the verdicts and curves are as they were")
        return
    verdicts.main()
    curves.main()


if __name__ == "__main__":
    if any(arg.startswith("-") for arg in sys.argv[1:]):
        sys.exit(__doc__)
    main([Path(arg) for arg in sys.argv[1:]] or list(WORKTREES))
