"""The splits of a task file's data as Examples, checked row by row: errors name the file, the
row and the column, and what would be accepted."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from stepdistill.data.sources import read_split_rows
from stepdistill.data.splits import carve_and_subsample
from stepdistill.data.task_data import TaskData
from stepdistill.data.user import column_teacher_record
from stepdistill.errors import DataError, MissingSplitError
from stepdistill.schema import Example
from stepdistill.tasks.task_file import SPLITS, SplitSource, TaskFile

logger = logging.getLogger(__name__)


def _columns_present(row: Mapping[str, Any]) -> str:
    return ", ".join(map(str, row)) or "(none)"


def _check_columns(task_file: TaskFile, row: Mapping[str, Any], where: str) -> None:
    for role, column in task_file.columns.items():
        if column not in row:
            raise DataError(
                f"{where}: no column {column!r} (the task file's {role}); columns present: "
                f"{_columns_present(row)}"
            )
    for name in task_file.template_fields:
        if name not in row and name != "sep":
            raise DataError(
                f"{where}: the input template reads {{{name}}} but there is no column {name!r}; "
                f"columns present: {_columns_present(row)}"
            )


def _gold_label(task_file: TaskFile, row: Mapping[str, Any], where: str) -> str | None:
    column = task_file.label_column
    if column is None:
        return None
    task = task_file.task
    value = row[column]
    if value is None or not str(value).strip():
        raise DataError(f"{where}, column {column!r}: empty label")
    try:
        label = task.gold_label(row)
    except DataError as error:
        raise DataError(f"{where}, column {column!r}: {str(error).split(': ', 1)[-1]}") from None
    checked = task.label_kind.check(label)
    if checked.label is None:
        raise DataError(f"{where}, column {column!r}: {checked.error}")
    # closed sets take their canonical spelling; open labels stay as the data has them
    return checked.label if task.label_space else label.strip()


VALUES_SHOWN = 10


def _label_hint(task_file: TaskFile, rows: list[dict[str, Any]]) -> str:
    """The values the label column holds, and, where they look like codes (0, 1, 2) for a
    closed set without ``label_map``, the ``label_map`` that would read them."""
    column = task_file.label_column
    labels = task_file.task.label_space
    if column is None:
        return ""
    counts: dict[str, int] = {}
    for row in rows:
        value = str(row.get(column, "")).strip()
        counts[value] = counts.get(value, 0) + 1
    values = sorted(counts, key=lambda value: -counts[value])
    shown = ", ".join(f"{value!r} ({counts[value]})" for value in values[:VALUES_SHOWN])
    more = f" and {len(values) - VALUES_SHOWN} more" if len(values) > VALUES_SHOWN else ""
    hint = f"; the column holds {shown}{more}"
    if labels and task_file.task.label_map is None and all(v.lstrip("-").isdigit() for v in values):
        codes = sorted(values, key=int)
        pairs = ", ".join(f"{code}: {label}" for code, label in zip(codes, labels, strict=False))
        hint += (
            f". They look like codes: map them to the labels with label_map in the task file, "
            f"e.g. label_map: {{{pairs}}} (check the order against the data's documentation)"
        )
    return hint


def rows_to_task_examples(
    task_file: TaskFile, rows: list[dict[str, Any]], *, split: str, source: str, sep: str
) -> list[Example]:
    """Examples of one split's rows (see the module docstring for the checks)."""
    task = task_file.task
    examples: list[Example] = []
    seen: set[str] = set()
    for number, row in enumerate(rows, start=1):
        where = f"{source}: row {number}"
        _check_columns(task_file, row, where)
        try:
            text = task.format_input(row, sep=sep)
        except (DataError, TypeError, ValueError, AttributeError) as error:
            raise DataError(f"{where}: cannot build the input ({error})") from None
        if not text.strip():
            raise DataError(f"{where}: the input is empty")
        example_id = (
            str(row[task_file.id_column])
            if task_file.id_column
            else f"{task.name}-{split}-{number - 1}"
        )
        if example_id in seen:
            raise DataError(f"{where}: duplicate id {example_id!r}")
        seen.add(example_id)
        try:
            label = _gold_label(task_file, row, where)
        except DataError as error:
            raise DataError(f"{error}{_label_hint(task_file, rows)}") from None
        meta = {key: value for key, value in row.items() if key != task_file.label_column}
        record = column_teacher_record(
            example_id,
            row,
            rationale_column=task_file.rationale_column,
            teacher_label_column=task_file.teacher_label_column,
            label_kind=task.label_kind,
            teacher=f"column {task_file.rationale_column or task_file.teacher_label_column}",
        )
        examples.append(Example(example_id, text, label, meta, record))
    return examples


def _read(task_file: TaskFile, split: str, source: SplitSource, sep: str) -> list[Example]:
    rows = read_split_rows(source)
    if not rows:
        raise DataError(f"{source.describe()}: no rows (the task file's {split} split)")
    return rows_to_task_examples(task_file, rows, split=split, source=source.describe(), sep=sep)


def load_task_file_data(
    task_file: TaskFile, *, train_fraction: float = 1.0, seed: int = 0, sep: str = "</s>"
) -> TaskData:
    """Every split of a task file's data, each row checked.

    Missing splits are carved from train, test first (``test_fraction``, if above 0) and then
    validation (``valid_fraction``), with ``split_seed``; ``train_fraction`` of what is left is
    then kept, drawn with ``seed``, so every data size is selected on the same validation set.

    Raises:
        DataError: a file, row or column is not what the task file says.
        MissingSplitError: a split is asked for that the data does not have.
    """
    splits = {
        split: _read(task_file, split, source, sep) for split, source in task_file.sources.items()
    }
    notes = [f"task file {task_file.path}"]
    carves = [
        (split, fraction, task_file.split_seed, "")
        for split, fraction in (
            ("test", task_file.test_fraction),
            ("valid", task_file.valid_fraction),
        )
    ]
    column = task_file.group_column
    group = (lambda example: str(example.meta.get(column))) if column else None
    carve_and_subsample(
        splits, notes, carves=carves, train_fraction=train_fraction, seed=seed, group=group
    )
    if task_file.label_column is None:
        notes.append("unlabeled data: no label_column (teacher labels only)")
    # an absent split: the task file is where it would have been named
    missing = {split: task_file.path for split in SPLITS if split not in splits}
    ordered = {name: splits[name] for name in SPLITS if name in splits}
    if not ordered:
        raise MissingSplitError(f"task file {task_file.path} gives no split")
    return TaskData(task=task_file.task, splits=ordered, missing=missing, notes=notes)
