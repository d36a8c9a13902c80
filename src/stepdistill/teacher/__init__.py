"""Teacher LLM backends behind one small interface, chosen by ``scheme:model``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stepdistill.errors import StepdistillError
from stepdistill.registry import Registry
from stepdistill.teacher.base import Completion, GenerationSettings, Teacher, TeacherRequest, Usage
from stepdistill.teacher.retry import RetryPolicy


def _openai(model: str, **options: Any) -> Teacher:
    from stepdistill.teacher.openai_backend import OpenAITeacher

    return OpenAITeacher(model, **options)


def _local(model: str, **options: Any) -> Teacher:
    from stepdistill.teacher.local_backend import LocalTeacher

    allowed = {k: v for k, v in options.items() if k in ("seed",)}
    return LocalTeacher(model, **allowed)


TEACHER_BACKENDS: Registry[Callable[..., Teacher]] = Registry("teacher backend")
TEACHER_BACKENDS.register("openai", _openai)
TEACHER_BACKENDS.register("local", _local)

DEFAULT_TEACHER = "local:smollm2-135m"


def make_teacher(spec: str, **options: Any) -> Teacher:
    """A teacher from ``backend:model``: ``openai:gpt-4o-mini``, ``local:smollm2-135m``.

    ``options`` go to the backend (``base_url``, ``endpoint``, ``api_key_env``, ``retry`` for
    openai; ``seed`` for local).
    """
    backend, separator, model = spec.partition(":")
    if not separator or not model:
        raise StepdistillError(
            f"teacher {spec!r} should be backend:model, for example openai:gpt-4o-mini or "
            f"local:smollm2-135m (backends: {', '.join(TEACHER_BACKENDS.names())})"
        )
    return TEACHER_BACKENDS.get(backend)(model, **options)


__all__ = [
    "DEFAULT_TEACHER",
    "TEACHER_BACKENDS",
    "Completion",
    "GenerationSettings",
    "RetryPolicy",
    "Teacher",
    "TeacherRequest",
    "Usage",
    "make_teacher",
]
