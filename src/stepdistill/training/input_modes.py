"""How the objectives of one training example reach the student.

- ``InputPrefixes`` (the paper's way): each objective's prefix on its own input, one sequence
  and one forward pass per objective.
- ``SharedInput``: the input once, the objective markers on the output side (see ``shared_input``).

The training method picks one from its config, once; everything that differs between the two
(model inputs, item encoding, batch grouping, collation, losses, FLOP counts) is asked of it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import torch

from stepdistill.models.encoding import IGNORE_INDEX, Encoded, PairEncoder
from stepdistill.models.kinds import CAUSAL, SEQ2SEQ
from stepdistill.training.features import ObjectiveBatchCollator, causal_lm_loss, scored_tokens
from stepdistill.training.sampling import GroupingKey
from stepdistill.training.shared_input import (
    SharedInputCollator,
    SharedInputEncoder,
    SharedItem,
    shared_objective_losses,
    shared_objective_token_counts,
)

LABEL_OBJECTIVE = "label"
RATIONALE_OBJECTIVE = "rationale"

# One training example: objective name -> (source text, target text).
ObjectivePairs = dict[str, tuple[str, str]]


class InputMode(Protocol):
    def source(self, objective: str, text: str) -> str:
        """The model input that asks ``objective`` of ``text``."""
        ...

    def output_prefix(self, objective: str) -> str:
        """Text the student's output starts with for ``objective`` (given, not generated)."""
        ...

    def item_encoder(self, encoder: PairEncoder) -> Callable[[ObjectivePairs], Any]:
        """Turns one example's objective pairs into a training item."""
        ...

    def label_tokens(self, item: Any) -> int:
        """Tokens of the item's label target (sizes the tokens generated at inference)."""
        ...

    def grouping_length(self, item: Any, kind: str) -> GroupingKey:
        """What batches are grouped by, so that the costliest padding is avoided."""
        ...

    def collator(self, tokenizer: Any, model: Any, kind: str) -> Callable[[list], Any]: ...

    def objective_losses(self, model: Any, batch: Any, kind: str) -> dict[str, torch.Tensor]:
        """Mean token cross-entropy of each objective in a collated batch."""
        ...

    def objective_token_counts(self, batch: Any, kind: str) -> dict[str, int]:
        """Target tokens each objective's loss is the mean over, in a collated batch."""
        ...

    def floating_point_ops(self, batch: Any, count: Callable[[dict], int]) -> int:
        """FLOPs of a batch, given ``count`` for one model input (the Trainer's estimate)."""
        ...


@dataclass(frozen=True)
class InputPrefixes:
    """Each objective's prefix on its own input; objectives without a prefix see the input as
    it is.

    Items are ``{objective: Encoded}``; batches
    ``{objective: {input_ids, attention_mask, labels}}``.
    """

    prefixes: Mapping[str, str] = field(default_factory=dict)

    def source(self, objective: str, text: str) -> str:
        return self.prefixes.get(objective, "") + text

    def output_prefix(self, objective: str) -> str:
        return ""

    def item_encoder(self, encoder: PairEncoder) -> Callable[[ObjectivePairs], dict[str, Encoded]]:
        def encode(pairs: ObjectivePairs) -> dict[str, Encoded]:
            return {
                objective: encoder.encode(source, target)
                for objective, (source, target) in pairs.items()
            }

        return encode

    def label_tokens(self, item: dict[str, Encoded]) -> int:
        return sum(1 for token in item[LABEL_OBJECTIVE].labels if token != IGNORE_INDEX)

    def grouping_length(self, item: dict[str, Encoded], kind: str) -> GroupingKey:
        # A causal student computes one sequence per objective: its tokens. A seq2seq student spends
        # most of a step in the decoder, whose every position also runs the full-vocabulary
        # output layer: (target tokens, input tokens), the targets first.
        if kind == SEQ2SEQ:
            return (
                sum(len(encoded.labels) for encoded in item.values()),
                max(len(encoded.input_ids) for encoded in item.values()),
            )
        return sum(len(encoded.input_ids) for encoded in item.values())

    def collator(self, tokenizer: Any, model: Any, kind: str) -> ObjectiveBatchCollator:
        return ObjectiveBatchCollator(tokenizer.pad_token_id, kind)

    def objective_losses(self, model: Any, batch: Any, kind: str) -> dict[str, torch.Tensor]:
        if kind == CAUSAL:
            return {
                objective: causal_lm_loss(model, **inputs)[0].mean()
                for objective, inputs in batch.items()
            }
        return {objective: model(**inputs).loss for objective, inputs in batch.items()}

    def objective_token_counts(self, batch: Any, kind: str) -> dict[str, int]:
        return {
            objective: scored_tokens(inputs["labels"], kind) for objective, inputs in batch.items()
        }

    def floating_point_ops(self, batch: Any, count: Callable[[dict], int]) -> int:
        return sum(count(inputs) for inputs in batch.values())


@dataclass(frozen=True)
class SharedInput:
    """The input once, each objective's marker on the output side (``markers``: objective ->
    marker)."""

    markers: Mapping[str, str]

    def source(self, objective: str, text: str) -> str:
        return text

    def output_prefix(self, objective: str) -> str:
        return self.markers.get(objective, "")

    def item_encoder(self, encoder: PairEncoder) -> Callable[[ObjectivePairs], SharedItem]:
        return SharedInputEncoder(encoder, dict(self.markers)).encode_pairs

    def label_tokens(self, item: SharedItem) -> int:
        return len(item.targets[LABEL_OBJECTIVE][1])

    def grouping_length(self, item: SharedItem, kind: str) -> GroupingKey:
        targets = sum(len(marker) + len(target) for marker, target in item.targets.values())
        if kind == SEQ2SEQ:
            return targets, len(item.source_ids)
        return len(item.source_ids) + targets

    def collator(self, tokenizer: Any, model: Any, kind: str) -> SharedInputCollator:
        start = getattr(model.config, "decoder_start_token_id", None)
        return SharedInputCollator(tokenizer.pad_token_id, kind, start)

    def objective_losses(self, model: Any, batch: Any, kind: str) -> dict[str, torch.Tensor]:
        return shared_objective_losses(model, batch, kind)

    def objective_token_counts(self, batch: Any, kind: str) -> dict[str, int]:
        return shared_objective_token_counts(batch, kind)

    def floating_point_ops(self, batch: Any, count: Callable[[dict], int]) -> int:
        return count(batch)
