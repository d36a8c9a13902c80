"""The same train command under torchrun with two CPU processes (gloo)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TORCHRUN = Path(sys.executable).parent / "torchrun"


@pytest.mark.slow
def test_two_process_cpu_run_logs_the_effective_batch(tiny_t5_dir, paper_dir, tmp_path):
    out = tmp_path / "ddp"
    command = [str(TORCHRUN), "--standalone", "--nproc_per_node", "2", "-m", "stepdistill", "train"]
    command += ["--task", "svamp", "--data-dir", str(paper_dir), "--method", "step-by-step"]
    command += ["--student", str(tiny_t5_dir), "--output", str(out), "--train-fraction", "0.1"]
    command += ["--batch-size", "2", "--grad-accum", "2", "--max-steps", "3", "--eval-steps", "3"]
    command += ["--max-valid-examples", "8", "--max-new-tokens", "8"]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    logged = "effective batch = 8 (per device 2 x processes 2 x accumulation 2)"
    assert result.stderr.count(logged) == 2  # once per process
    metrics = json.loads((out / "metrics.json").read_text())
    assert (metrics["effective_batch_size"], metrics["world_size"], metrics["steps"]) == (8, 2, 3)
    assert metrics["test_size"] == 200
