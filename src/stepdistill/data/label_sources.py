"""Where the label a student learns from comes from: the human (gold) label or the teacher's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from stepdistill.registry import Registry
from stepdistill.schema import Example


def _gold(example: Example) -> str | None:
    return example.label


def _teacher(example: Example) -> str | None:
    record = example.teacher
    return record.teacher_label if record is not None and record.usable else None


@dataclass(frozen=True)
class LabelSource:
    """One source of training labels.

    Attributes:
        name: ``gold`` or ``teacher``.
        description: How model cards and reports name it.
        label: The label of an example from this source, or None where it has none.
    """

    name: str
    description: str
    label: Callable[[Example], str | None]


LABEL_SOURCES: Registry[LabelSource] = Registry("label source")
LABEL_SOURCES.register("gold", LabelSource("gold", "human (gold) labels", _gold))
# the teacher's label counts only where its completion parsed and no filter set it aside
LABEL_SOURCES.register("teacher", LabelSource("teacher", "the teacher's labels", _teacher))
