"""Micro-batching: inputs of concurrent requests are run through the model together."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


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

    Requests with different options (say, with and without rationale) are never mixed.
    """

    def __init__(
        self, run: Callable[[list, tuple], list], *, max_batch: int = 32, max_wait: float = 0.01
    ):
        self.run = run
        self.max_batch = max_batch
        self.max_wait = max_wait
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
        job = _Job(inputs, options)
        await self.queue.put(job)
        return await job.future

    async def _loop(self) -> None:
        while True:
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
            for options in dict.fromkeys(job.options for job in jobs):
                group = [job for job in jobs if job.options == options]
                flat = [row for job in group for row in job.inputs]
                try:
                    results = await asyncio.to_thread(self.run, flat, options)
                except Exception as error:  # answered to every waiting request, server stays up
                    for job in group:
                        if not job.future.done():
                            job.future.set_exception(error)
                    continue
                position = 0
                for job in group:
                    if not job.future.done():
                        job.future.set_result(results[position : position + len(job.inputs)])
                    position += len(job.inputs)
