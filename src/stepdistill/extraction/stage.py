"""The extraction stage's entry: a task's examples and ``TeacherSettings`` in, a teacher file
and its report out. The CLI, pipelines and the demo all run extraction through here."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from stepdistill.data.task_source import TaskSource
from stepdistill.evaluation.classes import label_counts
from stepdistill.extraction.estimate import estimate_extraction, record_extraction
from stepdistill.extraction.extract import (
    ExtractionConfig,
    ExtractionReport,
    extract,
    reasoning_requests,
)
from stepdistill.extraction.settings import TeacherSettings, estimate, prompting
from stepdistill.prompts import Exemplar, PromptStyle
from stepdistill.schema import Example, TeacherRecord
from stepdistill.teacher import CHARS_PER_TOKEN

SAMPLES = 6  # the records a run report shows, so that a reader sees what the teacher wrote


@dataclass
class ExtractionRun:
    """What one extraction produced: its records, its report, and how the teacher was asked."""

    records: list[TeacherRecord]
    report: ExtractionReport
    zero_shot: bool
    exemplars: int
    seconds: float
    samples: list[dict[str, Any]]

    def summary(self) -> dict[str, Any]:
        """The report's counts with the prompting, the time taken and the first few records
        beside their examples (for run reports)."""
        return {
            **self.report.to_dict(),
            "seconds": round(self.seconds, 1),
            "zero_shot": self.zero_shot,
            "exemplars": self.exemplars,
            "samples": self.samples,
            "kept_labels": label_counts(r.teacher_label for r in self.records if r.usable),
        }


def samples(examples: Sequence[Example], records: Sequence[TeacherRecord]) -> list[dict[str, Any]]:
    """The first ``SAMPLES`` examples with their record: input, gold and teacher label, the
    rationale, whether it was kept and why not."""
    by_id = {record.example_id: record for record in records}
    return [
        {
            "input": example.input,
            "gold": example.label,
            "teacher": record.teacher_label,
            "rationale": record.rationale,
            "kept": record.usable,
            "why_not": record.filtered or record.error,
        }
        for example in examples[:SAMPLES]
        if (record := by_id.get(example.id)) is not None
    ]


def split_examples(source: TaskSource, settings: TeacherSettings) -> list[Example]:
    """The examples the teacher explains: the first ``limit`` of the settings' split."""
    return list(source.load(sep="\n", teacher=False)[settings.split][: settings.limit])


def _prompting(
    source: TaskSource, settings: TeacherSettings
) -> tuple[PromptStyle, list[Exemplar], ExtractionConfig]:
    """The prompt style, the exemplars and the extraction config these settings give."""
    style, exemplars, zero_shot = prompting(source, settings)
    return style, exemplars, settings.extraction_config(style, zero_shot)


def extraction_plan(
    source: TaskSource,
    settings: TeacherSettings,
    examples: Sequence[Example] | None = None,
    *,
    may_calibrate: bool = True,
) -> dict[str, Any]:
    """The examples, requests, token and cost ceilings an extraction would have, and its
    estimated duration here, sending nothing to a paid teacher (``examples``: the split's, by
    default; ``may_calibrate``: an in-process teacher may be timed on a few requests)."""
    examples = split_examples(source, settings) if examples is None else examples
    style, exemplars, config = _prompting(source, settings)
    hint = config.shown_hint if config.mode.hint_first else None
    requests = reasoning_requests(examples, style, exemplars, config, hint)
    plan = {"examples": len(examples), **estimate(requests, settings, config.zero_shot)}
    if settings.batch:
        plan["batch"] = batch_plan(settings, plan)
    if config.mode.retry_wrong:
        # at most every labeled example is asked again, with its label in view
        labeled = [example for example in examples if example.label is not None]
        again = estimate(
            reasoning_requests(labeled, style, exemplars, config, config.shown_hint),
            settings,
            config.zero_shot,
        )
        plan["rationalization_max_requests"] = again["requests"]
    found = estimate_extraction(settings, requests, plan["requests"], may_calibrate=may_calibrate)
    plan["duration"] = found.to_dict()
    return plan


def batch_plan(settings: TeacherSettings, plan: dict[str, Any]) -> dict[str, Any]:
    """How a batch-mode extraction's first pass would be sent: its batches (after splitting
    at the per-batch limits) and the cost ceiling without the batch discount, beside it."""
    online = replace(settings, batch=False)
    size = (plan["estimated_prompt_tokens"] * CHARS_PER_TOKEN) + 200 * plan["requests"]
    return {
        "discount": settings.batch_discount,
        "batches": max(
            math.ceil(plan["requests"] / settings.batch_max_requests),
            math.ceil(size / settings.batch_max_bytes),
        ),
        "estimated_max_cost_online": online.cost(
            plan["estimated_prompt_tokens"], plan["max_completion_tokens"]
        ),
    }


def run_extraction(
    source: TaskSource,
    settings: TeacherSettings,
    *,
    output: Path,
    cache: Path,
    examples: Sequence[Example] | None = None,
    progress: bool = True,
) -> ExtractionRun:
    """Ask the teacher about ``examples`` (the settings' split of ``source`` by default) and
    write the records to ``output`` (JSONL). Completed requests are kept in ``settings.cache``,
    else ``cache``, so that a killed run started again sends nothing twice.

    Raises:
        BudgetReached: ``settings.max_cost`` was reached (what completed is cached).
    """
    examples = split_examples(source, settings) if examples is None else examples
    style, exemplars, config = _prompting(source, settings)
    started = time.perf_counter()
    teacher = settings.make_teacher()
    setup = time.perf_counter() - started
    records, report = extract(
        source.task,
        examples,
        teacher,
        style=style,
        exemplars=exemplars,
        config=config,
        cache_path=Path(settings.cache) if settings.cache else cache,
        output=output,
        progress=progress,
        budget=settings.budget(),
        judge=settings.make_judge(teacher) if config.needs_judge else None,
        sender=settings.sender(output),
    )
    report.cost = settings.cost(report.usage.prompt_tokens, report.usage.completion_tokens)
    seconds = time.perf_counter() - started
    record_extraction(settings, report.sent, seconds, setup)
    return ExtractionRun(
        records, report, config.zero_shot, len(exemplars), seconds, samples(examples, records)
    )
