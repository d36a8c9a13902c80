"""``inspect_task``: sizes, teacher accuracy and parse failures of every split, as a plain dict."""

from __future__ import annotations

from collections import Counter
from typing import Any

from stepdistill.data.task_data import TaskData
from stepdistill.evaluation.classes import label_counts
from stepdistill.schema import Example
from stepdistill.tasks.base import Task


def teacher_summary(examples: list[Example], task: Task) -> dict[str, Any] | None:
    """Teacher label accuracy against gold and parse failures for one split (None: no teacher).

    Accuracy is over every row with a gold label, an unparsable completion counting as wrong,
    as the reference computes it.
    """
    records = [example.teacher for example in examples if example.teacher is not None]
    if not records or len(records) != len(examples):
        return None
    metric = task.metric
    scored = [
        (record.teacher_label, example.label)
        for example, record in zip(examples, records, strict=True)
        if example.label is not None
    ]
    failures = Counter(r.reason or "unknown" for r in records if not r.parse_ok)
    summary: dict[str, Any] = {
        "teacher": records[0].teacher,
        "records": len(records),
        "parsed_ok": sum(r.parse_ok for r in records),
        "unparsable": sum(failures.values()),
        "unparsable_by_reason": dict(sorted(failures.items())),
        "accuracy": metric.accuracy(*zip(*scored, strict=True)) if scored else None,
    }
    if scored:
        summary.update(task.label_kind.extra_accuracies(*zip(*scored, strict=True)))
    return summary


def _example_view(example: Example, width: int) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": example.id,
        "input": example.input[:width],
        "label": example.label,
    }
    if example.teacher is not None:
        view["teacher_label"] = example.teacher.teacher_label
        view["rationale"] = (example.teacher.rationale or "")[:width]
        if not example.teacher.parse_ok:
            view["parse_error"] = example.teacher.error
    return view


LABELS_SHOWN = 3  # an open label kind's most common labels shown


def label_distribution(examples: list[Example], task: Task) -> dict[str, Any]:
    """The split's gold labels: every class of a closed set (those absent at 0), else the
    number of distinct labels and the most common few."""
    counts = label_counts(example.label for example in examples)
    unlabeled = sum(example.label is None for example in examples)
    if task.label_space:
        return {
            "counts": {label: counts.get(label, 0) for label in task.label_space},
            "unlabeled": unlabeled,
        }
    common = dict(list(counts.items())[:LABELS_SHOWN])
    return {"distinct": len(counts), "most_common": common, "unlabeled": unlabeled}


def shared_inputs(data: TaskData) -> dict[str, int]:
    """How many inputs of each evaluation split appear word for word in train (a leak: the
    student is scored on what it learned)."""
    train = {example.input for example in data.splits.get("train", [])}
    return {
        split: sum(example.input in train for example in data.splits[split])
        for split in ("valid", "test")
        if split in data.splits and train
    }


def inspect_task(data: TaskData, *, n_examples: int = 2, width: int = 300) -> dict[str, Any]:
    """A JSON-ready report of ``data``: per split size, label distribution, teacher accuracy,
    parse failures and a few examples (the first ``n_examples``, plus the first unparsable one
    if any); and the inputs evaluation splits share with train."""
    task = data.task
    report: dict[str, Any] = {
        "task": task.name,
        "description": task.description,
        "label_kind": task.label_kind.file_key,
        "label_space": list(task.label_space) if task.label_space else None,
        "metric": task.metric_name,
        "splits": {},
        "missing_splits": {split: str(path) for split, path in data.missing.items()},
        "notes": list(data.notes),
    }
    for split, examples in data.splits.items():
        shown = examples[:n_examples]
        failed = next(
            (e for e in examples if e.teacher is not None and not e.teacher.parse_ok), None
        )
        if failed is not None and failed not in shown:
            shown = [*shown, failed]
        report["splits"][split] = {
            "size": len(examples),
            "labels": label_distribution(examples, task),
            "teacher": teacher_summary(examples, task),
            "examples": [_example_view(example, width) for example in shown],
        }
    report["shared_with_train"] = shared_inputs(data)
    return report
