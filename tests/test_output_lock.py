"""Hardening, second round, point 12: two runs into one output folder. The folder is held for
the run; a second run is refused with one line naming the holder, never mixed in."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from cli_helpers import CLI, one_line_error, train_args
from stepdistill.cli.main import main
from stepdistill.errors import StepdistillError
from stepdistill.pipeline import clear_output
from stepdistill.training import hold_output
from test_pipeline import make_pipeline

LOCK = ".stepdistill.lock"


def test_a_second_train_into_a_held_folder_is_refused(tmp_path, tiny_t5_dir, capsys):
    task = make_pipeline(tmp_path, tiny_t5_dir, None).parent / "task.yaml"
    out = tmp_path / "out"
    out.mkdir()
    with hold_output(out):
        assert main(train_args(task, tiny_t5_dir, out)) == 2
        line = one_line_error(capsys)
        assert f"output {out} is in use by another run (pid {os.getpid()} on " in line
        assert main([*train_args(task, tiny_t5_dir, out), "--overwrite"]) == 2  # never deleted
        assert "in use by another run" in one_line_error(capsys)
    assert not (out / LOCK).exists()  # released when the run ends
    assert main(train_args(task, tiny_t5_dir, out)) == 0
    assert (out / "metrics.json").exists() and not (out / LOCK).exists()


def test_a_second_pipeline_run_into_a_held_folder_is_refused(tmp_path, tiny_t5_dir, capsys):
    path = make_pipeline(tmp_path, tiny_t5_dir, "http://127.0.0.1:9/v1")
    out = tmp_path / "out"
    out.mkdir()
    (out / "pipeline.json").write_text('{"stages": {}}')
    with hold_output(out):
        assert main(["run", str(path)]) == 2
        assert "is in use by another run (pid" in one_line_error(capsys)
        with pytest.raises(StepdistillError, match=r"output .* is in use by another run \(pid"):
            clear_output(out)  # the demo's --overwrite
    assert (out / "pipeline.json").exists()


def test_two_train_processes_into_one_new_folder(tmp_path, tiny_t5_dir, capsys):
    task = make_pipeline(tmp_path, tiny_t5_dir, None).parent / "task.yaml"
    out = tmp_path / "out"
    args = train_args(task, tiny_t5_dir, out, steps=300)
    first = subprocess.Popen([CLI, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not (out / LOCK).exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (out / LOCK).exists(), first.stderr.read().decode() if first.poll() else ""
        assert main(train_args(task, tiny_t5_dir, out)) == 2
        assert f"pid {first.pid}" in one_line_error(capsys)
    finally:
        first.wait(timeout=600)
    assert first.returncode == 0
    assert not (out / LOCK).exists()
