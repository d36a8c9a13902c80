"""Reading the rows of one split from wherever a user keeps them: JSON lines / JSON, CSV, TSV,
Parquet, a ``datasets`` folder written by ``save_to_disk``, or a hub dataset."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stepdistill.data.io import TOO_DEEP, read_jsonl
from stepdistill.errors import DataError
from stepdistill.registry import Registry
from stepdistill.tasks.task_file import SplitSource

Rows = list[dict[str, Any]]


def read_json_rows(path: Path) -> Rows:
    """JSON lines, or one JSON list of objects (files named .json are often either)."""
    with open(path, encoding="utf-8-sig") as handle:
        head = handle.read(1)
        while head and head.isspace():
            head = handle.read(1)
    if head != "[":
        return read_jsonl(path)
    try:
        rows = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as error:
        raise DataError(f"{path}:{error.lineno}: not valid JSON ({error.msg})") from None
    except RecursionError:
        raise DataError(f"{path}: {TOO_DEEP}") from None
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise DataError(f"{path}: item {number} is a {type(row).__name__}, not an object")
    return rows


def _delimited(delimiter: str) -> Callable[[Path], Rows]:
    def read(path: Path) -> Rows:
        # utf-8-sig: a byte-order mark is not part of the first column's name
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle, delimiter=delimiter)
            try:
                return [dict(row) for row in reader]
            except csv.Error as error:
                raise DataError(f"{path}:{reader.line_num}: {error}") from None

    return read


def read_parquet(path: Path) -> Rows:
    import pyarrow
    import pyarrow.parquet

    try:
        return pyarrow.parquet.read_table(path).to_pylist()
    except pyarrow.ArrowException as error:
        raise DataError(f"{path}: not a readable Parquet file ({error})") from None


FILE_READERS: Registry[Callable[[Path], Rows]] = Registry("data file type")
FILE_READERS.register(".jsonl", read_json_rows)
FILE_READERS.register(".json", read_json_rows)
FILE_READERS.register(".csv", _delimited(","))
FILE_READERS.register(".tsv", _delimited("\t"))
FILE_READERS.register(".parquet", read_parquet)


def read_file_rows(path: Path) -> Rows:
    """Rows of a data file, by its suffix.

    Raises:
        FileNotFoundError: no such file.
        DataError: an unknown file type, a malformed line (file and line named), or text that
            is not UTF-8.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such data file: {path}")
    if path.is_dir():
        raise DataError(f"{path} is a folder: give a file, or a datasets folder with `split:`")
    suffix = path.suffix.lower()
    if suffix not in FILE_READERS:
        raise DataError(
            f"{path}: unsupported file type {suffix!r}; use {', '.join(FILE_READERS.names())}, "
            "or a datasets folder (save_to_disk)"
        )
    try:
        return FILE_READERS.get(suffix)(path)
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not UTF-8 text (byte {error.start})") from None


def _dataset_rows(dataset: Any, where: str, split: str | None) -> Rows:
    import datasets

    if isinstance(dataset, datasets.DatasetDict):
        if split is None or split not in dataset:
            raise DataError(
                f"{where} holds the splits {', '.join(dataset)}: name one with `split:`"
                + (f" (not {split!r})" if split else "")
            )
        dataset = dataset[split]
    return [dict(row) for row in dataset]


def read_split_rows(source: SplitSource) -> Rows:
    """The rows of one split, wherever ``source`` says they are."""
    if source.hf is not None:
        import datasets

        try:
            dataset = datasets.load_dataset(source.hf, source.config, split=source.split)
        except Exception as error:  # a hub or builder error; the message says which
            raise DataError(f"hf:{source.hf}: {type(error).__name__}: {error}") from None
        return _dataset_rows(dataset, f"hf:{source.hf}", source.split)
    if source.path is None:
        raise DataError("a data source needs a path or a hub dataset")
    path = Path(source.path)
    if path.is_dir():
        import datasets

        try:
            dataset = datasets.load_from_disk(str(path))
        except FileNotFoundError:
            raise DataError(f"{path} is a folder but not one written by save_to_disk") from None
        return _dataset_rows(dataset, str(path), source.split)
    if source.split is not None:
        raise DataError(f"{path}: `split:` is for datasets folders and hub datasets, not files")
    return read_file_rows(path)
