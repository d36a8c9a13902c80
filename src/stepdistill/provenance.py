"""Where a result came from: package versions, the git commit and the time, stamped on every
trained folder and benchmark result."""

from __future__ import annotations

import platform
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Any


def git_commit() -> str | None:
    """The commit of the checkout stepdistill runs from, or None outside a git checkout."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode != 0:
        return None
    return result.stdout.strip() or None


def versions() -> dict[str, str]:
    """Versions of stepdistill and the libraries whose behaviour shapes results."""
    import datasets
    import torch
    import transformers

    from stepdistill import __version__

    return {
        "stepdistill": __version__,
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "datasets": datasets.__version__,
        "python": platform.python_version(),
    }


def cpu_model() -> str:
    """The CPU's model name (Linux: /proc/cpuinfo), else what the platform reports."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    """What a result was computed on, where it shapes the numbers: the CPU and the vector
    instructions torch's kernels use on it (AVX2 and AVX-512 kernels round differently, so two
    runs of one seed agree bit for bit only on the same capability), torch's threads, the GPU."""
    import torch

    return {
        "cpu": cpu_model(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "threads": torch.get_num_threads(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def provenance() -> dict[str, Any]:
    """``{"versions": ..., "machine": ..., "git_commit": ..., "created": ...}`` for a result
    file."""
    return {
        "versions": versions(),
        "machine": machine(),
        "git_commit": git_commit(),
        "created": utc_now(),
    }
