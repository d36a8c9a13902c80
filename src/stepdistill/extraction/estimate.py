"""How long an extraction will take here: from the throughput this machine recorded for the
same teacher, or, for a teacher in this process (free to ask), from a few requests timed now.
A paid teacher is never asked in a dry run: without a record its time is unknown."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from stepdistill.extraction.settings import TeacherSettings
from stepdistill.teacher import TeacherRequest, teacher_backend
from stepdistill.throughput import (
    CALIBRATED,
    RECORDED,
    Estimate,
    Measurement,
    ThroughputLog,
)

KIND = "extract"


def extraction_workload(settings: TeacherSettings) -> dict[str, Any]:
    """What a request's time depends on: the teacher, where it runs, how much it writes and
    how many requests go together."""
    return {
        "teacher": settings.teacher,
        "base_url": settings.base_url,
        "endpoint": settings.endpoint,
        "max_tokens": settings.max_tokens,
        "n": settings.n,
        "batch_size": settings.batch_size,
        "concurrency": settings.concurrency,
        "batch": settings.batch,
    }


def work_seconds(requests: int) -> Any:
    def seconds(values: dict[str, float]) -> float:
        return values.get("overhead_seconds", 0.0) + requests * values.get("request_seconds", 0.0)

    return seconds


def record_extraction(
    settings: TeacherSettings, sent: int, seconds: float, setup_seconds: float
) -> None:
    """Keep an extraction's time per sent request (and its set-up: loading a local model)."""
    if sent <= 0:
        return
    values = {
        "request_seconds": max(0.0, seconds - setup_seconds) / sent,
        "overhead_seconds": setup_seconds,
    }
    ThroughputLog().record(KIND, extraction_workload(settings), Measurement(values, RECORDED))


def calibrate(settings: TeacherSettings, requests: Sequence[TeacherRequest]) -> Measurement:
    """Load the in-process teacher and time one batch of the extraction's own requests."""
    started = time.perf_counter()
    teacher = settings.make_teacher()
    setup = time.perf_counter() - started
    probe = list(requests[: max(1, settings.batch_size)])

    async def ask() -> None:
        try:
            await asyncio.gather(*(teacher.complete(request) for request in probe))
        finally:
            await teacher.aclose()

    started = time.perf_counter()
    asyncio.run(ask())
    asked = time.perf_counter() - started
    values = {"request_seconds": asked / len(probe), "overhead_seconds": setup}
    return Measurement(values, CALIBRATED)


def estimate_extraction(
    settings: TeacherSettings,
    requests: Sequence[TeacherRequest],
    count: int,
    *,
    may_calibrate: bool = True,
) -> Estimate:
    """The extraction's duration for ``count`` requests (``requests``: its first-pass ones,
    which a calibration times a batch of)."""
    log = ThroughputLog()
    workload = extraction_workload(settings)
    measurements = log.measurements(KIND, workload)
    backend, _ = teacher_backend(settings.teacher)
    what = f": {count} requests (cached ones not subtracted)"
    if not measurements and may_calibrate and backend.in_process and requests:
        measurement = calibrate(settings, requests)
        log.record(KIND, workload, measurement)
        measurements = [measurement]
    if not measurements:
        why = "" if backend.in_process else " (a paid teacher is not asked in a dry run)"
        return Estimate.unknown(f"no record of this teacher on this machine{why}{what}")
    return Estimate.from_measurements(measurements, work_seconds(count), what)
