"""User tasks: examples from JSONL or CSV files with a column mapping."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stepdistill.data.sources import read_file_rows
from stepdistill.errors import DataError
from stepdistill.schema import Example, TeacherRecord
from stepdistill.tasks.labels import AnswerText, LabelKind
from stepdistill.tasks.parsing import INVALID_LABEL

# The kinds of unusable teacher columns (``TeacherRecord.reason``), besides the parser's.
NO_RATIONALE = "no rationale"
NO_TEACHER_LABEL = "no teacher label"


@dataclass(frozen=True)
class ColumnMap:
    """Which columns of a user's file hold what.

    Attributes:
        input: Column with the model input text (required).
        label: Column with the gold label; None when the data is unlabeled.
        rationale: Column with a teacher (or human) rationale, optional.
        teacher_label: Column with a teacher's label, optional.
        id: Column with a stable id; rows are numbered when None.
    """

    input: str = "input"
    label: str | None = "label"
    rationale: str | None = None
    teacher_label: str | None = None
    id: str | None = None

    def used(self) -> dict[str, str]:
        """Role -> column name for every mapped role."""
        roles = ("input", "label", "rationale", "teacher_label", "id")
        return {role: getattr(self, role) for role in roles if getattr(self, role)}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if text.strip() else None


def column_teacher_record(
    example_id: str,
    row: Mapping[str, Any],
    *,
    rationale_column: str | None,
    teacher_label_column: str | None,
    label_kind: LabelKind,
    teacher: str,
) -> TeacherRecord | None:
    """The teacher record held in a row's rationale / teacher-label columns (None without them).

    A teacher label is checked with ``label_kind``; one that fails, and a missing rationale or
    label, give an unparsable record (``parse_ok=False``) that never becomes a training label.
    """
    if not rationale_column and not teacher_label_column:
        return None
    rationale = _text(row.get(rationale_column)) if rationale_column else None
    raw_label = _text(row.get(teacher_label_column)) if teacher_label_column else None
    checked = label_kind.check(raw_label) if raw_label is not None else None
    error = reason = None
    if rationale_column and rationale is None:
        error = reason = NO_RATIONALE
    elif teacher_label_column and raw_label is None:
        error = reason = NO_TEACHER_LABEL
    elif checked is not None and checked.label is None:
        error, reason = f"{INVALID_LABEL}: {checked.error}", INVALID_LABEL
    return TeacherRecord(
        example_id=example_id,
        rationale=rationale,
        teacher_label=checked.label if checked else None,
        parse_ok=error is None,
        error=error,
        teacher=teacher,
        reason=reason,
    )


def rows_to_examples(
    rows: Iterable[Mapping[str, Any]],
    *,
    columns: ColumnMap = ColumnMap(),
    label_kind: LabelKind = AnswerText(),
    source: str = "rows",
    id_prefix: str = "row",
    teacher: str = "user-file",
) -> list[Example]:
    """Turn mapped rows into Examples; rationale / teacher label columns become TeacherRecords.

    A teacher label is checked with ``label_kind``; one that fails is kept as an unparsable
    record (``parse_ok=False``) so it never becomes a training label.

    Raises:
        DataError: a mapped column is absent from a row; the message names the source, row
            number, the column and the columns that are there.
    """
    examples: list[Example] = []
    seen_ids: set[str] = set()
    for number, row in enumerate(rows, start=1):
        for role, column in columns.used().items():
            if column not in row:
                raise DataError(
                    f"{source}: row {number} has no column {column!r} (mapped as {role}); "
                    f"columns present: {', '.join(map(str, row))}"
                )
        input_text = _text(row[columns.input])
        if input_text is None:
            raise DataError(f"{source}: row {number}: column {columns.input!r} is empty")
        example_id = str(row[columns.id]) if columns.id else f"{id_prefix}-{number - 1}"
        if example_id in seen_ids:
            raise DataError(f"{source}: row {number}: duplicate id {example_id!r}")
        seen_ids.add(example_id)
        label = _text(row.get(columns.label)) if columns.label else None
        mapped = set(columns.used().values())
        meta = {key: value for key, value in row.items() if key not in mapped}
        record = column_teacher_record(
            example_id,
            row,
            rationale_column=columns.rationale,
            teacher_label_column=columns.teacher_label,
            label_kind=label_kind,
            teacher=teacher,
        )
        examples.append(Example(example_id, input_text, label, meta, record))
    return examples


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Rows of a data file (see ``sources.read_file_rows`` for the types it reads)."""
    return read_file_rows(path)


def load_user_examples(
    path: str | Path,
    *,
    columns: ColumnMap = ColumnMap(),
    label_kind: LabelKind = AnswerText(),
) -> list[Example]:
    """Examples from a user's JSONL or CSV file (see ``ColumnMap`` and ``rows_to_examples``)."""
    path = Path(path)
    rows = read_rows(path)
    if not rows:
        raise DataError(f"{path}: no rows")
    return rows_to_examples(
        rows,
        columns=columns,
        label_kind=label_kind,
        source=str(path),
        id_prefix=path.stem,
    )
