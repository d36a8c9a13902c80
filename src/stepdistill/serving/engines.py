"""Loading a trained or exported folder into a ``LabelPredictor``: the engine that generates
is chosen by how the folder was exported (``stepdistill.json``'s ``export.backend``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from stepdistill.models.encoding import PairEncoder
from stepdistill.models.folder import ModelInfo, read_info
from stepdistill.models.generation import TorchEngine
from stepdistill.registry import Registry
from stepdistill.training import Engine, LabelPredictor, TrainConfig, get_method, make_config

PYTORCH = "pytorch"


def _pytorch(info: ModelInfo, config: TrainConfig, **model_kwargs: Any) -> Engine:
    from stepdistill.models.loading import load_student

    student = load_student(str(info.folder), merge_adapter=True, **model_kwargs)
    return TorchEngine(
        student.model, PairEncoder.for_config(student.tokenizer, student.kind, config)
    )


def _ctranslate2(info: ModelInfo, config: TrainConfig, **model_kwargs: Any) -> Engine:
    from transformers import AutoTokenizer

    from stepdistill.models.loading import prepare_tokenizer
    from stepdistill.serving.export import CTranslate2Engine

    tokenizer = prepare_tokenizer(AutoTokenizer.from_pretrained(info.folder), info.student_kind)
    encoder = PairEncoder.for_config(tokenizer, info.student_kind, config)
    return CTranslate2Engine(info.folder, encoder)


# export backend -> engine loader(info, config, **model_kwargs)
ENGINES: Registry[Callable[..., Engine]] = Registry("inference engine")
ENGINES.register(PYTORCH, _pytorch)
ENGINES.register("ctranslate2", _ctranslate2)


def load_label_predictor(
    folder: str | Path, *, info: ModelInfo | None = None, **model_kwargs: Any
) -> LabelPredictor:
    """The label predictor of a folder written by ``stepdistill train`` or ``export``.

    ``info``: the folder's ``stepdistill.json`` if the caller has read it already.
    ``model_kwargs`` go to ``from_pretrained`` of a PyTorch folder.
    """
    info = info or read_info(folder)
    config = make_config(info.method, **info.config)
    backend = (info.export or {}).get("backend", PYTORCH)
    return LabelPredictor(
        engine=ENGINES.get(backend)(info, config, **model_kwargs),
        task=info.task,
        method=get_method(info.method),
        config=config,
        max_new_tokens=info.max_new_tokens,
    )
