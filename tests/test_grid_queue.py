"""benchmarks/paper_claims/run_grid.sh: lanes take each run of the queue once, then summarise."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from cli_helpers import REPO_ROOT

SCRIPT = REPO_ROOT / "benchmarks" / "paper_claims" / "run_grid.sh"
# a stand-in for a worktree's stepdistill and python: it logs its worktree and arguments, and
# fails where its arguments hold $STUB_FAIL
STUB = """#!/usr/bin/env bash
echo "$(basename "$PWD") $(basename "$0") $*" >> "$STUB_LOG"
if [ -n "${STUB_FAIL:-}" ] && [[ " $* " == *" $STUB_FAIL "* ]]; then exit 1; fi
"""


def worktree(folder: Path, prepared_data: str) -> None:
    """A worktree whose stepdistill and python are the stub, with its prepared data in place."""
    bin_dir = folder / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    for name in ("stepdistill", "python"):
        (bin_dir / name).write_text(STUB)
        (bin_dir / name).chmod((bin_dir / name).stat().st_mode | stat.S_IXUSR)
    (folder / prepared_data).parent.mkdir(parents=True)
    (folder / prepared_data).write_text("")


def run_queue(
    tmp_path: Path, lanes: int, fail: str = ""
) -> tuple[subprocess.CompletedProcess, list[str]]:
    """Run the queue in a grid worktree and issue 22's beside it, both of stubs: what it
    printed, and the calls the stubs logged."""
    grid = tmp_path / "grid"
    worktree(grid, "runs/esnli-user/esnli_valid_palm.jsonl")
    worktree(tmp_path / "partial", "runs/partial_rationales/svamp_palm_agree_with_gold.jsonl")
    (grid / "benchmarks" / "paper_claims").mkdir(parents=True)
    shutil.copy(SCRIPT, grid / "benchmarks" / "paper_claims" / "run_grid.sh")
    log = tmp_path / "calls.log"
    env = {**os.environ, "LANES": str(lanes), "STUB_LOG": str(log), "STUB_FAIL": fail}
    done = subprocess.run(
        ["bash", str(grid / "benchmarks" / "paper_claims" / "run_grid.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done, log.read_text().splitlines()


def summaries(calls: list[str]) -> list[str]:
    """The calls that summarise a recipe: an experiment without --method."""
    return [call for call in calls if "stepdistill experiment" in call and "--method" not in call]


def queue_runs() -> list[str]:
    """The queue's runs as the stub logs their training calls."""
    listed = subprocess.run(["bash", str(SCRIPT), "--list"], capture_output=True, text=True)
    runs = []
    for line in listed.stdout.splitlines():
        folder, recipe, method, *seed = line.split()
        tree = "partial" if folder == "../partial" else "grid"
        seed_args = f" --seed {seed[0]}" if seed else ""
        runs.append(f"{tree} stepdistill experiment {recipe} --method {method}{seed_args}")
    return runs


@pytest.mark.parametrize("lanes", [1, 3])
def test_every_run_is_trained_once_then_the_summaries(tmp_path, lanes):
    done, calls = run_queue(tmp_path, lanes)

    assert done.returncode == 0, done.stderr
    trained = [call for call in calls if "--method" in call]
    assert sorted(trained) == sorted(queue_runs()) and len(trained) == 33
    # each finished run is saved at once, in its own worktree
    saves = [call for call in calls if call.endswith("sync_runs.py save")]
    assert len(saves) == 33 and sum(save.startswith("partial") for save in saves) == 6
    summary_calls = summaries(calls)
    assert calls[-4:] == summary_calls and len(summary_calls) == 4
    started = {line.split()[2].rstrip(":") for line in done.stdout.splitlines() if " lane " in line}
    assert started == {str(number) for number in range(1, lanes + 1)}
    assert done.stdout.rstrip().endswith("the queue is done")


def test_a_failed_run_stops_its_lane_and_the_summaries(tmp_path):
    done, calls = run_queue(tmp_path, lanes=1, fail="shuffled")

    assert done.returncode != 0
    assert "lane 1 stopped" in done.stdout and "shuffled" in done.stdout.splitlines()[-1]
    assert not summaries(calls)
    assert "the queue is done" not in done.stdout
