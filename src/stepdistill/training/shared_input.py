"""Shared-input multi-objective training: the input is computed once and both targets attend to it.

The objective marker moves from the input (``predict: x`` / ``explain: x``, the paper's way,
two full passes) to the output side: the model reads ``x`` once and continues with
``predict: <label>`` or ``explain: <rationale>``; the marker tokens are given, not learned.

- seq2seq students: one encoder pass, then one decoder pass per objective over the same
  encoder states.
- decoder-only students: one sequence ``x sep | predict: label eos | explain: rationale eos``
  with a block attention mask (each target block sees the input and itself, never the other
  block) and position ids that restart after the input, so each block is computed exactly as
  in its own sequence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from stepdistill.models.encoding import IGNORE_INDEX, PairEncoder, pad
from stepdistill.models.kinds import SEQ2SEQ
from stepdistill.training.features import causal_lm_loss, objectives_of, scored_tokens


@dataclass(frozen=True)
class SharedItem:
    """One example: the input ids once, and per objective (marker ids, target ids ending in eos)."""

    source_ids: list[int]
    targets: dict[str, tuple[list[int], list[int]]]


class SharedInputEncoder:
    """Encodes an input and its per-objective targets for shared-input training."""

    def __init__(self, encoder: PairEncoder, markers: dict[str, str]):
        self.encoder = encoder
        self.markers = {objective: encoder.marker_ids(text) for objective, text in markers.items()}

    def encode_pairs(self, pairs: dict[str, tuple[str, str]]) -> SharedItem:
        """One item from an example's (source, target) per objective; the sources are all the
        same."""
        source = next(iter(pairs.values()))[0]
        return self.encode(source, {objective: target for objective, (_, target) in pairs.items()})

    def encode(self, source: str, targets: dict[str, str]) -> SharedItem:
        return SharedItem(
            self.encoder.source_ids(source),
            {
                objective: (self.markers[objective], self.encoder.target_ids(text))
                for objective, text in targets.items()
            },
        )


class SharedInputCollator:
    """Pads shared-input items into a seq2seq or a causal batch (see the module docstring)."""

    def __init__(self, pad_token_id: int, kind: str, decoder_start_token_id: int | None = None):
        self.pad_token_id = pad_token_id
        self.kind = kind
        self.decoder_start_token_id = decoder_start_token_id

    def __call__(self, items: Sequence[SharedItem]) -> dict[str, Any]:
        if self.kind == SEQ2SEQ:
            return self._seq2seq(items)
        return self._causal(items)

    def _seq2seq(self, items: Sequence[SharedItem]) -> dict[str, Any]:
        sources = [item.source_ids for item in items]
        batch: dict[str, Any] = {
            "input_ids": pad(sources, self.pad_token_id),
            "attention_mask": pad([[1] * len(s) for s in sources], 0),
            "objectives": {},
        }
        start = self.decoder_start_token_id
        if start is None:
            raise ValueError("a seq2seq shared-input batch needs the decoder start token id")
        for objective in objectives_of([item.targets for item in items]):
            rows = [row for row, item in enumerate(items) if objective in item.targets]
            decoder_inputs, labels = [], []
            for row in rows:
                marker, target = items[row].targets[objective]
                # the decoder reads start, marker, target[:-1] and predicts marker[1:], target;
                # only the target positions count
                decoder_inputs.append([start, *marker, *target[:-1]])
                labels.append([IGNORE_INDEX] * len(marker) + target)
            batch["objectives"][objective] = {
                "decoder_input_ids": pad(decoder_inputs, self.pad_token_id),
                "decoder_attention_mask": pad([[1] * len(d) for d in decoder_inputs], 0),
                "labels": pad(labels, IGNORE_INDEX),
            }
            if len(rows) < len(items):  # the items that have this objective
                batch["objectives"][objective]["rows"] = torch.tensor(rows)
        if all("rows" in decoder for decoder in batch["objectives"].values()):
            raise ValueError("a shared-input batch needs an objective that every item has")
        # an objective of every item first: its pass computes the encoder states
        batch["objectives"] = dict(
            sorted(batch["objectives"].items(), key=lambda entry: "rows" in entry[1])
        )
        return batch

    def _causal(self, items: Sequence[SharedItem]) -> dict[str, Any]:
        objectives = objectives_of([item.targets for item in items])
        rows, labels, positions, segments = [], [], [], []
        for item in items:
            ids = list(item.source_ids)
            row_labels = [IGNORE_INDEX] * len(ids)
            row_positions = list(range(len(ids)))
            row_segments = [0] * len(ids)
            for number, objective in enumerate(objectives, start=1):
                if objective not in item.targets:
                    continue
                marker, target = item.targets[objective]
                block = [*marker, *target]
                ids += block
                row_labels += [IGNORE_INDEX] * len(marker) + target
                row_positions += range(len(item.source_ids), len(item.source_ids) + len(block))
                row_segments += [number] * len(block)
            rows.append(ids)
            labels.append(row_labels)
            positions.append(row_positions)
            segments.append(row_segments)
        input_ids = pad(rows, self.pad_token_id)
        segment_ids = pad(segments, -1)  # -1: padding
        return {
            "input_ids": input_ids,
            "attention_mask": block_attention_mask(segment_ids),
            "position_ids": pad(positions, 0),
            # not "labels": the Trainer would then count tokens and stop scaling the loss for
            # gradient accumulation
            "target_ids": pad(labels, IGNORE_INDEX),
            "label_segments": segment_ids,
            "objective_names": objectives,
        }


def block_attention_mask(segments: torch.Tensor) -> torch.Tensor:
    """Boolean (batch, 1, length, length) mask: causal, and a target block (segment > 0) sees the
    input (segment 0) and itself only. Padding (segment -1) sees only itself, so that no row of
    the attention is empty."""
    length = segments.shape[1]
    causal = torch.ones(length, length, dtype=torch.bool).tril()
    query, key = segments[:, :, None], segments[:, None, :]
    allowed = (key == 0) | (key == query)
    allowed &= (query >= 0) & (key >= 0)
    mask = allowed & causal
    mask |= torch.eye(length, dtype=torch.bool)
    return mask[:, None, :, :]


def shared_objective_losses(
    model: Any, batch: dict[str, Any], kind: str
) -> dict[str, torch.Tensor]:
    """Mean token cross-entropy of each objective from one shared-input batch."""
    if kind == SEQ2SEQ:
        losses: dict[str, torch.Tensor] = {}
        encoder_states = None
        for objective, decoder in batch["objectives"].items():
            decoder = dict(decoder)
            rows = decoder.pop("rows", None)
            mask = batch["attention_mask"] if rows is None else batch["attention_mask"][rows]
            inputs = {"attention_mask": mask, **decoder}
            if encoder_states is None:  # the collator put an objective of every item first
                output = model(input_ids=batch["input_ids"], **inputs)
                encoder_states = output.encoder_last_hidden_state
            else:
                states = encoder_states if rows is None else encoder_states[rows]
                output = model(encoder_outputs=(states,), **inputs)
            losses[objective] = output.loss
        return losses
    labels, segments = batch["target_ids"], batch["label_segments"]
    per_token, _, next_segments = causal_lm_loss(
        model,
        input_ids=batch["input_ids"],
        attention_mask=batch["attention_mask"],
        position_ids=batch["position_ids"],
        labels=labels,
        segments=segments,
    )
    return {
        objective: per_token[next_segments == number].mean()
        for number, objective in enumerate(batch["objective_names"], start=1)
    }  # every objective named has a target in some row (the collator names only those)


def shared_objective_token_counts(batch: dict[str, Any], kind: str) -> dict[str, int]:
    """Target tokens of each objective in one shared-input batch (what its mean loss divides by)."""
    if kind == SEQ2SEQ:
        return {
            objective: scored_tokens(decoder["labels"], kind)
            for objective, decoder in batch["objectives"].items()
        }
    scored = batch["target_ids"][:, 1:] != IGNORE_INDEX
    segments = batch["label_segments"][:, 1:]
    return {
        objective: int((scored & (segments == number)).sum())
        for number, objective in enumerate(batch["objective_names"], start=1)
    }
