"""Run many teacher requests with bounded concurrency, a cache and a progress bar."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from tqdm.auto import tqdm

from stepdistill.teacher.base import Completion, Teacher, TeacherRequest, Usage
from stepdistill.teacher.cache import CompletionCache


@dataclass
class RunStats:
    """Counts of a batch of teacher requests."""

    requests: int = 0
    cached: int = 0
    sent: int = 0
    failed_requests: int = 0
    attempts: int = 0
    not_sent_over_budget: int = 0
    usage: Usage = field(default_factory=Usage)

    def add(self, other: RunStats) -> None:
        """Add the counts of another batch of requests."""
        counts = ("requests", "cached", "sent", "failed_requests", "attempts")
        for name in (*counts, "not_sent_over_budget"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.usage.add(other.usage)


BUDGET_REACHED = "not sent: the budget was reached"


@dataclass(frozen=True)
class Budget:
    """A spending ceiling: no request is sent once ``spent(usage)`` reaches ``max_cost``.

    ``usage`` counts every completion of the run, cached ones included, so that a run started
    again with the same budget sends nothing more, and one with a higher budget continues.
    """

    max_cost: float
    spent: Callable[[Usage], float]

    def reached(self, usage: Usage) -> bool:
        return self.spent(usage) >= self.max_cost


@dataclass(frozen=True)
class Pending:
    """A request the cache could not answer: its position in the run and its cache key."""

    index: int
    key: str
    request: TeacherRequest


Done = Callable[[Pending, Completion], None]


@dataclass
class Unanswered:
    """What a sender gets: the requests the cache could not answer, where each answer goes
    (``done``: cached and counted), the run's counts and budget, and its progress bar's name."""

    teacher: Teacher
    pending: Sequence[Pending]
    done: Done
    stats: RunStats
    budget: Budget | None = None
    progress: bool = True
    description: str = "teacher"


class Sender(Protocol):
    """How the requests the cache cannot answer are answered: one by one online, as provider
    batch jobs, or from batch files. ``send`` calls ``work.done`` once for every pending
    request (failures included, as failed completions) or raises."""

    async def send(self, work: Unanswered) -> None: ...

    def summary(self, cache: CompletionCache | None) -> dict[str, Any] | None:
        """What the report says about how the requests were sent (None: nothing to add)."""
        ...


@dataclass(frozen=True)
class Online:
    """Each request sent as it comes, at most ``concurrency`` in flight; with a budget, the
    requests not yet sent when it is reached come back failed (``BUDGET_REACHED``)."""

    concurrency: int = 16

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {self.concurrency}")

    async def send(self, work: Unanswered) -> None:
        pending, stats, budget, done = work.pending, work.stats, work.budget, work.done
        semaphore = asyncio.Semaphore(self.concurrency)
        bar = tqdm(
            total=len(pending),
            desc=work.description,
            unit="req",
            disable=not work.progress or not pending,
        )

        async def one(item: Pending) -> None:
            async with semaphore:
                if budget is not None and budget.reached(stats.usage):
                    stats.not_sent_over_budget += 1
                    done(
                        item, Completion(text=None, error=BUDGET_REACHED, attempts=0, not_sent=True)
                    )
                    bar.update(1)
                    return
                completion = await work.teacher.complete(item.request)
            stats.sent += 1
            done(item, completion)
            bar.update(1)
            bar.set_postfix(failed=stats.failed_requests, refresh=False)

        try:
            await asyncio.gather(*(one(item) for item in pending))
        finally:
            bar.close()

    def summary(self, cache: CompletionCache | None) -> dict[str, Any] | None:
        return None


async def run_requests(
    teacher: Teacher,
    requests: Sequence[TeacherRequest],
    *,
    cache: CompletionCache | None = None,
    concurrency: int = 16,
    progress: bool = True,
    description: str = "teacher",
    budget: Budget | None = None,
    sender: Sender | None = None,
) -> tuple[list[Completion], RunStats]:
    """Complete every request, in order. Cached ones are not sent again; the rest go through
    ``sender`` (``Online(concurrency)`` by default); each success is committed to the cache as
    it arrives.

    With a ``budget``, requests not sent because of it come back as failed and are counted in
    ``stats.not_sent_over_budget``."""
    sender = sender or Online(concurrency)
    identity = teacher.identity()
    results: list[Completion | None] = [None] * len(requests)
    stats = RunStats(requests=len(requests))
    pending: list[Pending] = []
    for index, request in enumerate(requests):
        key = request.cache_key(identity)
        hit = cache.get(key) if cache is not None else None
        if hit is not None:
            results[index] = hit
            stats.cached += 1
            stats.usage.add(hit.usage)
        else:
            pending.append(Pending(index, key, request))

    def done(item: Pending, completion: Completion) -> None:
        results[item.index] = completion
        stats.attempts += completion.attempts
        stats.usage.add(completion.usage)
        if completion.ok:
            if cache is not None:
                summary = {"teacher": identity, "sample": item.request.sample}
                cache.put(item.key, completion, summary)
        elif not completion.not_sent:
            stats.failed_requests += 1

    await sender.send(Unanswered(teacher, pending, done, stats, budget, progress, description))
    missing = [item.index for item in pending if results[item.index] is None]
    if missing:
        raise RuntimeError(f"the sender left {len(missing)} requests unanswered")
    return [result for result in results if result is not None], stats
