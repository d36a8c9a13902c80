"""Conversion between stepdistill Examples and ``datasets.Dataset``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from stepdistill.data.user import ColumnMap, rows_to_examples
from stepdistill.schema import Example, TeacherRecord
from stepdistill.tasks.labels import AnswerText, LabelKind

if TYPE_CHECKING:
    import datasets

COLUMNS = (
    "id",
    "input",
    "label",
    "rationale",
    "teacher_label",
    "parse_ok",
    "parse_error",
    "teacher",
    "meta",
)


def examples_to_dataset(examples: list[Example]) -> datasets.Dataset:
    """A flat ``datasets.Dataset`` with the columns in ``COLUMNS``.

    ``meta`` is stored as a JSON string, because its fields differ between tasks and rows.
    Teacher columns are None where an example has no teacher record.
    """
    import datasets

    table: dict[str, list] = {column: [] for column in COLUMNS}
    for example in examples:
        record = example.teacher
        table["id"].append(example.id)
        table["input"].append(example.input)
        table["label"].append(example.label)
        table["rationale"].append(record.rationale if record else None)
        table["teacher_label"].append(record.teacher_label if record else None)
        table["parse_ok"].append(record.parse_ok if record else None)
        table["parse_error"].append(record.error if record else None)
        table["teacher"].append(record.teacher if record else None)
        table["meta"].append(json.dumps(example.meta, ensure_ascii=False))
    features = datasets.Features(
        {
            **{c: datasets.Value("string") for c in COLUMNS if c != "parse_ok"},
            "parse_ok": datasets.Value("bool"),
        }
    )
    return datasets.Dataset.from_dict(table, features=features)


def dataset_to_examples(
    dataset: datasets.Dataset,
    *,
    columns: ColumnMap | None = None,
    label_kind: LabelKind = AnswerText(),
) -> list[Example]:
    """Examples from any ``datasets.Dataset``.

    With ``columns=None``, a dataset made by ``examples_to_dataset`` is read back exactly
    (parse status and meta included). Otherwise the mapping picks the columns, as for files.
    """
    if columns is None and set(COLUMNS) <= set(dataset.column_names):
        examples = []
        for row in dataset:
            record = None
            if row["parse_ok"] is not None:
                record = TeacherRecord(
                    example_id=row["id"],
                    rationale=row["rationale"],
                    teacher_label=row["teacher_label"],
                    parse_ok=row["parse_ok"],
                    error=row["parse_error"],
                    teacher=row["teacher"] or "",
                )
            meta = json.loads(row["meta"]) if row["meta"] else {}
            examples.append(Example(row["id"], row["input"], row["label"], meta, record))
        return examples
    return rows_to_examples(
        dataset, columns=columns or ColumnMap(), label_kind=label_kind, source="dataset"
    )
