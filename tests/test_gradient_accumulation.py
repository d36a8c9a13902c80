"""Gradient accumulation: ``--grad-accum 2 --batch-size 4`` gives the gradients of
``--batch-size 8`` on the same eight examples, for every method and input mode, seq2seq and
causal students, through the Trainer's own ``get_batch_samples`` and ``training_step``."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from transformers import TrainingArguments

from stepdistill.models import load_student
from stepdistill.models.encoding import PairEncoder
from stepdistill.schema import Example
from stepdistill.training import get_method, make_config
from stepdistill.training.trainer import DistillTrainer
from tiny import arithmetic_examples

METHODS = [
    ("standard", {}, False),
    ("step-by-step", {}, False),
    ("step-by-step", {"shared_input": True}, False),
    # the first micro-batch has no rationale at all: its step still weighs each objective by
    # the step's own examples of it
    ("step-by-step", {}, True),
    ("step-by-step", {"shared_input": True}, True),
]


def uneven_examples(first_without_rationale: bool = False) -> list[Example]:
    """Eight examples whose last four have longer labels and rationales than the first four
    (and, if asked, whose first four have no usable rationale)."""
    examples = arithmetic_examples(8, seed=5, split="train")
    if first_without_rationale:
        for index in range(4):
            teacher = dataclasses.replace(examples[index].teacher, filtered="label_disagrees")
            examples[index] = dataclasses.replace(examples[index], teacher=teacher)
    for index in range(4, 8):
        example = examples[index]
        label = f"( {example.label} * 2.0 )"
        rationale = f"{example.teacher.rationale} Twice that is the answer, so double it."
        teacher = dataclasses.replace(example.teacher, rationale=rationale, teacher_label=label)
        examples[index] = dataclasses.replace(example, label=label, teacher=teacher)
    return examples


def step_gradients(trainer: DistillTrainer, batches: list) -> dict[str, torch.Tensor]:
    """The gradients of one optimizer step over ``batches`` (its micro-batches)."""
    model = trainer.model
    model.zero_grad()
    micro, counts = trainer.get_batch_samples(iter(batches), len(batches), torch.device("cpu"))
    for batch in micro:
        trainer.training_step(model, batch, counts)
    return {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}


@pytest.mark.parametrize(("method_name", "settings", "partial"), METHODS)
def test_accumulated_micro_batches_give_the_full_batch_gradients(
    tiny_student_dir, tmp_path, method_name, settings, partial
):
    student = load_student(str(tiny_student_dir))
    for module in student.model.modules():  # no dropout: both steps must see the same network
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
        elif isinstance(getattr(module, "dropout", None), float):  # attention dropout
            module.dropout = 0.0
    method = get_method(method_name)
    config = make_config(
        method_name, per_device_batch_size=4, gradient_accumulation_steps=2, **settings
    )
    pairs, counts = method.build(uneven_examples(partial), config)
    assert counts["used"] == 8 and counts.get("rationale", 0) == (4 if partial else 8) * (
        method_name == "step-by-step"
    )
    mode = method.input_mode(config)
    encoder = PairEncoder(
        student.tokenizer, student.kind, max_input_length=64, max_target_length=64
    )
    items = [mode.item_encoder(encoder)(item) for item in pairs]
    collate = mode.collator(student.tokenizer, student.model, student.kind)
    halves = [collate(items[:4]), collate(items[4:])]
    counts = [mode.objective_token_counts(half, student.kind) for half in halves]
    # the halves hold different numbers of target tokens, so a mean of the two micro-batch means
    # would not be the full batch's mean
    assert any(counts[0].get(task) != counts[1][task] for task in counts[1])
    trainer = DistillTrainer(
        model=student.model,
        args=TrainingArguments(
            output_dir=str(tmp_path),
            use_cpu=True,
            report_to=[],
            per_device_train_batch_size=4,
            gradient_accumulation_steps=2,
        ),
        loss_weights=method.loss_weights(config),
        input_mode=mode,
        kind=student.kind,
    )
    accumulated = step_gradients(trainer, halves)
    whole = step_gradients(trainer, [collate(items)])
    assert accumulated.keys() == whole.keys() and whole
    for name, gradient in whole.items():
        torch.testing.assert_close(accumulated[name], gradient, atol=1e-5, rtol=1e-4)
