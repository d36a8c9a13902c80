"""The output folder: created safely and never deleted unless asked."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from stepdistill.errors import StepdistillError


def is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def prepare_output_dir(path: str | Path, *, overwrite: bool, resume: bool) -> Path:
    """Make ``path`` ready for a run.

    An existing non-empty folder is an error, unless ``resume`` (keep it and continue from its
    last checkpoint) or ``overwrite`` (its contents are removed, by the main process only).
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise StepdistillError(f"output {path} exists and is not a folder")
    if path.exists() and any(path.iterdir()) and not resume:
        if not overwrite:
            raise StepdistillError(
                f"output folder {path} already exists and is not empty; pass --overwrite to "
                "replace it or --resume to continue its run"
            )
        if is_main_process():
            shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    return path
