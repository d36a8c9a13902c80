"""Task specs and the task registry."""

from __future__ import annotations

from stepdistill.registry import Registry
from stepdistill.tasks.base import AnswerPattern, PaperLayout, Task
from stepdistill.tasks.labels import AnswerText, CheckedLabel, ClosedSet, Equation, LabelKind
from stepdistill.tasks.paper import PAPER_TASKS

TASKS: Registry[Task] = Registry("task")
for _task in PAPER_TASKS:
    TASKS.register(_task.name, _task)


def get_task(name: str | Task) -> Task:
    """The task registered under ``name`` (a Task passes through).

    Raises:
        UnknownNameError: listing the registered tasks and suggesting the closest name.
    """
    return name if isinstance(name, Task) else TASKS.get(name)


def register_task(task: Task, *, overwrite: bool = False) -> Task:
    """Make a user-defined task available by name (to the CLI and ``get_task``)."""
    return TASKS.register(task.name, task, overwrite=overwrite)


__all__ = [
    "TASKS",
    "AnswerPattern",
    "AnswerText",
    "CheckedLabel",
    "ClosedSet",
    "Equation",
    "LabelKind",
    "PaperLayout",
    "Task",
    "get_task",
    "register_task",
]
