"""Run many teacher requests with bounded concurrency, a cache and a progress bar."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

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


async def run_requests(
    teacher: Teacher,
    requests: Sequence[TeacherRequest],
    *,
    cache: CompletionCache | None = None,
    concurrency: int = 16,
    progress: bool = True,
    description: str = "teacher",
    budget: Budget | None = None,
) -> tuple[list[Completion], RunStats]:
    """Complete every request, in order. Cached ones are not sent again; at most
    ``concurrency`` are in flight; each success is committed to the cache as it arrives.

    With a ``budget``, requests not yet sent when it is reached come back as failed
    (``BUDGET_REACHED``) and are counted in ``stats.not_sent_over_budget``."""
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    identity = teacher.identity()
    results: list[Completion | None] = [None] * len(requests)
    stats = RunStats(requests=len(requests))
    pending: list[tuple[int, str]] = []
    for index, request in enumerate(requests):
        key = request.cache_key(identity)
        hit = cache.get(key) if cache is not None else None
        if hit is not None:
            results[index] = hit
            stats.cached += 1
            stats.usage.add(hit.usage)
        else:
            pending.append((index, key))
    semaphore = asyncio.Semaphore(concurrency)
    bar = tqdm(
        total=len(pending), desc=description, unit="req", disable=not progress or not pending
    )

    async def one(index: int, key: str) -> None:
        async with semaphore:
            if budget is not None and budget.reached(stats.usage):
                results[index] = Completion(
                    text=None, error=BUDGET_REACHED, attempts=0, not_sent=True
                )
                stats.not_sent_over_budget += 1
                bar.update(1)
                return
            completion = await teacher.complete(requests[index])
        results[index] = completion
        stats.sent += 1
        stats.attempts += completion.attempts
        stats.usage.add(completion.usage)
        if completion.ok:
            if cache is not None:
                request = requests[index]
                cache.put(key, completion, {"teacher": identity, "sample": request.sample})
        else:
            stats.failed_requests += 1
        bar.update(1)
        bar.set_postfix(failed=stats.failed_requests, refresh=False)

    try:
        await asyncio.gather(*(one(index, key) for index, key in pending))
    finally:
        bar.close()
    return [result for result in results if result is not None], stats
