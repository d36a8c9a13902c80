"""Extract rationales and labels for a split with a teacher LLM (stage one of the method)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from stepdistill.data.io import write_jsonl, writing_to
from stepdistill.errors import BudgetReached, StepdistillError
from stepdistill.extraction.filters import apply_filters, needs_judge, parse_filter
from stepdistill.extraction.judge import judge_records
from stepdistill.extraction.rationalization import (
    FIRST_PASS,
    HINTED_PASS,
    RATIONALIZATIONS,
    Rationalization,
    answered_wrong,
)
from stepdistill.extraction.vote import majority_vote
from stepdistill.prompts import (
    Exemplar,
    HintPrompt,
    PromptStyle,
    answer_stage_messages,
    answer_stage_text,
    builtin_hint,
    example_fields,
    few_shot_messages,
    few_shot_text,
    zero_shot_messages,
    zero_shot_text,
)
from stepdistill.prompts.judge import JudgePrompt
from stepdistill.schema import REQUEST_FAILED, Example, Outcome, ParseResult, TeacherRecord
from stepdistill.tasks.base import Task
from stepdistill.tasks.parsing import parse_completion
from stepdistill.teacher import Completion, GenerationSettings, Teacher, TeacherRequest
from stepdistill.teacher.cache import RESUMES, CompletionCache
from stepdistill.teacher.runner import Budget, RunStats, Sender, run_requests

logger = logging.getLogger(__name__)

PROMPT_VERSION = 1
SELECTIONS = ("first", "judge")
ANSWER_STAGE_MAX_TOKENS = 32


@dataclass(frozen=True)
class ExtractionConfig:
    """Settings of one extraction run.

    Attributes:
        n: Samples per example; more than one turns on self-consistency (majority vote).
        settings: Sampling settings of the reasoning requests.
        zero_shot: Zero-shot chain of thought ("Let's think step by step.", then a second
            request for the answer) instead of few-shot exemplars.
        chat: Send chat messages (chat endpoints) rather than one text prompt.
        filters: Filter specs applied to every record (``agree-with-gold``, ``judge-min=4``).
        concurrency: Requests in flight at once.
        select: Which agreeing rationale a record keeps: ``first``, or ``judge`` (the one the
            judge scores best; needs a judge).
        rationalization: When the teacher sees the gold label: ``off``, ``hinted`` (always) or
            ``two-pass`` (again, hinted, where the first answer was wrong or unreadable).
        hint: The rationalization prompt (the built-in one when None).
    """

    n: int = 1
    settings: GenerationSettings = field(default_factory=GenerationSettings)
    zero_shot: bool = False
    chat: bool = True
    filters: tuple[str, ...] = ()
    concurrency: int = 16
    select: str = "first"
    rationalization: str = "off"
    hint: HintPrompt | None = None

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError(f"n must be at least 1, got {self.n}")
        if self.n > 1 and self.settings.temperature == 0:
            raise ValueError("n > 1 samples need a temperature above 0, or they are all the same")
        if self.select not in SELECTIONS:
            raise ValueError(f"select must be one of {SELECTIONS}, got {self.select!r}")
        for spec in self.filters:
            parse_filter(spec)
        if self.rationalization not in RATIONALIZATIONS:
            raise ValueError(
                f"rationalization must be one of {RATIONALIZATIONS.names()}, "
                f"got {self.rationalization!r}"
            )

    @property
    def mode(self) -> Rationalization:
        """The rationalization mode object (when the teacher sees the label)."""
        return RATIONALIZATIONS.get(self.rationalization)

    @property
    def shown_hint(self) -> HintPrompt:
        """The hint a rationalizing extraction shows: the given one, else the built-in one."""
        return self.hint or builtin_hint()

    @property
    def needs_judge(self) -> bool:
        return self.select == "judge" or needs_judge(self.filters)


@dataclass
class ExtractionReport(RunStats):
    """Counts of one run: its requests (``RunStats``), and how every example ended, in exactly
    one of ok / unparsable / failed / filtered."""

    examples: int = 0
    ok: int = 0
    unparsable: int = 0
    failed: int = 0
    filtered: int = 0
    empty: int = 0  # of the ok ones: a label without a rationale (it trains the label only)
    hinted: int = 0
    hint_echoes: int = 0
    cost: float | None = None
    judge: dict[str, Any] | None = None
    batch: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def count_outcomes(self, records: Sequence[TeacherRecord]) -> None:
        """Count each record under its outcome (ok, unparsable, failed or filtered)."""
        counters = {
            Outcome.OK: "ok",
            Outcome.UNPARSABLE: "unparsable",
            Outcome.FAILED: "failed",
            Outcome.FILTERED: "filtered",
        }
        for record in records:
            name = counters[record.outcome]
            setattr(self, name, getattr(self, name) + 1)
            if record.outcome is Outcome.OK and not (record.rationale or "").strip():
                self.empty += 1
            if record.meta.get("pass") == HINTED_PASS:
                self.hinted += 1
                self.hint_echoes += bool(record.meta.get("hint_echo"))


def hint_for(example: Example, hint: HintPrompt | None) -> HintPrompt | None:
    """The hint an example's prompt gets: none without a gold label to show."""
    return hint if example.label is not None else None


def outcome_text(counts: Mapping[str, Any]) -> str:
    """How an extraction's examples ended (an ``ExtractionReport`` as a dict), and, when the
    teacher saw labels, which pass wrote the records: one sentence for every report."""
    empty = counts.get("empty", 0)
    without = f" ({empty} of them a label with no rationale)" if empty else ""
    text = (
        f"{counts['examples']} examples: {counts['ok']} kept{without}, {counts['filtered']} "
        f"filtered, {counts['unparsable']} unparsable, {counts['failed']} failed"
    )
    hinted = counts.get("hinted", 0)
    if hinted:
        text += (
            f"; {counts['examples'] - hinted} records from the first ask, {hinted} written with "
            f"the gold label in view ({counts.get('hint_echoes', 0)} merely repeat it)"
        )
    return text


def batch_text(batch: Mapping[str, Any]) -> str:
    """One line on how a batch-mode run's requests were answered: its provider batches, or
    what its result files held (unknown and duplicated ids, errors, malformed lines)."""
    if batch["mode"] == "provider":
        batches = ", ".join(f"{b['id']} {b['status']}" for b in batch["batches"])
        return (
            f"batches: {batches} (recorded in {batch['state']}); result lines: {batch['lines']}, "
            f"{batch['errors']} errors, {batch['unknown_ids']} with an unknown id, "
            f"{batch['duplicated']} duplicated, {batch['malformed']} malformed"
        )
    text = (
        f"batch results: {batch['lines']} lines, {batch['used']} used, {batch['errors']} "
        f"errors, {batch['unknown_ids']} with an unknown id, {batch['already_cached']} already "
        f"cached, {batch['duplicated']} duplicated, {batch['malformed']} malformed"
    )
    return text + "".join(f"\n  {problem}" for problem in batch["problems"])


def reasoning_requests(
    examples: Sequence[Example],
    style: PromptStyle,
    exemplars: Sequence[Exemplar],
    config: ExtractionConfig,
    hint: HintPrompt | None = None,
) -> list[TeacherRequest]:
    """One request per example and sample, in example order (with ``hint``: each labeled
    example's prompt shows its correct answer, and the request is marked with the hint)."""
    requests = []
    for example in examples:
        shown = hint_for(example, hint)
        mode = shown.tag if shown else None
        for sample in range(config.n):
            if config.chat:
                messages = (
                    zero_shot_messages(style, example, shown)
                    if config.zero_shot
                    else few_shot_messages(style, exemplars, example, shown)
                )
                requests.append(TeacherRequest.chat(messages, config.settings, sample, mode))
            else:
                prompt = (
                    zero_shot_text(style, example, shown)
                    if config.zero_shot
                    else few_shot_text(style, exemplars, example, shown)
                )
                requests.append(
                    TeacherRequest(
                        prompt=prompt, settings=config.settings, sample=sample, mode=mode
                    )
                )
    return requests


def answer_requests(
    reasoning: Sequence[TeacherRequest], texts: Sequence[str | None], style: PromptStyle
) -> list[TeacherRequest | None]:
    """Zero-shot stage two: for each finished reasoning, ask for the answer (greedy, short)."""
    settings = GenerationSettings(
        max_tokens=ANSWER_STAGE_MAX_TOKENS, temperature=0.0, stop=style.stop
    )
    follow_ups: list[TeacherRequest | None] = []
    for request, text in zip(reasoning, texts, strict=True):
        if text is None:
            follow_ups.append(None)
        elif request.messages:
            messages = answer_stage_messages(request.message_list, text, style)
            follow_ups.append(TeacherRequest.chat(messages, settings, request.sample, request.mode))
        else:
            prompt = answer_stage_text(request.prompt or "", text, style)
            follow_ups.append(
                TeacherRequest(
                    prompt=prompt, settings=settings, sample=request.sample, mode=request.mode
                )
            )
    return follow_ups


def _sample_view(parsed: ParseResult, text: str | None, error: str | None) -> dict[str, Any]:
    return {"text": text, "label": parsed.label, "ok": parsed.ok, "error": error or parsed.error}


def build_record(
    example: Example,
    task: Task,
    texts: Sequence[str | None],
    errors: Sequence[str | None],
    *,
    teacher_name: str,
    provenance: dict[str, Any],
) -> TeacherRecord:
    """One record from an example's samples: parse each, vote, keep agreeing rationales."""
    parsed = [
        parse_completion(text, task.answer_pattern, task.label_kind)
        if text is not None
        else ParseResult("", None, False, REQUEST_FAILED, REQUEST_FAILED)
        for text in texts
    ]
    label, agreeing = majority_vote(parsed, task.label_kind)
    samples = [_sample_view(p, t, e) for p, t, e in zip(parsed, texts, errors, strict=True)]
    meta = {**provenance, "votes": len(agreeing), "samples": samples if len(texts) > 1 else None}
    if label is None:
        reason: str | None = REQUEST_FAILED
        if all(text is None for text in texts):
            error = f"{REQUEST_FAILED}: " + (next((e for e in errors if e), None) or "unknown")
        else:
            failure = next(p for p in parsed if p.error)
            reason, error = failure.reason, failure.error or ""
        first = next((t for t in texts if t is not None), None)
        return TeacherRecord(
            example.id,
            parsed[0].rationale or None,
            None,
            False,
            error,
            first,
            teacher_name,
            meta,
            reason=reason,
        )
    meta["rationales"] = [parsed[i].rationale for i in agreeing] if len(texts) > 1 else None
    chosen = agreeing[0]
    return TeacherRecord(
        example.id, parsed[chosen].rationale, label, True, None, texts[chosen], teacher_name, meta
    )


class _Asker:
    """Sends a batch of requests through the cache and the budget, adding its counts to the
    report; a budget that ran out is BudgetReached, with what completed cached."""

    def __init__(
        self,
        teacher: Teacher,
        config: ExtractionConfig,
        cache: CompletionCache | None,
        progress: bool,
        budget: Budget | None,
        report: ExtractionReport,
        sender: Sender | None,
    ) -> None:
        self.teacher, self.config, self.cache = teacher, config, cache
        self.progress, self.budget, self.report = progress, budget, report
        self.sender = sender

    async def __call__(self, requests: list[TeacherRequest], description: str) -> list[Completion]:
        completions, stats = await run_requests(
            self.teacher,
            requests,
            cache=self.cache,
            concurrency=self.config.concurrency,
            progress=self.progress,
            description=description,
            budget=self.budget,
            sender=self.sender,
        )
        report, budget = self.report, self.budget
        report.add(stats)
        if stats.not_sent_over_budget and budget is not None:
            raise BudgetReached(
                f"teacher budget {budget.max_cost:g} reached: {report.sent} requests sent, "
                f"{report.cached} from the cache, {report.not_sent_over_budget} not sent (spent "
                f"{budget.spent(report.usage):.4f}); raise the budget and run again: completed "
                "requests come from the cache"
            )
        return completions


async def _answer_stage(
    ask: _Asker,
    reasoning: Sequence[TeacherRequest],
    texts: list[str | None],
    errors: list[str | None],
    style: PromptStyle,
) -> None:
    """Zero-shot stage two: ask each finished reasoning for its answer and append it to the
    text (``texts`` and ``errors`` change in place)."""
    follow_ups = answer_requests(reasoning, texts, style)
    answers = iter(await ask([r for r in follow_ups if r is not None], "answers"))
    for i, follow_up in enumerate(follow_ups):
        if follow_up is None:
            continue
        answer = next(answers)
        reasoning_text = texts[i] or ""  # a follow-up was only asked of a finished one
        if answer.text is None:
            texts[i], errors[i] = None, answer.error
        elif follow_up.messages:
            texts[i] = f"{reasoning_text.strip()}\n{answer.text.strip()}"
        else:
            texts[i] = f"{reasoning_text.strip()} {style.answer_lead}{answer.text}"


def _provenance(
    task: Task, config: ExtractionConfig, exemplars: int, hint: HintPrompt | None
) -> dict[str, Any]:
    """What a record says about its prompt (its pass: hinted or not) and generation settings."""
    prompt: dict[str, Any] = {
        "task": task.name,
        "mode": "zero-shot-cot" if config.zero_shot else "few-shot-cot",
        "exemplars": exemplars if not config.zero_shot else 0,
        "format": "chat" if config.chat else "text",
        "version": PROMPT_VERSION,
    }
    if hint is not None:
        prompt["hint"] = hint.to_dict()
    return {
        "prompt": prompt,
        "generation": {**asdict(config.settings), "n": config.n},
        "pass": HINTED_PASS if hint is not None else FIRST_PASS,
    }


def _mark_echo(
    record: TeacherRecord, example: Example, style: PromptStyle, hint: HintPrompt
) -> TeacherRecord:
    """A hinted record with ``meta["hint_echo"]``: whether its rationale merely repeats the label
    it was shown."""
    shown = style.verbalize(example.label or "", example_fields(example))
    return replace(record, meta={**record.meta, "hint_echo": hint.echoes(record.rationale, shown)})


async def _ask_records(
    ask: _Asker,
    task: Task,
    examples: Sequence[Example],
    *,
    style: PromptStyle,
    exemplars: Sequence[Exemplar],
    config: ExtractionConfig,
    teacher_name: str,
    hint: HintPrompt | None,
    description: str,
) -> list[TeacherRecord]:
    """One record per example from one ask of the teacher (with ``hint``: the labeled examples
    shown their correct answer), the zero-shot answer stage included."""
    reasoning = reasoning_requests(examples, style, exemplars, config, hint)
    completions = await ask(reasoning, description)
    texts = [c.text for c in completions]
    errors = [c.error for c in completions]
    if config.zero_shot:
        await _answer_stage(ask, reasoning, texts, errors, style)
    records = []
    for position, example in enumerate(examples):
        shown = hint_for(example, hint)
        record = build_record(
            example,
            task,
            texts[position * config.n : (position + 1) * config.n],
            errors[position * config.n : (position + 1) * config.n],
            teacher_name=teacher_name,
            provenance=_provenance(task, config, len(exemplars), shown),
        )
        records.append(_mark_echo(record, example, style, shown) if shown else record)
    return records


async def _rationalized(
    ask: _Asker,
    task: Task,
    examples: Sequence[Example],
    records: list[TeacherRecord],
    hint: HintPrompt,
    **asking: Any,
) -> list[TeacherRecord]:
    """Two-pass rationalization: the examples whose first answer was wrong or unreadable asked
    again with their label in view; a hinted record replaces the first where it parsed (else
    the first stays, its meta saying why the hinted one could not be used)."""
    redo = [
        position
        for position, (example, record) in enumerate(zip(examples, records, strict=True))
        if answered_wrong(example, record, task)
    ]
    again = await _ask_records(
        ask, task, [examples[p] for p in redo], hint=hint, description="rationalization", **asking
    )
    result = list(records)
    for position, record in zip(redo, again, strict=True):
        if record.parse_ok:
            result[position] = record
        else:
            first = result[position]
            result[position] = replace(
                first, meta={**first.meta, "rationalization_failed": record.error}
            )
    return result


async def _judged(
    examples: Sequence[Example],
    records: list[TeacherRecord],
    judge: tuple[Teacher, JudgePrompt] | None,
    config: ExtractionConfig,
    cache: CompletionCache | None,
    progress: bool,
    report: ExtractionReport,
) -> list[TeacherRecord]:
    """The records rated (and, with ``select=judge``, their rationale chosen) by the judge."""
    if judge is None:
        raise StepdistillError("this extraction selects or filters by a judge: give one")
    judge_teacher, judge_prompt = judge
    judged_records, judged = await judge_records(
        examples,
        records,
        judge_teacher,
        judge_prompt,
        cache=cache,
        concurrency=config.concurrency,
        progress=progress,
        select=config.select == "judge",
    )
    report.judge = judged.to_dict()
    report.add(judged)
    return judged_records


async def extract_async(
    task: Task,
    examples: Sequence[Example],
    teacher: Teacher,
    *,
    style: PromptStyle,
    exemplars: Sequence[Exemplar],
    config: ExtractionConfig,
    cache: CompletionCache | None = None,
    progress: bool = True,
    budget: Budget | None = None,
    judge: tuple[Teacher, JudgePrompt] | None = None,
    sender: Sender | None = None,
) -> tuple[list[TeacherRecord], ExtractionReport]:
    """Ask the teacher about every example and turn its answers into records (rated by
    ``judge``, a teacher and a rubric, when the config selects or filters by one). The
    teacher's requests go through ``sender`` (online by default; provider batches or batch
    files); a judge's are sent online.

    Raises:
        BudgetReached: ``budget`` ran out before every request was sent; what completed is in
            the cache, so a run with a higher budget continues from there.
    """
    report = ExtractionReport(examples=len(examples))
    ask = _Asker(teacher, config, cache, progress, budget, report, sender)
    mode = config.mode
    hint = config.shown_hint if mode.hints else None
    asking: dict[str, Any] = {
        "style": style,
        "exemplars": exemplars,
        "config": config,
        "teacher_name": teacher.name,
    }
    records = await _ask_records(
        ask,
        task,
        examples,
        hint=hint if mode.hint_first else None,
        description="reasoning",
        **asking,
    )
    if mode.retry_wrong and hint is not None:
        records = await _rationalized(ask, task, examples, records, hint, **asking)
    if config.needs_judge:
        records = await _judged(examples, records, judge, config, cache, progress, report)
    records = apply_filters(examples, records, config.filters, task)
    report.count_outcomes(records)
    report.batch = sender.summary(cache) if sender is not None else None
    return records, report


def extract(
    task: Task,
    examples: Sequence[Example],
    teacher: Teacher,
    *,
    style: PromptStyle,
    exemplars: Sequence[Exemplar],
    config: ExtractionConfig,
    cache_path: str | Path | None = None,
    output: str | Path | None = None,
    progress: bool = True,
    budget: Budget | None = None,
    judge: tuple[Teacher, JudgePrompt] | None = None,
    sender: Sender | None = None,
) -> tuple[list[TeacherRecord], ExtractionReport]:
    """Synchronous wrapper of ``extract_async``; writes ``output`` (JSONL) atomically at the end.

    With ``cache_path``, every completed request is committed to a SQLite cache as it arrives,
    so a killed run, started again, sends nothing that had already completed.
    """
    cache = CompletionCache(cache_path) if cache_path else None

    async def main() -> tuple[list[TeacherRecord], ExtractionReport]:
        try:
            return await extract_async(
                task,
                examples,
                teacher,
                style=style,
                exemplars=exemplars,
                config=config,
                cache=cache,
                progress=progress,
                budget=budget,
                judge=judge,
                sender=sender,
            )
        finally:
            await teacher.aclose()
            if judge is not None and judge[0] is not teacher:
                await judge[0].aclose()

    folders = [Path(path).parent for path in (cache_path, output) if path is not None]
    with writing_to(*folders, resumes=RESUMES):
        try:
            records, report = asyncio.run(main())
        finally:
            if cache is not None:
                cache.close()
        if output is not None:
            write_jsonl(Path(output), (record.to_dict() for record in records))
    return records, report
