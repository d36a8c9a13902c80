"""The multi-task loss against a naive hand computation, for a seq2seq and a causal student."""

from __future__ import annotations

import pytest
import torch
from transformers import TrainingArguments

from stepdistill.models import load_student
from stepdistill.models.encoding import IGNORE_INDEX, PairEncoder
from stepdistill.training import get_method, make_config
from stepdistill.training.features import ObjectiveBatchCollator
from stepdistill.training.trainer import DistillTrainer
from tiny import arithmetic_examples


def token_cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean negative log-likelihood of every labelled token, written out by hand."""
    log_probs = torch.log_softmax(logits.float(), dim=-1)
    total, count = torch.tensor(0.0), 0
    for row in range(labels.shape[0]):
        for position in range(labels.shape[1]):
            token = labels[row, position].item()
            if token != IGNORE_INDEX:
                total = total - log_probs[row, position, token]
                count += 1
    return total / count


def naive_task_loss(model, batch, seq2seq: bool) -> torch.Tensor:
    labels = batch["labels"]
    if seq2seq:
        # teacher forcing: the decoder sees the start token, then the target shifted right
        start = torch.full((labels.shape[0], 1), model.config.decoder_start_token_id)
        shifted = torch.cat([start, labels[:, :-1]], dim=1)
        decoder_input = shifted.masked_fill(shifted == IGNORE_INDEX, model.config.pad_token_id)
        logits = model(
            input_ids=batch["input_ids"],
            attention_mask=batch["attention_mask"],
            decoder_input_ids=decoder_input,
        ).logits
        return token_cross_entropy(logits, labels)
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    return token_cross_entropy(logits[:, :-1], labels[:, 1:])


@pytest.mark.parametrize("alpha", [0.5, 0.2])
def test_step_by_step_loss_is_alpha_label_plus_one_minus_alpha_rationale(
    tiny_student_dir, tmp_path, alpha
):
    student = load_student(str(tiny_student_dir))
    student.model.eval()  # no dropout: the two computations must see the same network
    config = make_config("step-by-step", alpha=alpha)
    method = get_method("step-by-step")
    pairs, _ = method.build(arithmetic_examples(4, seed=3, split="train"), config)
    encoder = PairEncoder(
        student.tokenizer, student.kind, max_input_length=64, max_target_length=64
    )
    items = [{task: encoder.encode(*pair) for task, pair in item.items()} for item in pairs]
    batch = ObjectiveBatchCollator(student.tokenizer.pad_token_id, student.kind)(items)
    trainer = DistillTrainer(
        model=student.model,
        args=TrainingArguments(output_dir=str(tmp_path), use_cpu=True, report_to=[]),
        loss_weights=method.loss_weights(config),
    )
    with torch.no_grad():
        loss, parts = trainer.compute_loss(student.model, batch, return_outputs=True)
        label = naive_task_loss(student.model, batch["label"], student.is_seq2seq)
        rationale = naive_task_loss(student.model, batch["rationale"], student.is_seq2seq)
    assert parts["label"].item() == pytest.approx(label.item(), abs=1e-5)
    assert parts["rationale"].item() == pytest.approx(rationale.item(), abs=1e-5)
    assert loss.item() == pytest.approx(
        alpha * label.item() + (1 - alpha) * rationale.item(), abs=1e-5
    )


def test_causal_labels_cover_only_the_target(tiny_llama_dir):
    student = load_student(str(tiny_llama_dir))
    encoder = PairEncoder(
        student.tokenizer, student.kind, max_input_length=64, max_target_length=64
    )
    encoded = encoder.encode("predict: Ann has 1.", "( 1.0 )")
    prompt_length = len(encoder.source_ids("predict: Ann has 1."))
    assert encoded.labels[:prompt_length] == [IGNORE_INDEX] * prompt_length
    assert encoded.labels[prompt_length:] == encoded.input_ids[prompt_length:]
    assert encoded.labels[-1] == student.tokenizer.eos_token_id
    assert student.tokenizer.decode(encoded.input_ids[prompt_length:-1]) == "( 1.0 )"


def test_truncation_keeps_the_causal_separator(tiny_llama_dir):
    student = load_student(str(tiny_llama_dir))
    encoder = PairEncoder(student.tokenizer, student.kind, max_input_length=8, max_target_length=4)
    encoded = encoder.encode("word " * 50, "( 1.0 + 2.0 + 3.0 )")
    source = encoder.source_ids("word " * 50)
    assert len(source) == 8 and source[-len(encoder.separator_ids) :] == encoder.separator_ids
    assert len(encoded.input_ids) == 8 + 4
