"""Micro-batching: inputs of concurrent requests are run through the model together."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


class QueueFull(Exception):
    """More inputs are waiting than the batcher takes; the caller should come back later."""


@dataclass
class _Job:
    inputs: Sequence[Any]
    options: tuple
    future: asyncio.Future = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class MicroBatcher:
    """Collects requests for up to ``max_wait`` seconds or ``max_batch`` inputs, runs them in
    one call of ``run(inputs, options)`` in a worker thread, and answers each request.

    Requests with different options (say, with and without rationale) are never mixed. When a
    combined call fails, each request of it is run again alone, so that one bad request fails
    only itself. At most ``max_queued`` inputs wait or run at once (None: no limit); beyond
    that ``submit`` raises ``QueueFull``.
    """

    def __init__(
        self,
        run: Callable[[list, tuple], list],
        *,
        max_batch: int = 32,
        max_wait: float = 0.01,
        max_queued: int | None = None,
    ):
        self.run = run
        self.max_batch = max_batch
        self.max_wait = max_wait
        self.max_queued = max_queued
        self.queued = 0
        self.queue: asyncio.Queue[_Job] = asyncio.Queue()
        self.task: asyncio.Task | None = None

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    async def submit(self, inputs: Sequence[Any], options: tuple) -> list:
        if self.max_queued is not None and self.queued + len(inputs) > self.max_queued:
            raise QueueFull(f"{self.queued} inputs are waiting (at most {self.max_queued})")
        job = _Job(inputs, options)
        self.queued += len(inputs)
        try:
            await self.queue.put(job)
            return await job.future
        finally:
            self.queued -= len(inputs)

    async def _collect(self) -> list[_Job]:
        first = await self.queue.get()
        jobs = [first]
        size = len(first.inputs)
        deadline = asyncio.get_running_loop().time() + self.max_wait
        while size < self.max_batch:
            timeout = deadline - asyncio.get_running_loop().time()
            if timeout <= 0:
                break
            try:
                job = await asyncio.wait_for(self.queue.get(), timeout)
            except asyncio.TimeoutError:
                break
            jobs.append(job)
            size += len(job.inputs)
        return jobs

    async def _answer(self, group: list[_Job], options: tuple) -> None:
        flat = [row for job in group for row in job.inputs]
        try:
            results = await asyncio.to_thread(self.run, flat, options)
        except Exception as error:  # the server stays up
            if len(group) == 1:
                if not group[0].future.done():
                    group[0].future.set_exception(error)
                return
            for job in group:  # find the request at fault: each alone
                await self._answer([job], options)
            return
        position = 0
        for job in group:
            if not job.future.done():
                job.future.set_result(results[position : position + len(job.inputs)])
            position += len(job.inputs)

    async def _loop(self) -> None:
        while True:
            jobs = await self._collect()
            for options in dict.fromkeys(job.options for job in jobs):
                await self._answer([job for job in jobs if job.options == options], options)
