"""The teacher interface: one request in, one completion out, failures as data."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from stepdistill.schema import Messages, Outcome

CHARS_PER_TOKEN = 4  # rough English average, for estimates only (dry runs, batch ceilings)


@dataclass(frozen=True)
class GenerationSettings:
    """Sampling settings sent with every request (part of the cache key)."""

    max_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    stop: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.max_tokens < 1:
            raise ValueError(f"max_tokens must be at least 1, got {self.max_tokens}")
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")


@dataclass(frozen=True)
class TeacherRequest:
    """One prompt (text for completions endpoints, messages for chat) and its sample index."""

    prompt: str | None = None
    messages: tuple[tuple[tuple[str, str], ...], ...] | None = None
    settings: GenerationSettings = field(default_factory=GenerationSettings)
    sample: int = 0
    mode: str | None = None  # a prompt mode such as rationalization (``rationalize-v1``)

    @staticmethod
    def chat(
        messages: Messages,
        settings: GenerationSettings,
        sample: int = 0,
        mode: str | None = None,
    ) -> TeacherRequest:
        frozen = tuple(tuple(sorted(message.items())) for message in messages)
        return TeacherRequest(messages=frozen, settings=settings, sample=sample, mode=mode)

    @property
    def message_list(self) -> Messages:
        return [dict(message) for message in self.messages or ()]

    def cache_key(self, teacher_identity: dict[str, Any]) -> str:
        """SHA-256 of the sorted JSON of (teacher, prompt, settings, sample index, and the
        prompt mode when there is one: keys of plain requests stay as they were)."""
        payload = {
            "teacher": teacher_identity,
            "prompt": self.prompt,
            "messages": self.message_list,
            "settings": asdict(self.settings),
            "sample": self.sample,
            **({"mode": self.mode} if self.mode is not None else {}),
        }
        encoded = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8")
        return hashlib.sha256(encoded).hexdigest()


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def add(self, other: Usage) -> None:
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens


# a server's token counts beyond these margins over what a request can use are not believed
PROMPT_TOKENS_PER_CHAR = 4
USAGE_SLACK = 64


def checked_usage(reported: Any, prompt_chars: int, max_tokens: int) -> tuple[Usage, bool]:
    """The token usage a server reported for one request, if it is plausible: whole numbers,
    not negative, at most ``PROMPT_TOKENS_PER_CHAR`` tokens per prompt character and
    ``max_tokens`` completion tokens (each plus ``USAGE_SLACK``). Otherwise (absent, negative,
    absurd) the request's ceiling, its estimated prompt tokens and ``max_tokens``, so that a
    cost cap cannot be fooled by the server; the flag says which."""
    ceiling = Usage(prompt_chars // CHARS_PER_TOKEN, max_tokens)
    if not isinstance(reported, dict):
        return ceiling, False
    prompt, completion = reported.get("prompt_tokens"), reported.get("completion_tokens")
    counts_ok = all(
        isinstance(value, int) and not isinstance(value, bool) and value >= 0
        for value in (prompt, completion)
    )
    if not counts_ok:
        return ceiling, False
    assert isinstance(prompt, int) and isinstance(completion, int)
    if prompt > PROMPT_TOKENS_PER_CHAR * prompt_chars + USAGE_SLACK or (
        completion > max_tokens + USAGE_SLACK
    ):
        return ceiling, False
    return Usage(prompt, completion), True


@dataclass
class Completion:
    """The teacher's answer to one request, or why there is none after every retry."""

    text: str | None
    error: str | None = None
    usage: Usage = field(default_factory=Usage)
    attempts: int = 1
    cached: bool = False
    not_sent: bool = False  # over budget: never sent

    @property
    def ok(self) -> bool:
        return self.text is not None

    @property
    def outcome(self) -> Outcome:
        """ok, failed (after every retry) or over budget (not sent)."""
        if self.text is not None:
            return Outcome.OK
        return Outcome.OVER_BUDGET if self.not_sent else Outcome.FAILED


class Teacher(Protocol):
    """A teacher LLM. ``complete`` never raises for a failed request: it returns an error."""

    name: str

    def identity(self) -> dict[str, Any]:
        """What makes its answers differ (backend, model, endpoint); never credentials."""
        ...

    async def complete(self, request: TeacherRequest) -> Completion: ...

    async def aclose(self) -> None: ...
