"""benchmarks/paper_claims/sync_runs.py and runs_csv.py: a saved run says what trained it."""

from __future__ import annotations

import csv
import importlib
import json
import shutil

from cli_helpers import REPO_ROOT
from stepdistill.models.folder import INFO_FILE
from stepdistill.training import make_config
from stepdistill.training.run import train_student
from tiny import arithmetic_task_data

SCRIPTS = REPO_ROOT / "benchmarks" / "paper_claims"


def test_a_saved_run_records_its_machine_and_its_csv_row_names_it(
    tiny_t5_dir, tmp_path, monkeypatch
):
    monkeypatch.syspath_prepend(str(SCRIPTS))
    sync_runs, runs_csv = (importlib.import_module(name) for name in ("sync_runs", "runs_csv"))
    runs, results = tmp_path / "runs", tmp_path / "results"
    monkeypatch.setattr(sync_runs, "GRIDS", {"svamp-grid": (runs, results)})
    config = make_config("standard", per_device_batch_size=4, max_steps=2, max_new_tokens=12)
    trained = runs / "standard" / "frac1" / "seed0"
    train_student(
        data=arithmetic_task_data(),
        method="standard",
        config=config,
        student=str(tiny_t5_dir),
        output_dir=trained,
        data_info={"train_fraction": 1.0},  # as `stepdistill experiment` records it
    )

    sync_runs.main("save")

    saved = results / "standard" / "frac1" / "seed0"
    machine = json.loads((saved / sync_runs.MACHINE_FILE).read_text())
    assert machine == sync_runs.this_machine() and machine["cpu"]
    # the queue's pinned commit writes no machine into the run info: the row reads machine.json
    info = json.loads((saved / INFO_FILE).read_text())
    del info["machine"]
    (saved / INFO_FILE).write_text(json.dumps(info))
    row = runs_csv.run_row(saved, "grid")
    assert row["machine"] == runs_csv.machine_name(machine)
    assert row["machine"].startswith(machine["cpu"]) and machine["cpu_capability"] in row["machine"]

    (saved / sync_runs.MACHINE_FILE).unlink()
    assert runs_csv.run_row(saved, "grid")["machine"] == "not recorded"
    shutil.rmtree(runs)
    sync_runs.main("restore")  # restoring writes no machine of its own
    assert (trained / "metrics.json").is_file()
    assert not (trained / sync_runs.MACHINE_FILE).exists()


def test_collecting_copies_a_worktrees_new_runs_with_one_row_each(
    tiny_t5_dir, tmp_path, monkeypatch
):
    monkeypatch.syspath_prepend(str(SCRIPTS))
    sync_runs, collect = (importlib.import_module(name) for name in ("sync_runs", "collect"))
    worktree, here = tmp_path / "grid", tmp_path / "main"
    monkeypatch.setattr(sync_runs, "ROOT", worktree)
    monkeypatch.setattr(sync_runs, "GRIDS", {"svamp-grid": (worktree / "runs", worktree / "kept")})
    config = make_config("standard", per_device_batch_size=4, max_steps=2, max_new_tokens=12)
    train_student(
        data=arithmetic_task_data(),
        method="standard",
        config=config,
        student=str(tiny_t5_dir),
        output_dir=worktree / "runs" / "standard" / "frac1" / "seed0",
        data_info={"train_fraction": 1.0},
    )
    sync_runs.main("save")  # as the queue does in its worktree
    monkeypatch.setattr(sync_runs, "ROOT", here)
    monkeypatch.setattr(sync_runs, "GRIDS", {"svamp-grid": (here / "runs", here / "kept")})
    monkeypatch.setattr(collect, "RUNS_CSV", here / "runs.csv")

    copied = collect.collect([worktree, tmp_path / "missing"])

    run = here / "kept" / "standard" / "frac1" / "seed0"
    assert copied == [("svamp-grid", run)]
    assert (run / sync_runs.MACHINE_FILE).is_file() and (run / "metrics.json").is_file()
    with (here / "runs.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    assert [(row["method"], row["seed"], row["role"]) for row in rows] == [
        ("standard", "0", "grid")
    ]
    assert collect.collect([worktree]) == []  # a second collect adds nothing
    assert (here / "runs.csv").read_text().count("\n") == 2
