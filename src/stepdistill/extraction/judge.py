"""Rationales rated by a judge model (any teacher backend) against a rubric: the score becomes
data on each ``TeacherRecord``, and can select the best of several sampled rationales."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from stepdistill.prompts.judge import JudgePrompt
from stepdistill.schema import REQUEST_FAILED, Example, TeacherRecord
from stepdistill.tasks.base import Task
from stepdistill.teacher import GenerationSettings, Teacher, TeacherRequest
from stepdistill.teacher.cache import CompletionCache
from stepdistill.teacher.runner import RunStats, run_requests

JUDGE_MAX_TOKENS = 16


@dataclass
class JudgeReport(RunStats):
    """Requests of a judging run (``RunStats``) and what the judge made of them."""

    records: int = 0
    judged: int = 0
    unreadable: int = 0
    unreadable_reasons: dict[str, int] = field(default_factory=dict)
    scores: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _candidates(record: TeacherRecord) -> list[str]:
    """The rationales a record offers: every one that agrees with its label (self-consistency),
    or its one rationale."""
    rationales = record.meta.get("rationales") if record.meta else None
    if rationales:
        return [r for r in rationales if r]
    return [record.rationale] if record.rationale else []


async def judge_records(
    examples: Sequence[Example],
    records: Sequence[TeacherRecord],
    judge: Teacher,
    prompt: JudgePrompt,
    *,
    cache: CompletionCache | None = None,
    concurrency: int = 16,
    progress: bool = True,
    select: bool = False,
) -> tuple[list[TeacherRecord], JudgeReport]:
    """Every usable record's rationale(s) rated by ``judge``.

    A record gets ``judge_score`` (the score of its rationale; with ``select``, the best score
    among its agreeing rationales, whose rationale it then keeps) and ``meta["judge"]``: the
    judge, the prompt's name and version, every score, and why an answer could not be read
    (an unreadable answer is never a score). Records that did not parse are left as they are.
    """
    settings = GenerationSettings(max_tokens=JUDGE_MAX_TOKENS, temperature=0.0)
    by_id = {example.id: example for example in examples}
    asked: list[tuple[int, str]] = []  # (record position, rationale)
    requests: list[TeacherRequest] = []
    for position, record in enumerate(records):
        example = by_id.get(record.example_id)
        if example is None or not record.parse_ok or record.teacher_label is None:
            continue
        if select:
            candidates = _candidates(record)
        else:
            candidates = [record.rationale] if record.rationale else []
        for rationale in candidates:
            messages = prompt.messages(example.input, rationale, record.teacher_label)
            requests.append(TeacherRequest.chat(messages, settings))
            asked.append((position, rationale))
    completions, stats = await run_requests(
        judge,
        requests,
        cache=cache,
        concurrency=concurrency,
        progress=progress,
        description="judge",
    )
    report = JudgeReport(records=len(records))
    report.add(stats)
    reasons: Counter[str] = Counter()
    outcomes: dict[int, list[tuple[str, int | None, str | None]]] = {}
    for (position, rationale), completion in zip(asked, completions, strict=True):
        reading = prompt.read(completion.text)
        score, error, reason = reading.score, reading.error, reading.reason
        if completion.text is None:
            error, reason = f"{REQUEST_FAILED}: {completion.error}", REQUEST_FAILED
        outcomes.setdefault(position, []).append((rationale, score, error))
        if score is None:
            reasons[reason or "unknown"] += 1
    judged: list[TeacherRecord] = list(records)
    for position, results in outcomes.items():
        record = records[position]
        scored = [(rationale, score) for rationale, score, _ in results if score is not None]
        meta_judge = {
            "judge": judge.name,
            "prompt": prompt.to_dict(),
            "scores": [score for _, score, _ in results],
            "errors": [error for _, _, error in results if error] or None,
        }
        best = max(scored, key=lambda pair: pair[1]) if scored else None  # ties: the first
        kept = best[0] if (best and select) else record.rationale
        score = best[1] if best and select else (scored[0][1] if scored else None)
        judged[position] = replace(
            record,
            rationale=kept,
            judge_score=float(score) if score is not None else None,
            meta={**record.meta, "judge": meta_judge},
        )
        if score is None:
            report.unreadable += 1
        else:
            report.judged += 1
            report.scores[str(score)] = report.scores.get(str(score), 0) + 1
    report.unreadable_reasons = dict(reasons)
    return judged, report


def score_agreement(
    examples: Sequence[Example], records: Sequence[TeacherRecord], task: Task
) -> dict[str, Any]:
    """How the judge's scores go with whether the teacher's label is right (gold labels):
    mean score of right and wrong labels, the point-biserial correlation, and the AUC (the
    chance that a right label's rationale outscores a wrong one's; 0.5: the judge cannot tell)."""
    gold = {example.id: example.label for example in examples}
    pairs = [
        (record.judge_score, task.metric.score(record.teacher_label, gold[record.example_id]))
        for record in records
        if record.judge_score is not None and gold.get(record.example_id) is not None
    ]
    right = [score for score, correct in pairs if correct]
    wrong = [score for score, correct in pairs if not correct]
    if not right or not wrong:
        return {"pairs": len(pairs), "note": "needs both right and wrong labels among the judged"}
    scores = [score for score, _ in pairs]
    correct = [1.0 if ok else 0.0 for _, ok in pairs]
    spread = statistics.pstdev(scores) * statistics.pstdev(correct)
    correlation = (
        (
            statistics.fmean(s * c for s, c in zip(scores, correct, strict=True))
            - statistics.fmean(scores) * statistics.fmean(correct)
        )
        / spread
        if spread > 0
        else math.nan
    )
    wins = sum((r > w) + 0.5 * (r == w) for r in right for w in wrong)
    return {
        "pairs": len(pairs),
        "right": len(right),
        "wrong": len(wrong),
        "mean_score_right_label": round(statistics.fmean(right), 4),
        "mean_score_wrong_label": round(statistics.fmean(wrong), 4),
        "point_biserial_correlation": round(correlation, 4),
        "auc": round(wins / (len(right) * len(wrong)), 4),
    }
