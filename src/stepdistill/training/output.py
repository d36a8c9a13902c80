"""The output folder: created safely, and never deleted unless asked, never when it holds the
run's own inputs, and not when it is not a stepdistill output unless forced."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from stepdistill.errors import StepdistillError

# what a trained folder (or a run that was interrupted) holds
RUN_MARKERS = ("stepdistill.json", "metrics.json", "checkpoints")


def is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def is_run_folder(path: Path) -> bool:
    """Whether ``path`` holds a stepdistill run (finished or not)."""
    return any((path / marker).exists() for marker in RUN_MARKERS)


def _holds(folder: Path, path: Path) -> bool:
    folder, path = folder.resolve(), path.resolve()
    return folder == path or folder in path.parents


def prepare_output_dir(
    path: str | Path,
    *,
    overwrite: bool,
    resume: bool,
    inputs: Sequence[str | Path] = (),
    force: bool = False,
) -> Path:
    """Make ``path`` ready for a run.

    An existing non-empty folder is an error, unless ``resume`` (it must be a stepdistill run:
    continue from its last checkpoint) or ``overwrite`` (its contents are removed, by the main
    process only). ``overwrite`` never removes a folder that holds one of the run's ``inputs``
    (data, student, teacher file), the home folder, ``/`` or the working folder; nor one that
    is not a stepdistill output, unless ``force``.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise StepdistillError(f"output {path} exists and is not a folder")
    if path.exists() and any(path.iterdir()):
        if resume:
            if not is_run_folder(path):
                raise StepdistillError(
                    f"--resume: {path} is not a stepdistill run (no {', '.join(RUN_MARKERS)}); "
                    "give the output folder of the run to continue"
                )
        elif not overwrite:
            raise StepdistillError(
                f"output folder {path} already exists and is not empty; pass --overwrite to "
                "replace it or --resume to continue its run"
            )
        else:
            protected = [Path(p) for p in inputs if p] + [Path.home(), Path.cwd(), Path("/")]
            held = [p for p in protected if _holds(path, p)]
            if held:
                raise StepdistillError(
                    f"--overwrite would delete {path}, which holds {held[0]} (an input of the "
                    "run, the home folder, the working folder or /); choose another --output"
                )
            if not is_run_folder(path) and not force:
                raise StepdistillError(
                    f"--overwrite: {path} is not a stepdistill output (no "
                    f"{', '.join(RUN_MARKERS)}); pass --force as well to replace it anyway"
                )
            if is_main_process():
                shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    return path
