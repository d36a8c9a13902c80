"""Helpers of the command-line tests: one-line errors, a tiny train command."""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

CLI = str(Path(sys.executable).parent / "stepdistill")

TINY = ["--batch-size", "4", "--eval-steps", "2", "--max-new-tokens", "4"]


def one_line_error(capsys) -> str:
    """The last line of stderr, checked to be stepdistill's one-line error (no traceback)."""
    err = capsys.readouterr().err.strip()
    last = err.splitlines()[-1]
    assert last.startswith("stepdistill: error: ") and "Traceback" not in err, err
    return last


def train_args(task: Path, student: Path, output: Path, steps: int = 2) -> list[str]:
    """A two-step standard ``train`` command line on ``task``."""
    args = ["train", "--task", str(task), "--student", str(student), "--output", str(output)]
    return [*args, "--method", "standard", "--max-steps", str(steps), *TINY]
