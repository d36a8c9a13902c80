"""Training batches of separate per-objective sequences, and the loss of a causal student."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from stepdistill.models.encoding import IGNORE_INDEX, Encoded, attention_mask, pad
from stepdistill.models.kinds import CAUSAL


def objectives_of(items: Sequence[Any]) -> list[str]:
    """Every objective some item of a batch has, in the order they first appear (an example
    without a usable rationale has the label objective only)."""
    return list(dict.fromkeys(objective for item in items for objective in item))


class ObjectiveBatchCollator:
    """Collates items ``{objective: Encoded}`` into
    ``{objective: {input_ids, attention_mask, labels}}``; an objective's rows are the items
    that have it, and an objective no item has is absent."""

    def __init__(self, pad_token_id: int, kind: str):
        self.pad_token_id = pad_token_id
        self.kind = kind

    def __call__(self, items: Sequence[dict[str, Encoded]]) -> dict[str, dict[str, torch.Tensor]]:
        batch: dict[str, dict[str, torch.Tensor]] = {}
        for objective in objectives_of(items):
            encoded = [item[objective] for item in items if objective in item]
            inputs = [e.input_ids for e in encoded]
            batch[objective] = {
                "input_ids": pad(inputs, self.pad_token_id),
                "attention_mask": attention_mask(inputs),
                "labels": pad([e.labels for e in encoded], IGNORE_INDEX),
            }
        return batch


def _accepts_logits_to_keep(model: Any) -> bool:
    import inspect

    inner = getattr(model, "module", model)  # under DDP
    if hasattr(inner, "get_base_model"):  # a peft model passes keyword arguments through
        inner = inner.get_base_model()
    return "logits_to_keep" in inspect.signature(inner.forward).parameters


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


def scored_tokens(labels: torch.Tensor, kind: str) -> int:
    """Target tokens a loss over ``labels`` scores: a causal student's first position predicts
    nothing (its labels are shifted by one)."""
    if kind == CAUSAL:
        labels = labels[:, 1:]
    return int((labels != IGNORE_INDEX).sum())
