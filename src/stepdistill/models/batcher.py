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
    running: bool = False
    released: bool = False


class MicroBatcher:
    """Collects requests for up to ``max_wait`` seconds or ``max_batch`` inputs, runs them in
    one call of ``run(inputs, options)`` in a worker thread, and answers each request.

    Requests with different options (say, with and without rationale) are never mixed. When a
    combined call fails, each request of it is run again alone, so that one bad request fails
    only itself. At most ``max_queued`` inputs wait or run at once (None: no limit); beyond
    that ``submit`` raises ``QueueFull``. A request whose wait is cancelled (it timed out, or
    its client went away) leaves the queue at once, and is never computed unless its batch
    had already started.
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
        job.future.add_done_callback(lambda _: self._abandon(job))
        self.queue.put_nowait(job)
        # a cancelled wait cancels the future: the job is dropped when it is collected
        return await job.future

    def _abandon(self, job: _Job) -> None:
        """A job answered or given up: its inputs stop counting unless they are computing."""
        if not job.running:
            self._release(job)

    def _release(self, job: _Job) -> None:
        if not job.released:
            job.released = True
            self.queued -= len(job.inputs)

    async def _next(self, timeout: float | None = None) -> _Job:
        """The next job still waited for (one given up is dropped unseen)."""
        while True:
            job = await asyncio.wait_for(self.queue.get(), timeout)
            if not job.future.done():
                return job

    async def _collect(self) -> list[_Job]:
        first = await self._next()
        jobs = [first]
        size = len(first.inputs)
        deadline = asyncio.get_running_loop().time() + self.max_wait
        while size < self.max_batch:
            timeout = deadline - asyncio.get_running_loop().time()
            if timeout <= 0:
                break
            try:
                job = await self._next(timeout)
            except asyncio.TimeoutError:
                break
            jobs.append(job)
            size += len(job.inputs)
        return jobs

    async def _answer(self, group: list[_Job], options: tuple) -> None:
        for job in group:
            if job.future.done():  # given up while it was collected, or computed with others
                self._release(job)
        group = [job for job in group if not job.future.done()]
        if not group:
            return
        for job in group:
            job.running = True
        flat = [row for job in group for row in job.inputs]
        try:
            results = await asyncio.to_thread(self.run, flat, options)
        except Exception as error:  # the server stays up
            if len(group) == 1:
                self._finish(group[0], error=error)
                return
            for job in group:  # find the request at fault: each alone
                job.running = False
            for job in group:
                await self._answer([job], options)
            return
        position = 0
        for job in group:
            self._finish(job, result=results[position : position + len(job.inputs)])
            position += len(job.inputs)

    def _finish(
        self, job: _Job, *, result: list | None = None, error: Exception | None = None
    ) -> None:
        job.running = False
        self._release(job)
        if job.future.done():
            return
        if error is not None:
            job.future.set_exception(error)
        else:
            job.future.set_result(result)

    async def _loop(self) -> None:
        while True:
            jobs = await self._collect()
            for options in dict.fromkeys(job.options for job in jobs):
                await self._answer([job for job in jobs if job.options == options], options)
