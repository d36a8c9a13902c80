"""The two kinds of student and teacher model: encoder-decoder (seq2seq) and decoder-only."""

from __future__ import annotations

from typing import Any

SEQ2SEQ = "seq2seq"
CAUSAL = "causal"
KINDS = (SEQ2SEQ, CAUSAL)


def model_kind(config: Any) -> str:
    """``seq2seq`` for an encoder-decoder config, ``causal`` for anything else."""
    return SEQ2SEQ if getattr(config, "is_encoder_decoder", False) else CAUSAL
