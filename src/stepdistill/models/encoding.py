"""Token ids for (source, target) pairs, the way a seq2seq or a causal model needs them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from stepdistill.models.kinds import SEQ2SEQ

IGNORE_INDEX = -100
# Between a causal student's input and its answer; kept out of the truncated part.
CAUSAL_SEPARATOR = "\n"


@dataclass(frozen=True)
class Encoded:
    """One sequence: model input ids and the label ids the loss sees (-100 = ignored)."""

    input_ids: list[int]
    labels: list[int]


class PairEncoder:
    """Turns (source, target) texts into ids the way a seq2seq or a causal student needs."""

    def __init__(self, tokenizer: Any, kind: str, *, max_input_length: int, max_target_length: int):
        self.tokenizer = tokenizer
        self.kind = kind
        self.max_input_length = max_input_length
        self.max_target_length = max_target_length
        self.separator_ids = tokenizer(CAUSAL_SEPARATOR, add_special_tokens=False)["input_ids"]

    @property
    def is_seq2seq(self) -> bool:
        return self.kind == SEQ2SEQ

    def source_ids(self, source: str) -> list[int]:
        """Ids of a model input (for a causal student: the prompt, separator included)."""
        if self.is_seq2seq:
            return self.tokenizer(source, truncation=True, max_length=self.max_input_length)[
                "input_ids"
            ]
        room = max(1, self.max_input_length - len(self.separator_ids))
        ids = self.tokenizer(source, truncation=True, max_length=room)["input_ids"]
        return ids + self.separator_ids

    @classmethod
    def for_config(cls, tokenizer: Any, kind: str, config: Any) -> PairEncoder:
        """The encoder a training config asks for (its input and target length limits)."""
        return cls(
            tokenizer,
            kind,
            max_input_length=config.max_input_length,
            max_target_length=config.max_target_length,
        )

    def marker_ids(self, marker: str) -> list[int]:
        """Ids of an output-side task marker (shared-input training), without special tokens."""
        return self.tokenizer(marker, add_special_tokens=False)["input_ids"]

    def target_ids(self, target: str) -> list[int]:
        """Target ids, ending with eos (added here so every tokenizer behaves alike)."""
        ids = self.tokenizer(target, add_special_tokens=False)["input_ids"]
        return [*ids[: self.max_target_length - 1], self.tokenizer.eos_token_id]

    def encode(self, source: str, target: str) -> Encoded:
        source_ids, target_ids = self.source_ids(source), self.target_ids(target)
        if self.is_seq2seq:
            return Encoded(source_ids, target_ids)
        return Encoded(source_ids + target_ids, [IGNORE_INDEX] * len(source_ids) + target_ids)


def pad(sequences: Sequence[list[int]], value: int, *, left: bool = False) -> torch.Tensor:
    """A rectangular tensor of ``sequences`` padded with ``value`` (on the left if asked)."""
    width = max(len(sequence) for sequence in sequences)
    rows = [
        [value] * (width - len(s)) + list(s) if left else list(s) + [value] * (width - len(s))
        for s in sequences
    ]
    return torch.tensor(rows, dtype=torch.long)


def attention_mask(sequences: Sequence[list[int]], *, left: bool = False) -> torch.Tensor:
    return pad([[1] * len(sequence) for sequence in sequences], 0, left=left)
