"""Training at scale, checked on a CPU: precision options, gradient checkpointing, LoRA students."""

from __future__ import annotations

import json

import pytest
import torch
from transformers import TrainingArguments

from stepdistill.cli.main import main
from stepdistill.errors import StepdistillError
from stepdistill.models import load_student
from stepdistill.models.encoding import PairEncoder
from stepdistill.serving import Predictor, load_label_predictor
from stepdistill.training import get_method, make_config
from stepdistill.training.config import checkpointing_arguments, precision_arguments
from stepdistill.training.run import train_student
from stepdistill.training.trainer import DistillTrainer
from tiny import arithmetic_examples, arithmetic_task_data

FAST = {"per_device_batch_size": 4, "max_steps": 2, "eval_steps": 2, "max_new_tokens": 8}


@pytest.mark.parametrize(
    ("precision", "cuda", "cuda_bf16", "expected"),
    [
        ("auto", False, False, {"bf16": False, "fp16": False, "tf32": None}),
        ("auto", True, True, {"bf16": True, "fp16": False, "tf32": True}),
        ("auto", True, False, {"bf16": False, "fp16": False, "tf32": None}),
        ("fp32", True, True, {"bf16": False, "fp16": False, "tf32": None}),
        ("bf16", False, False, {"bf16": True, "fp16": False, "tf32": None}),
        ("bf16", True, True, {"bf16": True, "fp16": False, "tf32": True}),
        ("fp16", True, True, {"bf16": False, "fp16": True, "tf32": True}),
    ],
)
def test_every_precision_reaches_the_trainer_as_intended(precision, cuda, cuda_bf16, expected):
    assert precision_arguments(precision, cuda=cuda, cuda_bf16=cuda_bf16) == expected


def test_precision_on_this_cpu(tmp_path):
    for precision, bf16 in (("auto", False), ("fp32", False), ("bf16", True)):
        args = make_config("standard", precision=precision).to_training_arguments(
            tmp_path, has_valid=False
        )
        assert (args.bf16, args.fp16, args.use_cpu) == (bf16, False, not torch.cuda.is_available())
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="fp16 needs a CUDA device"):
            make_config("standard", precision="fp16").to_training_arguments(
                tmp_path, has_valid=False
            )
        with pytest.raises(StepdistillError, match="fp16 needs a CUDA device"):
            main_args = ["train", "--task", "svamp", "--student", "x", "--output", str(tmp_path)]
            from stepdistill.training.run import make_trainer

            make_trainer(
                None, make_config("standard", precision="fp16"), None, None, None, tmp_path, None
            )
            assert main_args


def test_a_bf16_run_trains_under_cpu_autocast(tiny_llama_dir, tmp_path):
    result = train_student(
        data=arithmetic_task_data(),
        method="step-by-step",
        config=make_config("step-by-step", precision="bf16", shared_input=True, **FAST),
        student=str(tiny_llama_dir),
        output_dir=tmp_path / "out",
    )
    assert result.metrics["steps"] == 2 and result.metrics["train_loss"] > 0
    assert (
        json.loads((tmp_path / "out" / "stepdistill.json").read_text())["config"]["precision"]
        == "bf16"
    )


def _no_dropout(model) -> None:
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0


@pytest.mark.parametrize("shared_input", [False, True])
def test_gradient_checkpointing_gives_the_same_loss_and_gradients(
    tiny_student_dir, tmp_path, shared_input
):
    assert checkpointing_arguments(True, TrainingArguments)  # a name this version knows
    config = make_config("step-by-step", shared_input=shared_input)
    method = get_method("step-by-step")
    mode = method.input_mode(config)
    results = []
    for checkpointing in (False, True):
        student = load_student(str(tiny_student_dir))
        _no_dropout(student.model)
        student.model.train()
        if checkpointing:
            enable = getattr(student.model, "activation_checkpointing_enable", None)
            enable = enable or student.model.gradient_checkpointing_enable
            enable({"use_reentrant": False})
        encoder = PairEncoder(
            student.tokenizer, student.kind, max_input_length=64, max_target_length=64
        )
        pairs, _ = method.build(arithmetic_examples(4, seed=3, split="train"), config)
        batch = mode.collator(student.tokenizer, student.model, student.kind)(
            [mode.item_encoder(encoder)(p) for p in pairs]
        )
        trainer = DistillTrainer(
            model=student.model,
            args=TrainingArguments(output_dir=str(tmp_path), use_cpu=True, report_to=[]),
            loss_weights=method.loss_weights(config),
            input_mode=mode,
            kind=student.kind,
        )
        loss = trainer.compute_loss(student.model, batch)
        loss.backward()
        grads = [p.grad.clone() for p in student.model.parameters() if p.grad is not None]
        results.append((loss.item(), grads))
    (plain_loss, plain_grads), (checked_loss, checked_grads) = results
    assert checked_loss == pytest.approx(plain_loss, abs=1e-5)
    assert len(plain_grads) == len(checked_grads) > 0
    assert all(
        torch.allclose(a, b, atol=1e-5) for a, b in zip(plain_grads, checked_grads, strict=True)
    )


def test_a_run_with_gradient_checkpointing(tiny_t5_dir, tmp_path):
    result = train_student(
        data=arithmetic_task_data(),
        method="step-by-step",
        config=make_config("step-by-step", gradient_checkpointing=True, shared_input=True, **FAST),
        student=str(tiny_t5_dir),
        output_dir=tmp_path / "out",
    )
    assert result.metrics["steps"] == 2


@pytest.mark.parametrize("student_name", ["t5", "llama"])
def test_lora_student_trains_only_adapters_saves_reloads_predicts_and_exports(
    student_name, tiny_t5_dir, tiny_llama_dir, tmp_path, capsys, recwarn
):
    pytest.importorskip("peft")
    base_dir = {"t5": tiny_t5_dir, "llama": tiny_llama_dir}[student_name]
    out = tmp_path / "lora"
    config = make_config("step-by-step", lora_r=4, learning_rate=1e-2, **FAST)
    train_student(
        data=arithmetic_task_data(),
        method="step-by-step",
        config=config,
        student=str(base_dir),
        output_dir=out,
    )
    assert (out / "adapter_model.safetensors").exists() and not (out / "model.safetensors").exists()
    base = load_student(str(base_dir)).model.state_dict()
    reloaded = load_student(str(out))
    adapters, frozen_same = 0, True
    for name, value in reloaded.model.state_dict().items():
        if "lora_" in name:
            adapters += 1
            continue
        original = name.replace("base_model.model.", "", 1).replace(".base_layer", "")
        frozen_same &= torch.equal(value, base[original])
    assert adapters > 0 and frozen_same  # only the adapters changed
    lora_b = [v for k, v in reloaded.model.state_dict().items() if "lora_B" in k]
    assert any(v.abs().sum() > 0 for v in lora_b)  # and they did change (B starts at zero)
    predictions = Predictor(out).predict(["Ann has 3 pens and gets 4.\nHow many pens now?"])
    assert isinstance(predictions[0].label, str)
    test = arithmetic_task_data()["test"]
    accuracy, _ = load_label_predictor(out).accuracy(test)
    assert accuracy == json.loads((out / "metrics.json").read_text())["test_accuracy"]
    card = (out / "README.md").read_text()
    assert "LoRA adapters (r=4" in card
    if pytest.importorskip("ctranslate2"):
        capsys.readouterr()
        exported = tmp_path / "ct2"
        assert (
            main(
                [
                    "export",
                    "--model",
                    str(out),
                    "--output",
                    str(exported),
                    "--quantization",
                    "float32",
                ]
            )
            == 0
        )
        inputs = [e.input for e in arithmetic_task_data()["test"]]
        assert load_label_predictor(exported).predict(inputs) == load_label_predictor(out).predict(
            inputs
        )
    # no warning a user cannot act on (peft asking a renamed transformers property)
    assert not [w for w in recwarn if issubclass(w.category, FutureWarning)], [
        (w.filename, w.lineno, str(w.message)[:80]) for w in recwarn
    ]
