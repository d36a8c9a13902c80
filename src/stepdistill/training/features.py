"""Token ids for (source, target) pairs and the collator that pads them into batches."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from stepdistill.training.students import SEQ2SEQ

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

    def source_ids(self, source: str) -> list[int]:
        """Ids of a model input (for a causal student: the prompt, separator included)."""
        if self.kind == SEQ2SEQ:
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
        if self.kind == SEQ2SEQ:
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


class TaskBatchCollator:
    """Collates items ``{task: Encoded}`` into ``{task: {input_ids, attention_mask, labels}}``."""

    def __init__(self, pad_token_id: int, kind: str):
        self.pad_token_id = pad_token_id
        self.kind = kind

    def __call__(self, items: Sequence[dict[str, Encoded]]) -> dict[str, dict[str, torch.Tensor]]:
        batch: dict[str, dict[str, torch.Tensor]] = {}
        for task in items[0]:
            encoded = [item[task] for item in items]
            inputs = [e.input_ids for e in encoded]
            batch[task] = {
                "input_ids": pad(inputs, self.pad_token_id),
                "attention_mask": attention_mask(inputs),
                "labels": pad([e.labels for e in encoded], IGNORE_INDEX),
            }
        return batch


def _accepts_logits_to_keep(model: Any) -> bool:
    import inspect

    forward = getattr(model, "module", model).forward
    return "logits_to_keep" in inspect.signature(forward).parameters


def causal_lm_loss(
    model: Any,
    *,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    labels: torch.Tensor,
    position_ids: torch.Tensor | None = None,
    segments: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Per-token cross-entropy of a causal LM on its labelled tokens only.

    The output layer (the full vocabulary) runs only on the positions that predict a labelled
    token, not on the prompt: with a 49k vocabulary that is a fifth of the model's compute per
    position. Returns the losses, the labels they score, and each one's segment (if given).
    """
    next_labels = labels[:, 1:]
    wanted = (next_labels != IGNORE_INDEX).any(dim=0).nonzero().squeeze(-1)
    keep = torch.arange(int(wanted.min()), int(wanted.max()) + 1, device=labels.device)
    extra = {"position_ids": position_ids} if position_ids is not None else {}
    if _accepts_logits_to_keep(model):
        logits = model(
            input_ids=input_ids, attention_mask=attention_mask, logits_to_keep=keep, **extra
        ).logits
    else:
        logits = model(input_ids=input_ids, attention_mask=attention_mask, **extra).logits[:, keep]
    kept_labels = next_labels[:, keep]
    scored = kept_labels != IGNORE_INDEX
    losses = torch.nn.functional.cross_entropy(
        logits[scored].float(), kept_labels[scored], reduction="none"
    )
    kept_segments = segments[:, 1:][:, keep][scored] if segments is not None else None
    return losses, kept_labels[scored], kept_segments
