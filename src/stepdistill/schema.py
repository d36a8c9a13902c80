"""The records that flow between stages (see DESIGN.md, "Contracts worth keeping stable")."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

# Chat messages as OpenAI-compatible APIs take them: [{"role": ..., "content": ...}, ...]
Messages = list[dict[str, str]]


class Outcome(str, Enum):
    """How one teacher request, or one example's extraction, ended: exactly one of these."""

    OK = "ok"
    UNPARSABLE = "unparsable"  # answered, but no usable label could be read
    FAILED = "failed"  # no answer: the request failed after every retry
    FILTERED = "filtered"  # parsed, then set aside by a filter
    OVER_BUDGET = "over budget"  # not sent: the cost ceiling was reached


# The reason of a record whose every request failed (the others' reasons are the parser's).
REQUEST_FAILED = "request failed"


@dataclass(frozen=True)
class ParseResult:
    """What the answer parser made of one teacher completion.

    A failed parse is data: ``ok`` is False, ``label`` is None, ``error`` says why for a
    person and ``reason`` is its kind, one of a fixed set (``tasks.parsing``), for counting.
    """

    rationale: str
    label: str | None
    ok: bool
    error: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class TeacherRecord:
    """A teacher's output for one example: one line of a teacher JSONL file.

    Attributes:
        example_id: The ``Example.id`` this record belongs to.
        rationale: The chain-of-thought text before the answer (None when absent).
        teacher_label: The teacher's answer, canonicalised by the task (None if unparsable).
        parse_ok: Whether ``teacher_label`` may be used as a training label.
        error: Why the parse failed, when it did.
        raw: The raw completion, kept for inspection.
        teacher: Which model produced it (for example ``palm-540b``).
        meta: Provenance: prompt id, generation settings, samples, token usage.
        filtered: Why a filter (label agreement, ...) set this record aside, if one did.
        judge_score: A judge model's rating of the rationale, if it was judged and its answer
            could be read (provenance and unreadable answers are in ``meta["judge"]``).
        reason: The kind of ``error``, from a fixed set (``REQUEST_FAILED`` or a parser's
            reason), which counts and outcomes are read from: never the message itself.
    """

    example_id: str
    rationale: str | None
    teacher_label: str | None
    parse_ok: bool
    error: str | None = None
    raw: str | None = None
    teacher: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    filtered: str | None = None
    judge_score: float | None = None
    reason: str | None = None

    @property
    def outcome(self) -> Outcome:
        """ok, unparsable, failed (no answer came) or filtered."""
        if self.filtered is not None:
            return Outcome.FILTERED
        if self.parse_ok:
            return Outcome.OK
        return Outcome.FAILED if self.reason == REQUEST_FAILED else Outcome.UNPARSABLE

    @property
    def usable(self) -> bool:
        """Whether label and rationale may be trained on: parsed and not filtered out."""
        return self.parse_ok and self.filtered is None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TeacherRecord:
        known = {name for name in cls.__dataclass_fields__}
        return cls(**{key: value for key, value in data.items() if key in known})


@dataclass(frozen=True)
class Example:
    """One task example.

    Attributes:
        id: Stable identifier, unique within a split.
        input: The input text, already formatted for the task.
        label: The gold label, if known.
        meta: The raw fields the input was built from (choices, premise, ...).
        teacher: The teacher's rationale and label for this example, if any.
    """

    id: str
    input: str
    label: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    teacher: TeacherRecord | None = None
