"""Accuracy metrics, chosen by name through a registry."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from stepdistill.evaluation.equation import equations_equal
from stepdistill.evaluation.numbers import numbers_equal
from stepdistill.registry import Registry


def normalize_text(text: str) -> str:
    """Unicode NFKC, runs of white space folded to one space, outer space and one final '.' off.

    Case is kept, as the reference implementation compared labels case-sensitively; use
    ``normalize_text(x).casefold()`` (the ``exact_match_casefold`` metric) to ignore it.
    """
    folded = " ".join(unicodedata.normalize("NFKC", text).split())
    return folded[:-1].rstrip() if folded.endswith(".") else folded


@dataclass(frozen=True)
class Metric:
    """A per-example correctness test; ``accuracy`` averages it."""

    name: str
    description: str
    is_correct: Callable[[str, str], bool]

    def score(self, prediction: str | None, reference: str | None) -> bool:
        """Whether one prediction is right. A missing prediction or reference is wrong."""
        if prediction is None or reference is None:
            return False
        return self.is_correct(prediction, reference)

    def accuracy(
        self, predictions: Sequence[str | None], references: Sequence[str | None]
    ) -> float:
        """Fraction of positions where the prediction is right. Raises if lengths differ."""
        if len(predictions) != len(references):
            raise ValueError(
                f"{len(predictions)} predictions but {len(references)} references for {self.name}"
            )
        if not references:
            return float("nan")
        correct = sum(self.score(p, r) for p, r in zip(predictions, references, strict=True))
        return correct / len(references)


METRICS: Registry[Metric] = Registry("metric")

METRICS.register(
    "exact_match",
    Metric(
        "exact_match",
        "string equality after normalize_text (case-sensitive, as the reference)",
        lambda p, r: normalize_text(p) == normalize_text(r),
    ),
)
METRICS.register(
    "exact_match_casefold",
    Metric(
        "exact_match_casefold",
        "string equality after normalize_text, ignoring case",
        lambda p, r: normalize_text(p).casefold() == normalize_text(r).casefold(),
    ),
)
METRICS.register(
    "equation",
    Metric(
        "equation",
        "equal numeric values of two arithmetic expressions (safe evaluator, never eval)",
        equations_equal,
    ),
)
METRICS.register(
    "number",
    Metric(
        "number",
        "equal numbers read from the two texts ('$1,200' = '1200'), relative tolerance 1e-6",
        numbers_equal,
    ),
)


def get_metric(name: str) -> Metric:
    """The metric registered under ``name`` (raises UnknownNameError listing the metrics)."""
    return METRICS.get(name)
