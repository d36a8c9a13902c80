"""The output folder: created safely, never deleted unless asked, written atomically."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

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


def write_json(path: Path, data: Any) -> None:
    """Write JSON through a temporary file and a rename, so a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(data, stream, indent=2, ensure_ascii=False)
            stream.write("\n")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    """Write JSON lines atomically (temporary file + rename)."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            for row in rows:
                stream.write(json.dumps(row, ensure_ascii=False) + "\n")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
