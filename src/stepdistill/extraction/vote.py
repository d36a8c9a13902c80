"""Self-consistency: a majority vote over the labels of several sampled rationales."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from stepdistill.schema import ParseResult
from stepdistill.tasks.labels import LabelKind


def majority_vote(samples: Sequence[ParseResult], kind: LabelKind) -> tuple[str | None, list[int]]:
    """The winning label and the indices of the samples that agree with it.

    Labels that mean the same answer (the label kind's ``vote_key``) vote together. Only parsed
    samples vote; a tie goes to the answer seen first. No parsed sample: (None, []).
    """
    keys = [kind.vote_key(s.label) if s.ok and s.label is not None else None for s in samples]
    counts = Counter(key for key in keys if key is not None)
    if not counts:
        return None, []
    best = max(counts.values())
    winner = next(key for key in keys if key is not None and counts[key] == best)
    agreeing = [i for i, key in enumerate(keys) if key == winner]
    return samples[agreeing[0]].label, agreeing
