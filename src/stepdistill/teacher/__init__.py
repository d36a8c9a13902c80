"""Teacher LLM backends behind one small interface, chosen by ``scheme:model``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stepdistill.errors import StepdistillError
from stepdistill.registry import Registry
from stepdistill.teacher.base import (
    CHARS_PER_TOKEN,
    Completion,
    GenerationSettings,
    Teacher,
    TeacherRequest,
    Usage,
)
from stepdistill.teacher.batch_files import BatchFiles, BatchFileWritten
from stepdistill.teacher.batch_jobs import BatchIncomplete, BatchLimits, ProviderBatches
from stepdistill.teacher.retry import RetryPolicy


@dataclass(frozen=True)
class TeacherBackend:
    """How to build one kind of teacher, and how callers should drive it.

    Attributes:
        build: ``build(model, **options)`` returns the teacher.
        options: The keyword options ``build`` accepts.
        chat_only: Always send chat messages (a local instruct model); otherwise the caller
            picks the endpoint.
        max_concurrency: Requests it can usefully take at once (None: no limit of its own).
        batches: Its requests can be written as OpenAI batch lines (provider batch jobs and
            batch files for offline engines).
        in_process: It runs in this process and asking it costs nothing, so that a dry run
            may time a few requests to estimate an extraction.
    """

    build: Callable[..., Teacher]
    options: frozenset[str]
    chat_only: bool = False
    max_concurrency: int | None = None
    batches: bool = False
    in_process: bool = False

    def concurrency(self, requested: int) -> int:
        """``requested`` capped at what this backend can use."""
        return requested if self.max_concurrency is None else min(requested, self.max_concurrency)


def _openai(model: str, **options: Any) -> Teacher:
    from stepdistill.teacher.openai_backend import OpenAITeacher

    return OpenAITeacher(model, **options)


def _local(model: str, **options: Any) -> Teacher:
    from stepdistill.teacher.local_backend import LocalTeacher

    return LocalTeacher(model, **options)


TEACHER_BACKENDS: Registry[TeacherBackend] = Registry("teacher backend")
TEACHER_BACKENDS.register(
    "openai",
    TeacherBackend(
        _openai,
        frozenset({"base_url", "endpoint", "api_key_env", "retry", "sleep"}),
        batches=True,
    ),
)
# one model in this process, batching the requests in flight; its chat template is its format
TEACHER_BACKENDS.register(
    "local",
    TeacherBackend(_local, frozenset({"seed", "batch_size"}), chat_only=True, in_process=True),
)

DEFAULT_TEACHER = "local:smollm2-135m"


def teacher_backend(spec: str) -> tuple[TeacherBackend, str]:
    """The backend and model name of ``backend:model`` (``openai:gpt-4o-mini``)."""
    backend, separator, model = spec.partition(":")
    if not separator or not model:
        raise StepdistillError(
            f"teacher {spec!r} should be backend:model, for example openai:gpt-4o-mini or "
            f"local:smollm2-135m (backends: {', '.join(TEACHER_BACKENDS.names())})"
        )
    return TEACHER_BACKENDS.get(backend), model


def make_teacher(spec: str, **options: Any) -> Teacher:
    """A teacher from ``backend:model``: ``openai:gpt-4o-mini``, ``local:smollm2-135m``.

    ``options`` go to the backend (``base_url``, ``endpoint``, ``api_key_env``, ``retry`` for
    openai; ``seed`` and ``batch_size`` for local); one the backend does not take is an error.
    """
    backend, model = teacher_backend(spec)
    unknown = sorted(set(options) - backend.options)
    if unknown:
        raise StepdistillError(
            f"teacher {spec!r} does not take {', '.join(unknown)} "
            f"(it takes: {', '.join(sorted(backend.options)) or 'nothing'})"
        )
    return backend.build(model, **options)


__all__ = [
    "CHARS_PER_TOKEN",
    "DEFAULT_TEACHER",
    "TEACHER_BACKENDS",
    "BatchFileWritten",
    "BatchFiles",
    "BatchIncomplete",
    "BatchLimits",
    "Completion",
    "GenerationSettings",
    "ProviderBatches",
    "RetryPolicy",
    "Teacher",
    "TeacherBackend",
    "TeacherRequest",
    "Usage",
    "make_teacher",
    "teacher_backend",
]
