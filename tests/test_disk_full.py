"""Hardening, second round, point 13: a full disk. `train` and `extract` end with one line and
exit 2, and nothing partial is taken as complete by the rerun that follows (it resumes). The
disk is a real small tmpfs, mounted for the test (skipped, with the reason, where this user
may not mount one); a simulated full disk checks the same rule everywhere."""

from __future__ import annotations

import errno
import subprocess
from pathlib import Path

import pytest

from cli_helpers import CLI, train_args
from fake_openai import FakeOpenAI, svamp_answer
from stepdistill.data.io import writing_to
from stepdistill.errors import DiskFull
from stepdistill.training.run import latest_complete_checkpoint
from test_extraction import extract_command
from test_pipeline import make_pipeline


@pytest.fixture
def small_disk(tmp_path):
    """A mounted tmpfs of 600 KB, unmounted after the test."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path, leave: int) -> Path:
    """Fill ``disk`` until ``leave`` bytes are free; returns the filler to delete."""
    import shutil

    filler = disk / "filler"
    filler.write_bytes(b"\0" * max(0, shutil.disk_usage(disk).free - leave))
    return filler


def one_line_exit_2(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 2, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    # the line (a progress bar that the exit closes may follow it)
    [line] = [line for line in done.stderr.splitlines() if line.startswith("stepdistill: error")]
    assert line.startswith("stepdistill: error: no space left on the device of "), line
    return line


def test_train_on_a_full_disk_ends_in_one_line_and_resumes(tmp_path, tiny_t5_dir, small_disk):
    task = make_pipeline(tmp_path, tiny_t5_dir, None).parent / "task.yaml"
    out = small_disk / "out"
    args = train_args(task, tiny_t5_dir, out, steps=4)
    done = subprocess.run([CLI, *args], capture_output=True, text=True, timeout=300)
    line = one_line_exit_2(done)
    assert "--resume" in line
    assert not (out / "metrics.json").exists()  # the run is not taken as finished
    # a checkpoint the disk cut short is never the one a rerun resumes from
    assert latest_complete_checkpoint(out / "checkpoints") is None
    subprocess.run(["mount", "-o", "remount,size=20m", str(small_disk)], check=True)
    again = subprocess.run([CLI, *args, "--resume"], capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    assert (out / "metrics.json").exists()


def test_extract_on_a_full_disk_ends_in_one_line_and_resumes(paper_dir, small_disk):
    fill(small_disk, leave=160 * 1024)
    output = small_disk / "teacher.jsonl"
    with FakeOpenAI(svamp_answer) as server:
        command = extract_command(server, paper_dir, output)
        done = subprocess.run(command, capture_output=True, text=True, timeout=300)
        one_line_exit_2(done)
        assert not output.exists()  # no half-written teacher file
        sent = len(server.log)
        assert sent > 0  # the disk filled in the middle of the run, not at its start
        subprocess.run(["mount", "-o", "remount,size=20m", str(small_disk)], check=True)
        server.log.clear()
        again = subprocess.run(command, capture_output=True, text=True, timeout=300)
        assert again.returncode == 0, again.stderr[-3000:]
    assert len(output.read_text().splitlines()) == 40
    assert len(server.log) < 40  # what the cache kept was not sent again


@pytest.mark.parametrize(
    "failure",
    [
        OSError(errno.ENOSPC, "No space left on device"),
        RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos"),
    ],
)
def test_a_write_failing_on_a_full_device_is_one_disk_full_error(tmp_path, monkeypatch, failure):
    import stepdistill.data.io as io

    monkeypatch.setattr(io, "free_bytes", lambda folder: 4096)
    message = r"no space left on the device of .* \(4 KB free\)"
    with pytest.raises(DiskFull, match=message), writing_to(tmp_path, resumes="a rerun resumes"):
        raise failure


def test_other_errors_pass_unchanged_while_space_is_left(tmp_path):
    unchanged = pytest.raises(RuntimeError, match="unrelated")
    with unchanged, writing_to(tmp_path, resumes="a rerun resumes"):
        raise RuntimeError("unrelated")
