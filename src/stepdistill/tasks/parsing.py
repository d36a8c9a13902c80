"""The one completion parser: a task's ``AnswerPattern`` says where rationale and label are."""

from __future__ import annotations

import re

from stepdistill.schema import ParseResult
from stepdistill.tasks.base import AnswerPattern
from stepdistill.tasks.labels import LabelKind

# Regexes only ever see bounded text, so that parsing stays linear in a completion's length
# whatever its patterns: a completion is read up to MAX_COMPLETION_CHARS (after the cut at its
# first stop marker), and a label within MAX_LABEL_CHARS after the answer marker.
MAX_COMPLETION_CHARS = 20_000
MAX_LABEL_CHARS = 1000

# The kinds of parse failure (``ParseResult.reason``).
NOT_TEXT = "completion is not text"
NO_ANSWER_MARKER = "no answer marker"
NO_LABEL = "no label after the answer marker"
INVALID_LABEL = "invalid label"


def cut_at_stop(text: str, stop_markers: tuple[str, ...]) -> str:
    """``text`` up to the first stop marker (the start of a further few-shot exemplar)."""
    end = len(text)
    for marker in stop_markers:
        position = text.find(marker)
        if position != -1:
            end = min(end, position)
    return text[:end]


def parse_completion(text: str, pattern: AnswerPattern, label_kind: LabelKind) -> ParseResult:
    """Split a chain-of-thought completion into rationale and label.

    The completion is cut at the first stop marker (and read up to ``MAX_COMPLETION_CHARS``),
    the last answer marker splits rationale from answer, ``label_regex`` picks the label out
    of the answer, and the task's label kind checks and canonicalises it. Never raises: a
    completion without a usable label gives ``ok=False`` and an ``error`` (the rationale is
    still returned for inspection).
    """
    if not isinstance(text, str):
        return ParseResult(
            "", None, False, f"completion is {type(text).__name__}, not text", NOT_TEXT
        )
    body = cut_at_stop(text, pattern.stop_markers)[:MAX_COMPLETION_CHARS].rstrip()
    markers = list(re.finditer(pattern.answer_marker, body))
    if not markers:
        return ParseResult(body.strip(), None, False, NO_ANSWER_MARKER, NO_ANSWER_MARKER)
    last = markers[-1]
    rationale = body[: last.start()].strip()
    found = re.search(pattern.label_regex, body[last.end() : last.end() + MAX_LABEL_CHARS])
    if found is None:
        return ParseResult(rationale, None, False, NO_LABEL, NO_LABEL)
    raw_label = found.groupdict().get("label") or found.group(0)
    checked = label_kind.check(raw_label)
    if checked.label is None:
        return ParseResult(
            rationale, None, False, f"{INVALID_LABEL}: {checked.error}", INVALID_LABEL
        )
    return ParseResult(rationale, checked.label, True)
