"""When the teacher is shown the gold label (rationalization, Zelikman et al. 2022, STaR).

- ``off``: the teacher answers every question on its own.
- ``hinted``: every labeled question shows its correct answer; the teacher explains it.
- ``two-pass``: asked without the hint first; the examples whose answer was wrong or could not
  be read are asked again with the hint.
"""

from __future__ import annotations

from dataclasses import dataclass

from stepdistill.registry import Registry
from stepdistill.schema import Example, TeacherRecord
from stepdistill.tasks.base import Task

FIRST_PASS = "first"
HINTED_PASS = "hinted"


@dataclass(frozen=True)
class Rationalization:
    """A rationalization mode: whether the first ask shows the label, and whether the examples
    it got wrong are asked again with it."""

    name: str
    hint_first: bool
    retry_wrong: bool

    @property
    def hints(self) -> bool:
        return self.hint_first or self.retry_wrong


def answered_wrong(example: Example, record: TeacherRecord, task: Task) -> bool:
    """Whether a labeled example's record has no usable answer, or one the task scores wrong."""
    if example.label is None:
        return False
    if not record.parse_ok or record.teacher_label is None:
        return True
    return not task.metric.score(record.teacher_label, example.label)


RATIONALIZATIONS: Registry[Rationalization] = Registry("rationalization mode")
for mode in (
    Rationalization("off", hint_first=False, retry_wrong=False),
    Rationalization("hinted", hint_first=True, retry_wrong=False),
    Rationalization("two-pass", hint_first=False, retry_wrong=True),
):
    RATIONALIZATIONS.register(mode.name, mode)
