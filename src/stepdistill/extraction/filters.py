"""Filters that set teacher records aside; each returns a reason, or None to keep the record.

A filter is named in a spec, with an argument where it takes one: ``agree-with-gold``,
``judge-min=4``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from stepdistill.errors import StepdistillError
from stepdistill.registry import Registry
from stepdistill.schema import Example, TeacherRecord
from stepdistill.tasks.base import Task

RecordFilter = Callable[[Example, TeacherRecord, Task], str | None]


def agree_with_gold(argument: str | None) -> RecordFilter:
    """Drop a record whose label the task's metric scores wrong against the gold label."""
    if argument is not None:
        raise StepdistillError(f"filter agree-with-gold takes no argument, got {argument!r}")

    def check(example: Example, record: TeacherRecord, task: Task) -> str | None:
        if example.label is None or not record.parse_ok:
            return None
        if task.metric.score(record.teacher_label, example.label):
            return None
        return f"disagrees with gold label {example.label!r}"

    return check


def judge_min(argument: str | None) -> RecordFilter:
    """Drop a record whose rationale a judge scored under the argument (or did not score)."""
    try:
        minimum = float(argument) if argument is not None else None
    except ValueError:
        minimum = None
    if minimum is None:
        raise StepdistillError(
            f"filter judge-min needs a score, e.g. judge-min=4, got {argument!r}"
        )

    def check(example: Example, record: TeacherRecord, task: Task) -> str | None:
        if not record.parse_ok:
            return None
        if record.judge_score is None:
            return "no judge score (not judged, or the judge's answer could not be read)"
        if record.judge_score < minimum:
            return f"judge score {record.judge_score:g} is under {minimum:g}"
        return None

    return check


def no_hint_echo(argument: str | None) -> RecordFilter:
    """Drop a rationale written with the label in view that merely repeats it."""
    if argument is not None:
        raise StepdistillError(f"filter no-hint-echo takes no argument, got {argument!r}")

    def check(example: Example, record: TeacherRecord, task: Task) -> str | None:
        if record.meta.get("hint_echo"):
            return "the rationale, written with the label in view, merely repeats it"
        return None

    return check


FILTERS: Registry[Callable[[str | None], RecordFilter]] = Registry("filter")
FILTERS.register("agree-with-gold", agree_with_gold)
FILTERS.register("judge-min", judge_min)
FILTERS.register("no-hint-echo", no_hint_echo)


def parse_filter(spec: str) -> RecordFilter:
    """The filter a spec names (``judge-min=4``). Raises UnknownNameError or StepdistillError."""
    name, separator, argument = spec.partition("=")
    return FILTERS.get(name)(argument if separator else None)


def needs_judge(specs: tuple[str, ...]) -> bool:
    return any(spec.partition("=")[0] == "judge-min" for spec in specs)


def apply_filters(
    examples: Sequence[Example], records: Sequence[TeacherRecord], specs: Sequence[str], task: Task
) -> list[TeacherRecord]:
    """The records, each set aside by the first filter that rejects it (``filtered`` says which
    and why); records already set aside stay as they are."""
    checks = [(spec, parse_filter(spec)) for spec in specs]
    by_id = {example.id: example for example in examples}
    result = []
    for record in records:
        example = by_id.get(record.example_id)
        if example is not None and record.filtered is None:
            for spec, check in checks:
                reason = check(example, record, task)
                if reason is not None:
                    record = replace(record, filtered=f"{spec}: {reason}")
                    break
        result.append(record)
    return result
