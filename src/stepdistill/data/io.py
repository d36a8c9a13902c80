"""Reading JSON lines and JSON lists with errors that name the file and line; writing files
atomically; a full disk reported in one line."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from stepdistill.config_file import load_yaml
from stepdistill.errors import DataError, DiskFull, StepdistillError

TOO_DEEP = "nested deeper than Python's JSON reader can follow (not a data row)"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSON-lines file (blank lines skipped).

    Raises:
        DataError: a line is not a JSON object; the message gives file and line number.
    """
    return [row for _, row in numbered_jsonl(path)]


def numbered_jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line number, row) of every row of a JSON-lines file (blank lines skipped).

    Raises:
        DataError: a line is not a JSON object; the message gives file and line number.
    """
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path} is a folder, not a JSON-lines file")
    rows: list[tuple[int, dict[str, Any]]] = []
    try:
        with open(path, encoding="utf-8-sig") as handle:
            lines = list(handle)
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not UTF-8 text (byte {error.start})") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise DataError(f"{path}:{number}: not valid JSON ({error.msg})") from None
        except RecursionError:
            raise DataError(f"{path}:{number}: {TOO_DEEP}") from None
        if not isinstance(row, dict):
            raise DataError(f"{path}:{number}: expected a JSON object, got {type(row).__name__}")
        rows.append((number, row))
    return rows


def read_json(path: Path, what: str) -> Any:
    """A JSON file's value. Raises FileNotFoundError naming ``what``, or DataError naming the
    file and line of malformed JSON or text that is not UTF-8."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such {what}: {path}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not UTF-8 text (byte {error.start})") from None
    except json.JSONDecodeError as error:
        raise DataError(f"{path}:{error.lineno}: not valid JSON ({error.msg})") from None
    except RecursionError:
        raise DataError(f"{path}: {TOO_DEEP}") from None


def read_json_list(path: Path) -> list[Any]:
    """A file holding one JSON list. Raises DataError naming the file otherwise."""
    try:
        with open(path, encoding="utf-8") as handle:
            value = json.load(handle)
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not UTF-8 text (byte {error.start})") from None
    except json.JSONDecodeError as error:
        raise DataError(f"{path}:{error.lineno}: not valid JSON ({error.msg})") from None
    except RecursionError:
        raise DataError(f"{path}: {TOO_DEEP}") from None
    if not isinstance(value, list):
        raise DataError(f"{path}: expected a JSON list, got {type(value).__name__}")
    return value


def _read_umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


# read once, at import: setting the umask to read it is not safe while other threads create files
_UMASK = _read_umask()


def _atomic_write(path: Path, write: Any) -> None:
    """Write through a temporary file in the same folder and a rename, so that a crash never
    leaves half a file behind."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        # mkstemp makes the file private (0600); give it the mode open() would have
        os.chmod(temporary, 0o666 & ~_UMASK)
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            write(stream)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as indented JSON, atomically."""

    def write(stream: Any) -> None:
        json.dump(data, stream, indent=2, ensure_ascii=False)
        stream.write("\n")

    _atomic_write(path, write)


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    """Write ``rows`` as JSON lines, atomically."""
    write_lines(path, (json.dumps(row, ensure_ascii=False) + "\n" for row in rows))


def write_lines(path: Path, lines: Iterable[str]) -> None:
    """Write ``lines`` (each ending in a newline) as they are, atomically."""

    def write(stream: Any) -> None:
        stream.writelines(lines)

    _atomic_write(path, write)


def read_yaml(path: Path, what: str) -> dict[str, Any]:
    """A YAML file holding a mapping (a task file, recipe or pipeline).

    Raises:
        FileNotFoundError: no such file.
        DataError: a folder, text that is not UTF-8, malformed YAML, or not a mapping; the
            message names ``what`` and the file.
    """
    import yaml

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such {what}: {path}")
    if path.is_dir():
        raise DataError(f"{what} {path} is a folder, not a YAML file")
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise DataError(f"{what} {path}: not UTF-8 text") from None
    except DataError as error:
        raise DataError(f"{what} {path}: {error}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise DataError(f"{what} {path}{where}: not valid YAML ({problem})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise DataError(f"{what} {path}: expected a mapping of keys, got {type(data).__name__}")
    return data


# free bytes below which a failed write is taken to be the disk's fault, whatever the library
# that failed makes of it (torch: "unexpected pos"; SQLite: "database or disk is full")
LOW_SPACE = 1_048_576
FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


def free_bytes(folder: Path) -> int:
    """Free bytes for this user on the device of ``folder`` (or of its nearest existing
    parent)."""
    folder = Path(folder).absolute()
    while not folder.exists():
        folder = folder.parent
    return shutil.disk_usage(folder).free


@contextlib.contextmanager
def writing_to(*folders: Path, resumes: str) -> Iterator[None]:
    """Turn a write that fails on a full device, inside, into one ``DiskFull`` line that names
    the folder and says how a rerun resumes (``resumes``); any other error passes unchanged."""
    try:
        yield
    except StepdistillError:
        raise
    except Exception as error:
        low = [folder for folder in folders if free_bytes(folder) < LOW_SPACE]
        said_full = isinstance(error, OSError) and error.errno in FULL_ERRNOS
        if not low and not said_full:
            raise
        raise disk_full((low or list(folders))[0], resumes) from error


def disk_full(folder: Path, resumes: str) -> DiskFull:
    """The one-line error of a full device under ``folder``, saying how a rerun resumes."""
    return DiskFull(
        f"no space left on the device of {folder} ({free_bytes(folder) // 1024} KB free): "
        f"free some space or write elsewhere; {resumes}"
    )
