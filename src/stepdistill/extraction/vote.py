"""Self-consistency: a majority vote over the labels of several sampled rationales."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from stepdistill.evaluation.equation import equation_value
from stepdistill.evaluation.metrics import normalize_text
from stepdistill.schema import ParseResult
from stepdistill.tasks.labels import Equation, LabelKind


def vote_key(label: str, kind: LabelKind) -> str:
    """Labels that mean the same answer share a key: equal values, or equal text ignoring case."""
    if isinstance(kind, Equation):
        value = equation_value(label)
        return f"{value:.9g}" if value is not None else label
    return normalize_text(label).casefold()


def majority_vote(samples: Sequence[ParseResult], kind: LabelKind) -> tuple[str | None, list[int]]:
    """The winning label and the indices of the samples that agree with it.

    Only parsed samples vote; a tie goes to the answer seen first. No parsed sample: (None, []).
    """
    keys = [vote_key(s.label, kind) if s.ok and s.label is not None else None for s in samples]
    counts = Counter(key for key in keys if key is not None)
    if not counts:
        return None, []
    best = max(counts.values())
    winner = next(key for key in keys if key is not None and counts[key] == best)
    agreeing = [i for i, key in enumerate(keys) if key == winner]
    return samples[agreeing[0]].label, agreeing
