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


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def provenance() -> dict[str, Any]:
    """``{"versions": ..., "git_commit": ..., "created": ...}`` for a result file."""
    return {"versions": versions(), "git_commit": git_commit(), "created": utc_now()}
