"""Deterministic splitting and subsampling.

``seeded_split`` draws exactly the rows that ``datasets.Dataset.train_test_split(test_size=...,
seed=...)`` draws (a PCG64 permutation; the first ceil(test_size * n) rows go to the test side),
so validation sets carved here are the reference implementation's, row for row.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
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


def grouped_split(
    items: Sequence[T], *, test_size: float, seed: int, group: Callable[[T], str]
) -> tuple[list[T], list[T]]:
    """``seeded_split`` over groups: the groups (``group(item)``) are shuffled with ``seed``
    and split off whole, in that order, until at least ``ceil(test_size * n)`` items are; no
    group is on both sides.

    Raises:
        ValueError: ``test_size`` is not in (0, 1), or a side would be empty (one group).
    """
    if not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size must be strictly between 0 and 1, got {test_size}")
    members: dict[str, list[T]] = {}
    for item in items:
        members.setdefault(group(item), []).append(item)
    names = list(members)
    if len(names) < 2:
        raise ValueError(f"splitting {len(items)} rows of {len(names)} group leaves one side empty")
    wanted = math.ceil(test_size * len(items))
    kept: list[T] = []
    split_off: list[T] = []
    for index in np.random.default_rng(seed).permutation(len(names)):
        side = split_off if len(split_off) < wanted else kept
        side.extend(members[names[index]])
    if not kept:
        raise ValueError(
            f"splitting {len(items)} rows in {len(names)} groups with test_size={test_size} "
            "leaves no group on the kept side"
        )
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


def carve_and_subsample(
    splits: dict[str, list[T]],
    notes: list[str],
    *,
    carves: Sequence[tuple[str, float, int, str]],
    train_fraction: float,
    seed: int,
    group: Callable[[T], str] | None = None,
) -> None:
    """Carve missing splits out of train, then keep ``train_fraction`` of what train has left,
    in place, noting each step in ``notes``.

    Args:
        carves: (split, fraction, seed, why) for each split to carve where it is missing, in
            order; ``why`` is added to the note.
        train_fraction, seed: The share of train kept afterwards, and its seed: subsampling
            after the carve selects every data size on the same validation set.
        group: Carve whole groups (``grouped_split``): no group on both sides.
    """
    for split, fraction, carve_seed, why in carves:
        if split in splits or "train" not in splits or fraction <= 0:
            continue
        if group is None:
            splits["train"], splits[split] = seeded_split(
                splits["train"], test_size=fraction, seed=carve_seed
            )
        else:
            splits["train"], splits[split] = grouped_split(
                splits["train"], test_size=fraction, seed=carve_seed, group=group
            )
            why += ", whole groups"
        notes.append(f"{split}: {fraction:.0%} of train carved out with seed {carve_seed}{why}")
    if train_fraction != 1.0 and "train" in splits:
        before = len(splits["train"])
        splits["train"] = subsample(splits["train"], fraction=train_fraction, seed=seed)
        notes.append(
            f"train: {len(splits['train'])} of {before} rows kept "
            f"(fraction {train_fraction}, seed {seed})"
        )
