"""Batched greedy generation and target scoring for seq2seq and causal models."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from tqdm.auto import tqdm

from stepdistill.models.encoding import IGNORE_INDEX, PairEncoder, attention_mask, pad


@torch.inference_mode()
def generate_texts(
    model: Any,
    encoder: PairEncoder,
    sources: Sequence[str],
    *,
    max_new_tokens: int,
    batch_size: int = 32,
    progress: bool = False,
    output_prefix: str = "",
    temperature: float = 0.0,
    seed: int = 0,
) -> list[str]:
    """Greedy continuations of ``sources`` (sampled at ``temperature`` above 0, seeded with
    ``seed`` so that a rerun reproduces them), decoded without special tokens, in input order.

    Inputs are sorted by length so that each batch carries little padding; causal prompts
    are padded on the left so that every row's answer starts at the same position.
    ``output_prefix`` (a shared-input task marker) is given to the student as the start of its
    output and is not part of the returned text.
    """
    tokenizer = encoder.tokenizer
    prefix_ids = encoder.marker_ids(output_prefix) if output_prefix else []
    seq2seq = encoder.is_seq2seq
    encoded = [encoder.source_ids(source) + ([] if seq2seq else prefix_ids) for source in sources]
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
    outputs: list[str] = [""] * len(encoded)
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    try:
        for start in tqdm(
            range(0, len(order), batch_size), desc="generating", disable=not progress, leave=False
        ):
            rows = order[start : start + batch_size]
            ids = [encoded[i] for i in rows]
            input_ids = pad(ids, tokenizer.pad_token_id, left=not seq2seq).to(device)
            mask = attention_mask(ids, left=not seq2seq).to(device)
            extra = {}
            if seq2seq and prefix_ids:
                start = model.config.decoder_start_token_id
                extra["decoder_input_ids"] = torch.tensor(
                    [[start, *prefix_ids]] * len(rows), device=device
                )
            if temperature > 0:
                torch.manual_seed(seed * 1_000_003 + start)
            generated = model.generate(
                input_ids=input_ids,
                attention_mask=mask,
                **extra,
                max_new_tokens=max_new_tokens,
                do_sample=temperature > 0,
                temperature=temperature if temperature > 0 else None,
                top_p=None,
                num_beams=1,
                pad_token_id=tokenizer.pad_token_id,
                eos_token_id=tokenizer.eos_token_id,
            )
            if not seq2seq:
                generated = generated[:, input_ids.shape[1] :]
            elif prefix_ids:
                generated = generated[:, 1 + len(prefix_ids) :]
            texts = tokenizer.batch_decode(generated, skip_special_tokens=True)
            for row, text in zip(rows, texts, strict=True):
                outputs[row] = text.strip()
    finally:
        model.train(was_training)
    return outputs


@torch.inference_mode()
def score_targets(
    model: Any,
    encoder: PairEncoder,
    pairs: Sequence[tuple[str, str]],
    *,
    output_prefix: str = "",
    batch_size: int = 32,
) -> list[float]:
    """Log-likelihood (summed over tokens, eos included) of each target given its source."""
    prefix = encoder.marker_ids(output_prefix) if output_prefix else []
    seq2seq = encoder.is_seq2seq
    scores: list[float] = []
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    pad_id = encoder.tokenizer.pad_token_id
    try:
        for start in range(0, len(pairs), batch_size):
            rows = pairs[start : start + batch_size]
            sources = [encoder.source_ids(source) for source, _ in rows]
            targets = [encoder.target_ids(target) for _, target in rows]
            if seq2seq:
                begin = model.config.decoder_start_token_id
                decoder = [[begin, *prefix, *t[:-1]] for t in targets]
                labels = pad([[IGNORE_INDEX] * len(prefix) + t for t in targets], IGNORE_INDEX)
                logits = model(
                    input_ids=pad(sources, pad_id).to(device),
                    attention_mask=attention_mask(sources).to(device),
                    decoder_input_ids=pad(decoder, pad_id).to(device),
                    decoder_attention_mask=attention_mask(decoder).to(device),
                ).logits
            else:
                full = [s + prefix + t for s, t in zip(sources, targets, strict=True)]
                labels = pad(
                    [
                        [IGNORE_INDEX] * (len(s) + len(prefix)) + t
                        for s, t in zip(sources, targets, strict=True)
                    ],
                    IGNORE_INDEX,
                )[:, 1:]
                logits = model(
                    input_ids=pad(full, pad_id).to(device),
                    attention_mask=attention_mask(full).to(device),
                ).logits[:, :-1]
            labels = labels.to(device)
            log_probs = torch.log_softmax(logits.float(), dim=-1)
            picked = log_probs.gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
            scores.extend((picked * (labels != IGNORE_INDEX)).sum(dim=1).tolist())
    finally:
        model.train(was_training)
    return scores


class TorchEngine:
    """Generation and target scoring with a PyTorch model (the engine of a trained folder that
    was not exported)."""

    def __init__(self, model: Any, encoder: PairEncoder) -> None:
        self.model = model
        self.encoder = encoder

    def generate(
        self,
        sources: Sequence[str],
        *,
        max_new_tokens: int,
        batch_size: int,
        output_prefix: str = "",
        progress: bool = False,
        temperature: float = 0.0,
        seed: int = 0,
    ) -> list[str]:
        """Continuations of model inputs, greedy or sampled (see ``generate_texts``)."""
        return generate_texts(
            self.model,
            self.encoder,
            sources,
            max_new_tokens=max_new_tokens,
            batch_size=batch_size,
            progress=progress,
            output_prefix=output_prefix,
            temperature=temperature,
            seed=seed,
        )

    def score(
        self, pairs: Sequence[tuple[str, str]], *, output_prefix: str = "", batch_size: int = 32
    ) -> list[float]:
        """Log-likelihood of each (source, target) pair's target (see ``score_targets``)."""
        return score_targets(
            self.model, self.encoder, pairs, output_prefix=output_prefix, batch_size=batch_size
        )
