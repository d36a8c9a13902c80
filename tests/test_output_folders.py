"""Output folders: resuming past a killed save, overwrite that never deletes inputs."""

from __future__ import annotations

import json
from pathlib import Path

from cli_helpers import one_line_error, train_args
from stepdistill.cli.main import main
from test_task_files import nli_rows, task_file, write_rows

# 10-12: resume and overwrite ----------------------------------------------------------------


def test_resume_skips_a_checkpoint_whose_save_was_killed(tmp_path, tiny_t5_dir, capsys):
    write_rows(tmp_path / "rows.csv", nli_rows(20))
    task = task_file(tmp_path, {"train": "rows.csv"})
    out = tmp_path / "run"
    assert main(train_args(task, tiny_t5_dir, out)) == 0
    (out / "metrics.json").unlink()  # as if killed afterwards, while saving checkpoint-4
    (out / "checkpoints" / "checkpoint-4").mkdir()
    assert main([*train_args(task, tiny_t5_dir, out, steps=4), "--resume"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["resumed_from_step"] == 2 and metrics["steps"] == 4


def test_overwrite_never_deletes_inputs_and_asks_force_for_other_folders(
    tmp_path, tiny_t5_dir, capsys
):
    data = tmp_path / "data"
    write_rows(data / "rows.csv", nli_rows(20))
    task = task_file(data, {"train": "rows.csv"})
    for output in (data, tmp_path, Path.home()):
        assert main([*train_args(task, tiny_t5_dir, output), "--overwrite"]) == 2
        assert "holds" in one_line_error(capsys)
    assert (data / "rows.csv").exists()
    other = tmp_path / "notes"
    other.mkdir()
    (other / "README.md").write_text("mine")
    assert main([*train_args(task, tiny_t5_dir, other), "--overwrite"]) == 2
    assert "not a stepdistill output" in one_line_error(capsys)
    assert (other / "README.md").read_text() == "mine"
    assert main([*train_args(task, tiny_t5_dir, other), "--resume"]) == 2
    assert "not a stepdistill run" in one_line_error(capsys)
    assert (other / "README.md").read_text() == "mine"  # nothing of it was replaced
    assert main([*train_args(task, tiny_t5_dir, other), "--overwrite", "--force"]) == 0
    assert (other / "README.md").read_text() != "mine"  # now the model card
    assert (other / "metrics.json").exists()
