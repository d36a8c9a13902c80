"""``TaskData``: the splits of one task, with what was missing and how it was assembled."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from stepdistill.errors import MissingSplitError
from stepdistill.schema import Example
from stepdistill.tasks.base import Task


@dataclass
class TaskData:
    """Splits of one task.

    Attributes:
        task: The task spec.
        splits: Split name -> examples (each may carry a ``TeacherRecord``).
        missing: Split name -> the file that would have held it.
        notes: How the splits were assembled (carved validation, subsampling), for reports.
    """

    task: Task
    splits: dict[str, list[Example]]
    missing: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def __getitem__(self, split: str) -> list[Example]:
        """The examples of ``split``. Raises MissingSplitError naming the expected file."""
        if split in self.splits:
            return self.splits[split]
        if split in self.missing:
            raise MissingSplitError(
                f"split {split!r} of task {self.task.name!r} is not available: "
                f"expected {self.missing[split]}"
            )
        raise MissingSplitError(
            f"task {self.task.name!r} has no split {split!r}; "
            f"available: {', '.join(self.splits) or '(none)'}"
        )

    def __contains__(self, split: object) -> bool:
        return split in self.splits

    def first(self, limits: Mapping[str, int | None]) -> TaskData:
        """The same data with only the first N examples of each split ``limits`` names
        (None: all of it), and a note for each split that was cut."""
        splits = dict(self.splits)
        notes = list(self.notes)
        for split, limit in limits.items():
            if limit is not None and split in splits and len(splits[split]) > limit:
                notes.append(f"{split}: the first {limit} of {len(splits[split])} examples")
                splits[split] = splits[split][:limit]
        return replace(self, splits=splits, notes=notes)
