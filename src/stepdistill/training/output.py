"""The output folder: created safely, and never deleted unless asked, never when it holds the
run's own inputs, and not when it is not a stepdistill output unless forced."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from stepdistill.errors import StepdistillError

# what a trained folder (or a run that was interrupted) holds
RUN_MARKERS = ("stepdistill.json", "metrics.json", "checkpoints")
LOCK_FILE = ".stepdistill.lock"  # held while a run writes the folder, gone after


def _try_lock(handle: Any) -> bool:
    """Take ``handle``'s exclusive lock without waiting (True), or find it held (False)."""
    try:
        import fcntl
    except ImportError:  # no POSIX locks (Windows): runs are not guarded against each other
        return True
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def holder_of(path: Path) -> str | None:
    """Who holds ``path``'s lock (its pid, host and start), or None when no run does."""
    lock = path / LOCK_FILE
    if not lock.is_file():
        return None
    with open(lock, "a+", encoding="utf-8") as handle:
        if _try_lock(handle):
            return None  # a stale file: its run ended without removing it
        return _holder_text(handle)


def _holder_text(handle: Any) -> str:
    """What a held lock file says of its holder."""
    handle.seek(0)
    return handle.read().strip() or "another process"


def in_use(path: Path, holder: str) -> StepdistillError:
    return StepdistillError(
        f"output {path} is in use by another run ({holder}); wait for it to end or "
        "choose another --output"
    )


@contextlib.contextmanager
def hold_output(path: Path) -> Iterator[None]:
    """Hold ``path`` for this run (the main process): a second run into the same folder is
    refused with one line naming this one, instead of mixing its checkpoints in."""
    if not is_main_process():
        yield
        return
    lock = path / LOCK_FILE
    handle = open(lock, "a+", encoding="utf-8")  # noqa: SIM115  (held for the whole run)
    if not _try_lock(handle):
        holder = _holder_text(handle)
        handle.close()
        raise in_use(path, holder)
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()} on {socket.gethostname()}, since {started}")
    handle.flush()
    try:
        yield
    finally:
        lock.unlink(missing_ok=True)
        handle.close()


def is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def is_run_folder(path: Path) -> bool:
    """Whether ``path`` holds a stepdistill run (finished or not)."""
    return any((path / marker).exists() for marker in RUN_MARKERS)


def holds(folder: Path, path: Path) -> bool:
    """Whether deleting ``folder`` would delete ``path`` (the same place, or one inside it)."""
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
    # the other processes of a distributed run join the main process's hold on the folder
    holder = holder_of(path) if path.is_dir() and is_main_process() else None
    if holder is not None:
        raise in_use(path, holder)
    if path.exists() and any(p.name != LOCK_FILE for p in path.iterdir()):
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
            held = [p for p in protected if holds(path, p)]
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
