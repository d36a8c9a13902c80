"""``TaskData``: the splits of one task, with what was missing and how it was assembled."""

from __future__ import annotations

from dataclasses import dataclass, field
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
