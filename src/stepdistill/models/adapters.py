"""Parameter-efficient students: LoRA adapters with ``peft`` (an optional extra).

A trained folder of a LoRA student holds the adapter (``adapter_model.safetensors``,
``adapter_config.json``, whose ``base_model_name_or_path`` names the base student as it was
given: a preset, a folder or a hub name) and the tokenizer; ``load_student`` puts the two back
together, merged for inference where asked.
"""

from __future__ import annotations

import contextlib
import json
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from stepdistill.errors import StepdistillError
from stepdistill.models.kinds import SEQ2SEQ

ADAPTER_CONFIG = "adapter_config.json"
INSTALL_HINT = "LoRA students need peft: pip install 'stepdistill[lora]'"
# attention projections, by model type; other architectures get every linear layer
LORA_TARGETS = {
    "t5": ("q", "k", "v", "o"),
    "mt5": ("q", "k", "v", "o"),
    "umt5": ("q", "k", "v", "o"),
    "llama": ("q_proj", "k_proj", "v_proj", "o_proj"),
    "mistral": ("q_proj", "k_proj", "v_proj", "o_proj"),
    "qwen2": ("q_proj", "k_proj", "v_proj", "o_proj"),
    "gemma": ("q_proj", "k_proj", "v_proj", "o_proj"),
}


def _peft() -> Any:
    try:
        import peft
    except ImportError:
        raise StepdistillError(INSTALL_HINT) from None
    return peft


def is_adapter_folder(path: str | Path) -> bool:
    return (Path(path) / ADAPTER_CONFIG).is_file()


def adapter_base(folder: str | Path) -> str:
    """The base student an adapter folder was trained on."""
    return json.loads((Path(folder) / ADAPTER_CONFIG).read_text())["base_model_name_or_path"]


def target_modules(model: Any, given: Sequence[str]) -> Any:
    if given:
        return list(given)
    return list(LORA_TARGETS.get(model.config.model_type, ())) or "all-linear"


RENAMED_PROPERTY = "`is_gradient_checkpointing` is deprecated"


@contextlib.contextmanager
def peft_quietly() -> Iterator[None]:
    """peft asks a model a property transformers has renamed: that FutureWarning is about
    peft's code, nothing a user can act on, so it is not shown."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", "`is_gradient_checkpointing` is deprecated", FutureWarning
        )
        yield


def add_lora(
    model: Any,
    kind: str,
    *,
    base_name: str,
    r: int,
    alpha: float,
    dropout: float,
    modules: Sequence[str] = (),
) -> Any:
    """``model`` with LoRA adapters of rank ``r``; every other weight frozen."""
    peft = _peft()
    config = peft.LoraConfig(
        r=r,
        lora_alpha=alpha,
        lora_dropout=dropout,
        target_modules=target_modules(model, modules),
        task_type=peft.TaskType.SEQ_2_SEQ_LM if kind == SEQ2SEQ else peft.TaskType.CAUSAL_LM,
    )
    with peft_quietly():
        wrapped = peft.get_peft_model(model, config)
    # saved adapters name the base as the user gave it (a preset stays a preset)
    wrapped.peft_config["default"].base_model_name_or_path = base_name
    return wrapped


def load_adapter(base_model: Any, folder: str | Path, *, merge: bool) -> Any:
    """The base model with the folder's adapter; merged into plain weights if ``merge``."""
    peft = _peft()
    with peft_quietly():
        model = peft.PeftModel.from_pretrained(base_model, str(folder))
    return model.merge_and_unload() if merge else model
