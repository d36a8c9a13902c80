"""Conversion between stepdistill Examples and ``datasets.Dataset``.

The columns are derived from the ``Example`` and ``TeacherRecord`` contracts, so a field added
to either survives a round trip without this module being edited.
"""

from __future__ import annotations

import json
from dataclasses import MISSING, fields
from typing import TYPE_CHECKING, Any

from stepdistill.data.user import ColumnMap, rows_to_examples
from stepdistill.schema import Example, TeacherRecord
from stepdistill.tasks.labels import AnswerText, LabelKind

if TYPE_CHECKING:
    import datasets

EXAMPLE_COLUMNS = ("id", "input", "label", "meta")
# record field -> column, where the field's own name would clash with an example column or
# mislead (``error`` is why the teacher's completion did not parse)
_RENAMED = {"error": "parse_error", "meta": "teacher_meta"}
TEACHER_COLUMNS = {
    field.name: _RENAMED.get(field.name, field.name)
    for field in fields(TeacherRecord)
    if field.name != "example_id"
}
COLUMNS = EXAMPLE_COLUMNS + tuple(TEACHER_COLUMNS.values())
_REQUIRED = {
    field.name
    for field in fields(TeacherRecord)
    if field.default is MISSING and field.default_factory is MISSING
}
# dictionaries differ between tasks and rows, so they are stored as JSON text
_JSON_COLUMNS = {"meta", "teacher_meta"}
_BOOL_COLUMNS = {"parse_ok"}


def _cell(column: str, value: Any) -> Any:
    if column in _JSON_COLUMNS and value is not None:
        return json.dumps(value, ensure_ascii=False)
    return value


def examples_to_dataset(examples: list[Example]) -> datasets.Dataset:
    """A flat ``datasets.Dataset`` with the columns in ``COLUMNS``.

    Teacher columns are None where an example has no teacher record.
    """
    import datasets

    table: dict[str, list] = {column: [] for column in COLUMNS}
    for example in examples:
        for column in EXAMPLE_COLUMNS:
            table[column].append(_cell(column, getattr(example, column)))
        record = example.teacher
        for name, column in TEACHER_COLUMNS.items():
            table[column].append(_cell(column, getattr(record, name)) if record else None)
    features = datasets.Features(
        {
            column: datasets.Value("bool" if column in _BOOL_COLUMNS else "string")
            for column in COLUMNS
        }
    )
    return datasets.Dataset.from_dict(table, features=features)


def _record(row: dict[str, Any]) -> TeacherRecord | None:
    if row["parse_ok"] is None:
        return None
    values: dict[str, Any] = {name: row.get(column) for name, column in TEACHER_COLUMNS.items()}
    # an absent value takes the field's default (teacher "", meta {}); required ones stay None
    values = {
        name: value for name, value in values.items() if value is not None or name in _REQUIRED
    }
    if values.get("meta") is not None:
        values["meta"] = json.loads(values["meta"])
    return TeacherRecord(example_id=row["id"], **values)


def dataset_to_examples(
    dataset: datasets.Dataset,
    *,
    columns: ColumnMap | None = None,
    label_kind: LabelKind = AnswerText(),
) -> list[Example]:
    """Examples from any ``datasets.Dataset``.

    With ``columns=None``, a dataset made by ``examples_to_dataset`` is read back exactly
    (every teacher record field included). Otherwise the mapping picks the columns, as for
    files.
    """
    if columns is None and {*EXAMPLE_COLUMNS, "parse_ok"} <= set(dataset.column_names):
        examples = []
        for row in dataset:
            meta = json.loads(row["meta"]) if row["meta"] else {}
            examples.append(Example(row["id"], row["input"], row["label"], meta, _record(row)))
        return examples
    return rows_to_examples(
        dataset, columns=columns or ColumnMap(), label_kind=label_kind, source="dataset"
    )
