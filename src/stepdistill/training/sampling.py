"""Batches of examples alike in length, so that little of each step is padding."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
from torch.utils.data import Sampler
from transformers.trainer_pt_utils import LengthGroupedSampler

# (target tokens, input tokens) of a seq2seq example; one token count for a causal one
GroupingKey = int | tuple[int, int]


class TwoLengthGroupedSampler(Sampler[int]):
    """Groups seq2seq examples by target length, then, among neighbours in target length, by
    input length: the decoder pads to the longest target and the encoder to the longest input.

    As transformers' LengthGroupedSampler: a seeded shuffle, then mega-batches of
    ``mega_batch_mult`` batches sorted by target length; each run of ``chunk_batches`` batches
    is then sorted by input length. The longest target goes into the first batch, so that an
    out-of-memory error shows at once.
    """

    def __init__(
        self,
        batch_size: int,
        lengths: Sequence[tuple[int, int]],
        generator: torch.Generator | None = None,
        mega_batch_mult: int = 50,
        chunk_batches: int = 4,
    ) -> None:
        self.batch_size = batch_size
        self.lengths = list(lengths)
        self.generator = generator
        self.mega_batch_mult = max(1, min(mega_batch_mult, len(self.lengths) // (batch_size * 4)))
        self.chunk_batches = chunk_batches

    def __len__(self) -> int:
        return len(self.lengths)

    def __iter__(self) -> Iterator[int]:
        targets = [target for target, _ in self.lengths]
        inputs = [source for _, source in self.lengths]
        order = torch.randperm(len(self.lengths), generator=self.generator).tolist()
        mega = self.mega_batch_mult * self.batch_size
        chunk = self.chunk_batches * self.batch_size
        chunks: list[list[int]] = []
        for start in range(0, len(order), mega):
            by_target = sorted(order[start : start + mega], key=lambda i: -targets[i])
            for offset in range(0, len(by_target), chunk):
                chunks.append(sorted(by_target[offset : offset + chunk], key=lambda i: -inputs[i]))
        flat = [i for group in chunks for i in group]
        longest = max(range(len(flat)), key=lambda position: targets[flat[position]])
        flat[0], flat[longest] = flat[longest], flat[0]
        return iter(flat)


def length_grouped_sampler(
    batch_size: int, lengths: Sequence[GroupingKey], generator: torch.Generator | None = None
) -> Sampler[int]:
    """The sampler for these grouping keys: two lengths (seq2seq) or one (causal)."""
    pairs = [length for length in lengths if isinstance(length, tuple)]
    if pairs:
        return TwoLengthGroupedSampler(batch_size, pairs, generator=generator)
    singles = [length for length in lengths if isinstance(length, int)]
    return LengthGroupedSampler(batch_size, lengths=singles, generator=generator)
