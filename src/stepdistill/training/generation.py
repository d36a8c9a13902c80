"""Batched greedy generation for seq2seq and causal students."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from tqdm.auto import tqdm

from stepdistill.training.features import PairEncoder, attention_mask, pad


@torch.inference_mode()
def generate_texts(
    model: Any,
    encoder: PairEncoder,
    sources: Sequence[str],
    *,
    max_new_tokens: int,
    batch_size: int = 32,
    progress: bool = False,
) -> list[str]:
    """Greedy continuations of ``sources``, decoded without special tokens, in input order.

    Inputs are sorted by length so that each batch carries little padding; causal prompts
    are padded on the left so that every row's answer starts at the same position.
    """
    tokenizer = encoder.tokenizer
    encoded = [encoder.source_ids(source) for source in sources]
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
    outputs: list[str] = [""] * len(encoded)
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    seq2seq = encoder.kind == "seq2seq"
    try:
        for start in tqdm(
            range(0, len(order), batch_size), desc="generating", disable=not progress, leave=False
        ):
            rows = order[start : start + batch_size]
            ids = [encoded[i] for i in rows]
            input_ids = pad(ids, tokenizer.pad_token_id, left=not seq2seq).to(device)
            mask = attention_mask(ids, left=not seq2seq).to(device)
            generated = model.generate(
                input_ids=input_ids,
                attention_mask=mask,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                num_beams=1,
                pad_token_id=tokenizer.pad_token_id,
                eos_token_id=tokenizer.eos_token_id,
            )
            if not seq2seq:
                generated = generated[:, input_ids.shape[1] :]
            texts = tokenizer.batch_decode(generated, skip_special_tokens=True)
            for row, text in zip(rows, texts, strict=True):
                outputs[row] = text.strip()
    finally:
        model.train(was_training)
    return outputs
