"""Did method A beat method B beyond the noise? Paired statistics over per-example correctness.

The question is always about two methods trained with the same seeds and tested on the same
examples: ``treatment[i]`` and ``baseline[i]`` are the boolean correctness vectors of seed ``i``
(one entry per test example, in the same order).

The 95% interval of the mean accuracy difference comes from a two-level bootstrap that draws
both sources of noise a user cares about:

- **test examples**: the test set is one sample of the inputs the user will see. Every seed was
  tested on the *same* examples, so each replicate resamples the examples once (with
  replacement) and scores every seed on that same resample: the pairing of A and B on an
  example is kept, and so is the correlation between seeds.
- **seeds**: the training run is one draw of initialisation and data order; each replicate also
  resamples the seeds (with replacement) and averages the per-seed differences.

The interval is the 2.5 and 97.5 percentiles of 10,000 replicates (seeded: the same answer every
time). It does not cover what the seeds do not vary (the data subsample when it is fixed, the
teacher's rationales, the student's size), and with one seed it covers the test examples only
(said so in the verdict). With 2 or 3 seeds, resampling seeds understates the seed spread a
little (a bootstrap of 3 values); that is the price of running few seeds, and why the smallest
detectable difference is reported beside it.

The verdict reads the interval alone: above 0, "helped"; below 0, "hurt"; else "inside the
noise". Beside it, McNemar's exact test per seed (a two-sided binomial test on the discordant
examples) and the smallest difference these seeds and test examples could detect, taken as
(z_0.975 + z_0.8) = 2.80 bootstrap standard errors: a true difference that large is found 80% of
the time at the 5% level.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

HELPED, HURT, INSIDE_NOISE = "helped", "hurt", "inside the noise"
REPLICATES = 10_000
CONFIDENCE = 0.95
DETECTABLE_SE = 1.96 + 0.84  # two-sided 5% level, 80% power
_CHUNK = 2_000  # replicates drawn at once


def mcnemar_exact(treatment_only: int, baseline_only: int) -> float:
    """Two-sided exact McNemar p-value from the two discordant counts (examples only the
    treatment got right, examples only the baseline got right)."""
    n = treatment_only + baseline_only
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(treatment_only, baseline_only) + 1))
    return min(1.0, 2 * tail / 2**n)


def bootstrap_means(
    values: np.ndarray, *, replicates: int = REPLICATES, seed: int = 0
) -> np.ndarray:
    """Replicates of the mean over seeds and examples of ``values`` (seeds x examples: -1 / 0 /
    +1 differences, or 0 / 1 correctness): test examples resampled once per replicate for every
    seed, seeds resampled too."""
    n_seeds, n_examples = values.shape
    rng = np.random.default_rng(seed)
    means = np.empty(replicates)
    # examples with the same outcomes in every seed are interchangeable: resampling examples
    # is drawing how often each distinct column (at most 3 ** seeds of them) comes up
    patterns, counts_seen = np.unique(values, axis=1, return_counts=True)
    weights = counts_seen / n_examples
    for start in range(0, replicates, _CHUNK):
        size = min(_CHUNK, replicates - start)
        counts = rng.multinomial(n_examples, weights, size=size)  # resampled examples
        per_seed = counts @ patterns.T / n_examples  # replicate x seed
        picked = rng.integers(0, n_seeds, size=(size, n_seeds))  # resampled seeds
        means[start : start + size] = np.take_along_axis(per_seed, picked, axis=1).mean(axis=1)
    return means


@dataclass(frozen=True)
class Comparison:
    """A treatment against a baseline on the same test examples, seed by seed."""

    treatment: str
    baseline: str
    test_size: int
    treatment_accuracy: list[float]
    baseline_accuracy: list[float]
    differences: list[float]
    mean_difference: float
    interval: tuple[float, float]
    detectable: float
    discordant: list[tuple[int, int]]
    mcnemar_p: list[float]
    verdict: str

    @property
    def seeds(self) -> int:
        return len(self.differences)

    def line(self) -> str:
        """One line: the difference in points, its interval, the evidence and the verdict."""
        low, high = (100 * value for value in self.interval)
        covers = "test examples and seeds" if self.seeds > 1 else "test examples only (1 seed)"
        p_values = "/".join(f"{p:.3g}" for p in self.mcnemar_p)
        return (
            f"{self.treatment} vs {self.baseline}: {100 * self.mean_difference:+.1f} points "
            f"[{low:+.1f}, {high:+.1f}] (95%, {covers}; {self.seeds} seed(s) x "
            f"{self.test_size} test examples; McNemar p {p_values}; detectable "
            f"+-{100 * self.detectable:.1f}): {self.verdict}"
        )

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "seeds": self.seeds, "line": self.line()}


def accuracy_interval(
    correct: Sequence[Sequence[bool]], *, replicates: int = REPLICATES, seed: int = 0
) -> tuple[float, float, float]:
    """One method's mean accuracy over seeds and its 95% interval (the same two-level
    bootstrap): (mean, low, high)."""
    values = np.asarray(correct, dtype=float)
    replicated = bootstrap_means(values, replicates=replicates, seed=seed)
    tail = (1 - CONFIDENCE) / 2
    low, high = np.quantile(replicated, [tail, 1 - tail])
    return float(values.mean()), float(low), float(high)


def verdict_of(interval: tuple[float, float]) -> str:
    """What the interval says: helped (all above 0), hurt (all below 0), or inside the noise."""
    low, high = interval
    if low > 0:
        return HELPED
    if high < 0:
        return HURT
    return INSIDE_NOISE


def compare_correctness(
    treatment: Sequence[Sequence[bool]],
    baseline: Sequence[Sequence[bool]],
    *,
    names: tuple[str, str] = ("treatment", "baseline"),
    replicates: int = REPLICATES,
    seed: int = 0,
) -> Comparison:
    """Compare per-example correctness, seed ``i`` of one side with seed ``i`` of the other.

    Raises:
        ValueError: no seed, different seed counts, or vectors of different lengths.
    """
    if len(treatment) == 0 or len(treatment) != len(baseline):
        raise ValueError(
            f"need the same number of seeds on both sides, got {len(treatment)} and {len(baseline)}"
        )
    a = np.asarray(treatment, dtype=bool)
    b = np.asarray(baseline, dtype=bool)
    if a.ndim != 2 or a.shape != b.shape or a.shape[1] == 0:
        raise ValueError(
            "every seed of both sides needs the same, non-empty test examples; got shapes "
            f"{a.shape} and {b.shape}"
        )
    differences = a.astype(np.int8) - b.astype(np.int8)
    replicated = bootstrap_means(differences.astype(float), replicates=replicates, seed=seed)
    tail = (1 - CONFIDENCE) / 2
    interval = (
        float(np.quantile(replicated, tail)),
        float(np.quantile(replicated, 1 - tail)),
    )
    discordant = [(int((row == 1).sum()), int((row == -1).sum())) for row in differences]
    per_seed = differences.mean(axis=1)
    return Comparison(
        treatment=names[0],
        baseline=names[1],
        test_size=int(a.shape[1]),
        treatment_accuracy=[float(x) for x in a.mean(axis=1)],
        baseline_accuracy=[float(x) for x in b.mean(axis=1)],
        differences=[float(x) for x in per_seed],
        mean_difference=float(per_seed.mean()),
        interval=interval,
        detectable=float(DETECTABLE_SE * replicated.std(ddof=1)),
        discordant=discordant,
        mcnemar_p=[mcnemar_exact(plus, minus) for plus, minus in discordant],
        verdict=verdict_of(interval),
    )


__all__ = [
    "HELPED",
    "HURT",
    "INSIDE_NOISE",
    "Comparison",
    "accuracy_interval",
    "bootstrap_means",
    "compare_correctness",
    "mcnemar_exact",
    "verdict_of",
]
