"""Filters that set teacher records aside; each returns a reason, or None to keep the record."""

from __future__ import annotations

from collections.abc import Callable

from stepdistill.registry import Registry
from stepdistill.schema import Example, TeacherRecord
from stepdistill.tasks.base import Task

RecordFilter = Callable[[Example, TeacherRecord, Task], str | None]


def agree_with_gold(example: Example, record: TeacherRecord, task: Task) -> str | None:
    """Drop a record whose label the task's metric scores wrong against the gold label."""
    if example.label is None or not record.parse_ok:
        return None
    if task.metric.score(record.teacher_label, example.label):
        return None
    return f"disagrees with gold label {example.label!r}"


FILTERS: Registry[RecordFilter] = Registry("filter")
FILTERS.register("agree-with-gold", agree_with_gold)
