"""Shared-input multi-task training: one input pass, the same loss as two separate passes."""

from __future__ import annotations

import pytest
import torch
from transformers import TrainingArguments

from stepdistill.models import load_student
from stepdistill.models.encoding import IGNORE_INDEX, PairEncoder, pad
from stepdistill.training import get_method, make_config
from stepdistill.training.shared_input import (
    SharedInputCollator,
    SharedInputEncoder,
    block_attention_mask,
)
from stepdistill.training.trainer import DistillTrainer
from tiny import arithmetic_examples


def test_block_mask_keeps_the_two_targets_apart():
    # input (0) x3, label block (1) x2, rationale block (2) x2, padding (-1) x1
    segments = torch.tensor([[0, 0, 0, 1, 1, 2, 2, -1]])
    mask = block_attention_mask(segments)[0, 0]
    assert mask[4].tolist() == [True, True, True, True, True, False, False, False]
    assert mask[6].tolist() == [True, True, True, False, False, True, True, False]
    assert mask[1].tolist() == [True, True, False, False, False, False, False, False]
    assert mask[7].tolist() == [False] * 7 + [True]  # padding sees itself only: no empty row


def separate_pass_loss(student, source_ids, marker_ids, target_ids):
    """The loss of one task computed the plain way: its own full sequence, HF's own loss."""
    model = student.model
    if student.is_seq2seq:
        start = model.config.decoder_start_token_id
        decoder = [[start, *m, *t[:-1]] for m, t in zip(marker_ids, target_ids, strict=True)]
        labels = [[IGNORE_INDEX] * len(m) + t for m, t in zip(marker_ids, target_ids, strict=True)]
        return model(
            input_ids=pad(source_ids, student.tokenizer.pad_token_id),
            attention_mask=pad([[1] * len(s) for s in source_ids], 0),
            decoder_input_ids=pad(decoder, student.tokenizer.pad_token_id),
            decoder_attention_mask=pad([[1] * len(d) for d in decoder], 0),
            labels=pad(labels, IGNORE_INDEX),
        ).loss
    rows = [s + m + t for s, m, t in zip(source_ids, marker_ids, target_ids, strict=True)]
    labels = [
        [IGNORE_INDEX] * (len(s) + len(m)) + t
        for s, m, t in zip(source_ids, marker_ids, target_ids, strict=True)
    ]
    return model(
        input_ids=pad(rows, student.tokenizer.pad_token_id),
        attention_mask=pad([[1] * len(r) for r in rows], 0),
        labels=pad(labels, IGNORE_INDEX),
    ).loss


@pytest.mark.parametrize("alpha", [0.5, 0.3])
def test_shared_input_loss_equals_two_separate_passes(tiny_student_dir, tmp_path, alpha):
    student = load_student(str(tiny_student_dir))
    student.model.eval()
    config = make_config("step-by-step", alpha=alpha, shared_input=True)
    method = get_method("step-by-step")
    pairs, _ = method.build(arithmetic_examples(5, seed=4, split="train"), config)
    encoder = PairEncoder(
        student.tokenizer, student.kind, max_input_length=64, max_target_length=64
    )
    mode = method.input_mode(config)
    shared = SharedInputEncoder(encoder, mode.markers)
    items = [
        shared.encode(p["label"][0], {t: target for t, (_, target) in p.items()}) for p in pairs
    ]
    collator = SharedInputCollator(
        student.tokenizer.pad_token_id,
        student.kind,
        getattr(student.model.config, "decoder_start_token_id", None),
    )
    trainer = DistillTrainer(
        model=student.model,
        args=TrainingArguments(output_dir=str(tmp_path), use_cpu=True, report_to=[]),
        loss_weights=method.loss_weights(config),
        input_mode=mode,
        kind=student.kind,
    )
    with torch.no_grad():
        loss, parts = trainer.compute_loss(student.model, collator(items), return_outputs=True)
        expected = {
            task: separate_pass_loss(
                student,
                [item.source_ids for item in items],
                [item.targets[task][0] for item in items],
                [item.targets[task][1] for item in items],
            )
            for task in ("label", "rationale")
        }
    for task in ("label", "rationale"):
        assert parts[task].item() == pytest.approx(expected[task].item(), abs=1e-5)
    combined = alpha * expected["label"] + (1 - alpha) * expected["rationale"]
    assert loss.item() == pytest.approx(combined.item(), abs=1e-5)


def test_length_grouped_batches_carry_less_padding(tiny_t5_dir, tmp_path):
    from transformers.trainer_pt_utils import LengthGroupedSampler

    student = load_student(str(tiny_t5_dir))
    lengths = [5, 50, 6, 48, 7, 52, 5, 49] * 8
    args = TrainingArguments(
        output_dir=str(tmp_path), use_cpu=True, report_to=[], per_device_train_batch_size=4
    )
    grouped = DistillTrainer(
        model=student.model,
        args=args,
        train_dataset=list(range(len(lengths))),
        loss_weights={"label": 1.0},
        lengths=lengths,
    )._get_train_sampler()
    assert isinstance(grouped, LengthGroupedSampler)
    order = list(grouped)
    assert sorted(order) == list(range(len(lengths)))

    def padding(indices):
        batches = [indices[i : i + 4] for i in range(0, len(indices), 4)]
        return sum(
            max(lengths[j] for j in b) * len(b) - sum(lengths[j] for j in b) for b in batches
        )

    assert padding(order) < padding(list(range(len(lengths)))) / 4


def test_seq2seq_batches_group_by_target_then_input_length(tiny_t5_dir, tmp_path):
    import random

    from stepdistill.training.sampling import TwoLengthGroupedSampler

    rows = random.Random(0)
    lengths = [(rows.randint(5, 120), rows.randint(5, 120)) for _ in range(800)]
    args = TrainingArguments(
        output_dir=str(tmp_path), use_cpu=True, report_to=[], per_device_train_batch_size=8
    )
    sampler = DistillTrainer(
        model=load_student(str(tiny_t5_dir)).model,
        args=args,
        train_dataset=list(range(len(lengths))),
        loss_weights={"label": 1.0},
        lengths=lengths,
    )._get_train_sampler()
    assert isinstance(sampler, TwoLengthGroupedSampler)
    order = list(sampler)
    assert sorted(order) == list(range(len(lengths)))
    assert lengths[order[0]][0] == max(target for target, _ in lengths)  # longest batch first

    def padding(indices, which):
        batches = [indices[i : i + 8] for i in range(0, len(indices), 8)]
        return sum(
            max(lengths[j][which] for j in b) * len(b) - sum(lengths[j][which] for j in b)
            for b in batches
        )

    by_target_only = sorted(range(len(lengths)), key=lambda i: -lengths[i][0])
    shuffled = list(range(len(lengths)))
    assert padding(order, 0) < padding(shuffled, 0) / 2  # targets still grouped
    assert padding(order, 1) < padding(by_target_only, 1) / 2  # and inputs too
    assert list(sampler) != order  # a new shuffle every epoch
