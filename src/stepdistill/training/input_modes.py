"""How the tasks of one training example reach the student.

- ``InputPrefixes`` (the paper's way): each task's prefix on its own input, one sequence and one
  forward pass per task.
- ``SharedInput``: the input once, the task markers on the output side (see ``shared_input``).

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
from stepdistill.training.features import TaskBatchCollator, causal_lm_loss, scored_tokens
from stepdistill.training.sampling import GroupingKey
from stepdistill.training.shared_input import (
    SharedInputCollator,
    SharedInputEncoder,
    SharedItem,
    shared_task_losses,
    shared_task_token_counts,
)

LABEL_TASK = "label"
RATIONALE_TASK = "rationale"

# One training example: task name -> (source text, target text).
TaskPairs = dict[str, tuple[str, str]]


class InputMode(Protocol):
    def source(self, task: str, text: str) -> str:
        """The model input that asks ``task`` of ``text``."""
        ...

    def output_prefix(self, task: str) -> str:
        """Text the student's output starts with for ``task`` (given, not generated)."""
        ...

    def item_encoder(self, encoder: PairEncoder) -> Callable[[TaskPairs], Any]:
        """Turns one example's task pairs into a training item."""
        ...

    def label_tokens(self, item: Any) -> int:
        """Tokens of the item's label target (sizes the tokens generated at inference)."""
        ...

    def grouping_length(self, item: Any, kind: str) -> GroupingKey:
        """What batches are grouped by, so that the costliest padding is avoided."""
        ...

    def collator(self, tokenizer: Any, model: Any, kind: str) -> Callable[[list], Any]: ...

    def task_losses(self, model: Any, batch: Any, kind: str) -> dict[str, torch.Tensor]:
        """Mean token cross-entropy of each task in a collated batch."""
        ...

    def task_token_counts(self, batch: Any, kind: str) -> dict[str, int]:
        """Target tokens each task's loss is the mean over, in a collated batch."""
        ...

    def floating_point_ops(self, batch: Any, count: Callable[[dict], int]) -> int:
        """FLOPs of a batch, given ``count`` for one model input (the Trainer's estimate)."""
        ...


@dataclass(frozen=True)
class InputPrefixes:
    """Each task's prefix on its own input; tasks without a prefix see the input as it is.

    Items are ``{task: Encoded}``; batches ``{task: {input_ids, attention_mask, labels}}``.
    """

    prefixes: Mapping[str, str] = field(default_factory=dict)

    def source(self, task: str, text: str) -> str:
        return self.prefixes.get(task, "") + text

    def output_prefix(self, task: str) -> str:
        return ""

    def item_encoder(self, encoder: PairEncoder) -> Callable[[TaskPairs], dict[str, Encoded]]:
        def encode(pairs: TaskPairs) -> dict[str, Encoded]:
            return {
                task: encoder.encode(source, target) for task, (source, target) in pairs.items()
            }

        return encode

    def label_tokens(self, item: dict[str, Encoded]) -> int:
        return sum(1 for token in item[LABEL_TASK].labels if token != IGNORE_INDEX)

    def grouping_length(self, item: dict[str, Encoded], kind: str) -> GroupingKey:
        # A causal student computes one sequence per task: its tokens. A seq2seq student spends
        # most of a step in the decoder, whose every position also runs the full-vocabulary
        # output layer: (target tokens, input tokens), the targets first.
        if kind == SEQ2SEQ:
            return (
                sum(len(encoded.labels) for encoded in item.values()),
                max(len(encoded.input_ids) for encoded in item.values()),
            )
        return sum(len(encoded.input_ids) for encoded in item.values())

    def collator(self, tokenizer: Any, model: Any, kind: str) -> TaskBatchCollator:
        return TaskBatchCollator(tokenizer.pad_token_id, kind)

    def task_losses(self, model: Any, batch: Any, kind: str) -> dict[str, torch.Tensor]:
        if kind == CAUSAL:
            return {
                task: causal_lm_loss(model, **inputs)[0].mean() for task, inputs in batch.items()
            }
        return {task: model(**inputs).loss for task, inputs in batch.items()}

    def task_token_counts(self, batch: Any, kind: str) -> dict[str, int]:
        return {task: scored_tokens(inputs["labels"], kind) for task, inputs in batch.items()}

    def floating_point_ops(self, batch: Any, count: Callable[[dict], int]) -> int:
        return sum(count(inputs) for inputs in batch.values())


@dataclass(frozen=True)
class SharedInput:
    """The input once, each task's marker on the output side (``markers``: task -> marker)."""

    markers: Mapping[str, str]

    def source(self, task: str, text: str) -> str:
        return text

    def output_prefix(self, task: str) -> str:
        return self.markers.get(task, "")

    def item_encoder(self, encoder: PairEncoder) -> Callable[[TaskPairs], SharedItem]:
        return SharedInputEncoder(encoder, dict(self.markers)).encode_pairs

    def label_tokens(self, item: SharedItem) -> int:
        return len(item.targets[LABEL_TASK][1])

    def grouping_length(self, item: SharedItem, kind: str) -> GroupingKey:
        targets = sum(len(marker) + len(target) for marker, target in item.targets.values())
        if kind == SEQ2SEQ:
            return targets, len(item.source_ids)
        return len(item.source_ids) + targets

    def collator(self, tokenizer: Any, model: Any, kind: str) -> SharedInputCollator:
        start = getattr(model.config, "decoder_start_token_id", None)
        return SharedInputCollator(tokenizer.pad_token_id, kind, start)

    def task_losses(self, model: Any, batch: Any, kind: str) -> dict[str, torch.Tensor]:
        return shared_task_losses(model, batch, kind)

    def task_token_counts(self, batch: Any, kind: str) -> dict[str, int]:
        return shared_task_token_counts(batch, kind)

    def floating_point_ops(self, batch: Any, count: Callable[[dict], int]) -> int:
        return count(batch)
