"""Teacher JSONL files: read them back and join them to task data by example id."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from stepdistill.data.io import read_jsonl
from stepdistill.data.task_data import TaskData
from stepdistill.errors import DataError
from stepdistill.schema import TeacherRecord


def read_teacher_file(path: str | Path) -> dict[str, TeacherRecord]:
    """Records of a teacher JSONL file by example id. Raises DataError naming file and line."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such teacher file: {path}")
    records: dict[str, TeacherRecord] = {}
    for number, row in enumerate(read_jsonl(path), start=1):
        if "example_id" not in row or "parse_ok" not in row:
            raise DataError(
                f"{path}:{number}: not a teacher record (needs example_id and parse_ok)"
            )
        record = TeacherRecord.from_dict(row)
        if record.example_id in records:
            raise DataError(f"{path}:{number}: example {record.example_id!r} appears twice")
        records[record.example_id] = record
    return records


def attach_teacher_records(data: TaskData, records: dict[str, TeacherRecord]) -> TaskData:
    """The same splits with each example's teacher output replaced by the file's record (or
    removed where the file has none), and a note of how many matched."""
    splits = {}
    notes = list(data.notes)
    for name, examples in data.splits.items():
        joined = [replace(example, teacher=records.get(example.id)) for example in examples]
        matched = sum(example.teacher is not None for example in joined)
        splits[name] = joined
        notes.append(
            f"{name}: {matched} of {len(joined)} examples have a record in the teacher file"
        )
    if not any(example.teacher is not None for examples in splits.values() for example in examples):
        raise DataError("no example id of the task data appears in the teacher file")
    return TaskData(task=data.task, splits=splits, missing=dict(data.missing), notes=notes)
