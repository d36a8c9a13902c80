"""Deterministic splitting and subsampling.

``seeded_split`` draws exactly the rows that ``datasets.Dataset.train_test_split(test_size=...,
seed=...)`` draws (a PCG64 permutation; the first ceil(test_size * n) rows go to the test side),
so validation sets carved here are the reference implementation's, row for row.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypeVar

import numpy as np

T = TypeVar("T")


def seeded_split(items: Sequence[T], *, test_size: float, seed: int) -> tuple[list[T], list[T]]:
    """Shuffle ``items`` with ``seed`` and split off ``ceil(test_size * n)`` of them.

    Returns:
        (kept, split_off), both in permutation order.

    Raises:
        ValueError: ``test_size`` is not in (0, 1), or a side would be empty.
    """
    if not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size must be strictly between 0 and 1, got {test_size}")
    n_total = len(items)
    n_test = math.ceil(test_size * n_total)
    if n_test == 0 or n_test == n_total:
        raise ValueError(
            f"splitting {n_total} rows with test_size={test_size} leaves one side empty"
        )
    permutation = np.random.default_rng(seed).permutation(n_total)
    split_off = [items[i] for i in permutation[:n_test]]
    kept = [items[i] for i in permutation[n_test:]]
    return kept, split_off


def subsample(items: Sequence[T], *, fraction: float, seed: int) -> list[T]:
    """Keep ``fraction`` of ``items``, drawn with ``seed`` (as the reference's ``--subsample``).

    ``fraction == 1`` returns every item in its original order.

    Raises:
        ValueError: ``fraction`` is not in (0, 1], or it keeps no row.
    """
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"train fraction must be in (0, 1], got {fraction}")
    if fraction == 1.0:
        return list(items)
    kept, _ = seeded_split(items, test_size=1.0 - fraction, seed=seed)
    return kept
