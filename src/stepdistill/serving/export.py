"""Export a trained student for CPU deployment with CTranslate2 (int8 or float32)."""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from stepdistill.errors import StepdistillError
from stepdistill.models.adapters import is_adapter_folder
from stepdistill.models.encoding import PairEncoder
from stepdistill.models.folder import read_info, write_export_info
from stepdistill.models.kinds import SEQ2SEQ

QUANTIZATIONS = ("int8", "int8_float32", "float32")
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.txt",
    "spiece.model",
    "chat_template.jinja",
)
INSTALL_HINT = "export needs CTranslate2: pip install 'stepdistill[export]'"


def _ctranslate2() -> Any:
    try:
        import ctranslate2
    except ImportError:
        raise StepdistillError(INSTALL_HINT) from None
    return ctranslate2


def export_ctranslate2(
    folder: str | Path, output: str | Path, *, quantization: str = "int8", overwrite: bool = False
) -> Path:
    """Convert a trained folder to a CTranslate2 model that ``Predictor`` (and so ``predict``
    and ``serve``) loads like the original: tokenizer and stepdistill.json are copied along.

    Raises:
        StepdistillError: an unknown quantization, a folder that is not a trained one, an
            existing output (without ``overwrite``), or CTranslate2 not installed.
    """
    if quantization not in QUANTIZATIONS:
        raise StepdistillError(f"quantization must be one of {QUANTIZATIONS}, got {quantization!r}")
    folder, output = Path(folder), Path(output)
    info = read_info(folder)
    if output.exists() and any(output.iterdir()) and not overwrite:
        raise StepdistillError(f"{output} exists and is not empty; pass --overwrite to replace it")
    _ctranslate2()
    from ctranslate2.converters import TransformersConverter

    with merged_weights(folder) as weights:
        converter = TransformersConverter(str(weights))
        converter.convert(str(output), quantization=quantization, force=True)
    config_path = output / "config.json"
    config = json.loads(config_path.read_text())
    if config.get("bos_token") is None:  # CTranslate2 cannot load a null token; ours add no BOS
        config["bos_token"] = config.get("eos_token")
        config_path.write_text(json.dumps(config, indent=2) + "\n")
    for name in TOKENIZER_FILES:
        if (folder / name).exists():
            shutil.copy(folder / name, output / name)
    export = {"backend": "ctranslate2", "quantization": quantization, "source": str(folder)}
    write_export_info(info, output, export)
    return output


@contextlib.contextmanager
def merged_weights(folder: Path) -> Iterator[Path]:
    """The folder itself, or, for a LoRA student, a temporary folder with the adapter merged
    into the base's weights (what a converter can read)."""
    if not is_adapter_folder(folder):
        yield folder
        return
    from stepdistill.models.loading import load_student

    student = load_student(str(folder), merge_adapter=True)
    with tempfile.TemporaryDirectory(prefix="stepdistill-merged-") as temporary:
        student.model.save_pretrained(temporary)
        student.tokenizer.save_pretrained(temporary)
        yield Path(temporary)


class CTranslate2Engine:
    """Greedy generation with a CTranslate2 model, taking and giving text like ``TorchEngine``.
    Scoring candidate targets needs the PyTorch model."""

    def __init__(self, folder: str | Path, encoder: PairEncoder) -> None:
        ctranslate2 = _ctranslate2()
        self.encoder = encoder
        self.tokenizer = encoder.tokenizer
        self.kind = encoder.kind
        model_class = ctranslate2.Translator if self.kind == SEQ2SEQ else ctranslate2.Generator
        self.model = model_class(str(folder), device="cpu")

    def _tokens(self, ids: Sequence[int]) -> list[str]:
        return self.tokenizer.convert_ids_to_tokens(list(ids))

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
        """Decoded greedy continuations (special tokens dropped) of model inputs."""
        if temperature > 0:
            raise StepdistillError("sampling needs the PyTorch model; this one is exported")
        prefix = self.encoder.marker_ids(output_prefix) if output_prefix else []
        source_ids = [self.encoder.source_ids(source) for source in sources]
        if self.kind == SEQ2SEQ:
            prefixes = [self._tokens(prefix)] * len(source_ids) if prefix else None
            results = self.model.translate_batch(
                [self._tokens(s) for s in source_ids],
                target_prefix=prefixes,
                max_decoding_length=max_new_tokens + len(prefix),
                beam_size=1,
                max_batch_size=batch_size,
            )
            outputs = [r.hypotheses[0][len(prefix) :] for r in results]
            ids = [self.tokenizer.convert_tokens_to_ids(tokens) for tokens in outputs]
        else:
            results = self.model.generate_batch(
                [self._tokens([*s, *prefix]) for s in source_ids],
                max_length=max_new_tokens,
                sampling_topk=1,
                beam_size=1,
                include_prompt_in_result=False,
                end_token=self.tokenizer.eos_token,
                max_batch_size=batch_size,
            )
            ids = [r.sequences_ids[0] for r in results]
        return [text.strip() for text in self.tokenizer.batch_decode(ids, skip_special_tokens=True)]

    def score(
        self, pairs: Sequence[tuple[str, str]], *, output_prefix: str = "", batch_size: int = 32
    ) -> list[float]:
        raise StepdistillError("score_labels needs the PyTorch model; this one is exported")
