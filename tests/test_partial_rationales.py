"""Partial rationale supervision: every labeled example trains the label objective, the
rationale objective trains where a usable rationale exists, and each objective's loss is the
mean over the examples that have it (both input modes, seq2seq and causal students)."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from transformers import TrainingArguments

from stepdistill.models import load_student
from stepdistill.models.encoding import PairEncoder
from stepdistill.training import get_method, make_config
from stepdistill.training.trainer import DistillTrainer
from test_shared_input import separate_pass_loss
from test_training_loss import naive_task_loss
from tiny import arithmetic_examples

WITHOUT = (1, 3)  # the examples whose rationale a filter set aside


def examples_with_gaps():
    examples = arithmetic_examples(5, seed=7, split="train")
    for index in WITHOUT:
        teacher = dataclasses.replace(examples[index].teacher, filtered="label_disagrees")
        examples[index] = dataclasses.replace(examples[index], teacher=teacher)
    return examples


def test_counts_per_objective_and_the_kept_only_option():
    method = get_method("step-by-step")
    pairs, counts = method.build(examples_with_gaps(), make_config("step-by-step"))
    assert counts == {"used": 5, "rationale": 3}
    assert [sorted(item) for item in pairs][1] == ["label"]
    kept, kept_counts = method.build(
        examples_with_gaps(), make_config("step-by-step", rationale_required=True)
    )
    assert kept_counts == {"used": 3, "rationale": 3, "skipped_no_rationale": 2}
    assert all(sorted(item) == ["label", "rationale"] for item in kept)


def trainer_for(student, method, config, tmp_path):
    return DistillTrainer(
        model=student.model,
        args=TrainingArguments(output_dir=str(tmp_path), use_cpu=True, report_to=[]),
        loss_weights=method.loss_weights(config),
        input_mode=method.input_mode(config),
        kind=student.kind,
    )


@pytest.mark.parametrize("shared_input", [False, True])
def test_each_objective_is_the_mean_over_the_examples_that_have_it(
    tiny_student_dir, tmp_path, shared_input
):
    student = load_student(str(tiny_student_dir))
    student.model.eval()  # no dropout: the two computations must see the same network
    alpha = 0.3
    config = make_config("step-by-step", alpha=alpha, shared_input=shared_input)
    method = get_method("step-by-step")
    mode = method.input_mode(config)
    pairs, _ = method.build(examples_with_gaps(), config)
    encoder = PairEncoder(
        student.tokenizer, student.kind, max_input_length=64, max_target_length=64
    )
    items = [mode.item_encoder(encoder)(item) for item in pairs]
    batch = mode.collator(student.tokenizer, student.model, student.kind)(items)
    trainer = trainer_for(student, method, config, tmp_path)
    with_rationale = [index for index in range(5) if index not in WITHOUT]
    with torch.no_grad():
        loss, parts = trainer.compute_loss(student.model, batch, return_outputs=True)
        if shared_input:
            sources = [item.source_ids for item in items]
            expected = {
                task: separate_pass_loss(
                    student,
                    [sources[i] for i in rows],
                    [items[i].targets[task][0] for i in rows],
                    [items[i].targets[task][1] for i in rows],
                )
                for task, rows in (("label", range(5)), ("rationale", with_rationale))
            }
        else:
            collate = mode.collator(student.tokenizer, student.model, student.kind)
            only = collate([items[i] for i in with_rationale])
            expected = {
                "label": naive_task_loss(student.model, batch["label"], student.is_seq2seq),
                "rationale": naive_task_loss(student.model, only["rationale"], student.is_seq2seq),
            }
    for task in ("label", "rationale"):
        assert parts[task].item() == pytest.approx(expected[task].item(), abs=1e-5)
    assert loss.item() == pytest.approx(
        alpha * expected["label"].item() + (1 - alpha) * expected["rationale"].item(), abs=1e-5
    )


@pytest.mark.parametrize("shared_input", [False, True])
def test_a_batch_without_any_rationale_trains_the_label_alone(
    tiny_student_dir, tmp_path, shared_input
):
    student = load_student(str(tiny_student_dir))
    student.model.eval()
    config = make_config("step-by-step", shared_input=shared_input)
    method = get_method("step-by-step")
    mode = method.input_mode(config)
    pairs, _ = method.build([examples_with_gaps()[i] for i in WITHOUT], config)
    encoder = PairEncoder(
        student.tokenizer, student.kind, max_input_length=64, max_target_length=64
    )
    batch = mode.collator(student.tokenizer, student.model, student.kind)(
        [mode.item_encoder(encoder)(item) for item in pairs]
    )
    assert mode.objective_token_counts(batch, student.kind).keys() == {"label"}
    with torch.no_grad():
        loss, parts = trainer_for(student, method, config, tmp_path).compute_loss(
            student.model, batch, return_outputs=True
        )
    assert parts.keys() == {"label"} and torch.isfinite(loss)
    assert loss.item() == pytest.approx(0.5 * parts["label"].item(), abs=1e-6)
