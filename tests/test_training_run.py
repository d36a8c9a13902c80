"""End to end: train tiny students with every method, reload with plain transformers, and
reproduce the saved test accuracy with ``stepdistill evaluate``."""

from __future__ import annotations

import functools
import json

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer

from stepdistill.cli.main import main
from stepdistill.errors import StepdistillError
from stepdistill.serving import load_label_predictor
from stepdistill.training import RunSettings, make_config
from stepdistill.training.run import train_student
from tiny import arithmetic_task_data

FAST = {"per_device_batch_size": 4, "max_steps": 4, "eval_steps": 2, "logging_steps": 1}


def weights(folder):
    return load_file(str(folder / "model.safetensors"))


VARIANTS = {
    "standard": ("standard", {}),
    "step-by-step": ("step-by-step", {}),
    "step-by-step-shared-input": ("step-by-step", {"shared_input": True}),
    "single-task": ("single-task", {}),
    # the controls: rationales with their words shuffled, and the label before the rationale
    "step-by-step-shuffled-rationales": ("step-by-step", {"rationale_shuffle_seed": 3}),
    "single-task-label-first": ("single-task", {"label_first": True}),
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_method_trains_saves_and_reloads(tiny_student_dir, tmp_path, variant):
    method, extra = VARIANTS[variant]
    config = make_config(method, learning_rate=1e-3, max_new_tokens=12, **FAST, **extra)
    data = arithmetic_task_data()
    result = train_student(
        data=data,
        method=method,
        config=config,
        student=str(tiny_student_dir),
        output_dir=tmp_path / "run",
    )
    out = result.output_dir
    for name in (
        "config.json",
        "model.safetensors",
        "stepdistill.json",
        "metrics.json",
        "predictions_test.jsonl",
        "README.md",
    ):
        assert (out / name).exists(), name

    before, after = weights(tiny_student_dir), weights(out)
    changed = [name for name in before if not torch.equal(before[name], after[name])]
    assert len(changed) > len(before) // 2, f"only {len(changed)} of {len(before)} tensors changed"

    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["steps"] == 4 and metrics["effective_batch_size"] == 4
    assert [point["step"] for point in metrics["validation_curve"]] == [2, 4]
    assert metrics["test_size"] == 6 and 0.0 <= metrics["test_accuracy"] <= 1.0
    assert metrics["train_examples_per_second"] > 0
    losses = metrics["loss_history"]
    assert len(losses) == 4
    if method == "step-by-step":
        assert {"label_loss", "rationale_loss"} <= set(losses[0])
        for entry in losses:
            assert entry["loss"] == pytest.approx(
                0.5 * entry["label_loss"] + 0.5 * entry["rationale_loss"], abs=1e-3
            )

    card = (out / "README.md").read_text()
    assert "on the `svamp` task" in card and "stepdistill serve --model run" in card
    assert "| test accuracy |" in card
    info = json.loads((out / "stepdistill.json").read_text())
    assert info["method"] == method and info["task"]["name"] == "svamp"
    assert info["config"]["learning_rate"] == 1e-3
    assert {"transformers", "torch", "stepdistill"} <= set(info["versions"])
    # the kernels' instruction set: runs of one seed agree bit for bit only on the same one
    assert info["machine"]["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert info["machine"]["cpu"] and info["machine"]["threads"] >= 1

    # plain transformers loads the folder
    auto = AutoModelForSeq2SeqLM if info["student"]["kind"] == "seq2seq" else AutoModelForCausalLM
    assert auto.from_pretrained(out) is not None and AutoTokenizer.from_pretrained(out) is not None

    # the saved folder predicts exactly what was scored at the end of training
    predictor = load_label_predictor(out)
    accuracy, predictions = predictor.accuracy(data["test"])
    saved = [json.loads(line) for line in (out / "predictions_test.jsonl").read_text().splitlines()]
    assert predictions == [row["prediction"] for row in saved]
    assert accuracy == metrics["test_accuracy"]


def test_cli_train_then_evaluate_reproduces_test_accuracy(tiny_t5_dir, tmp_path, paper_dir, capsys):
    out = tmp_path / "svamp-sbs"
    common = ["--data-dir", str(paper_dir)]
    args = [
        "train",
        "--task",
        "svamp",
        *common,
        "--method",
        "step-by-step",
        "--student",
        str(tiny_t5_dir),
    ]
    args += [
        "--output",
        str(out),
        "--train-fraction",
        "0.05",
        "--max-steps",
        "3",
        "--batch-size",
        "4",
    ]
    args += [
        "--eval-steps",
        "3",
        "--max-valid-examples",
        "8",
        "--max-new-tokens",
        "10",
        "--lr",
        "1e-3",
    ]
    assert main(args) == 0
    printed = capsys.readouterr().out  # the Trainer's progress logs, then a JSON summary
    summary = json.loads(printed[printed.rindex("\n{") :])
    assert summary["steps"] == 3 and summary["output"] == str(out)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["train_examples"]["used"] <= 36 and metrics["test_size"] == 200

    assert main(["evaluate", "--model", str(out), *common, "--split", "test", "--json"]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    assert evaluated["size"] == 200
    assert evaluated["accuracy"] == metrics["test_accuracy"]

    # an existing folder is never replaced without --overwrite
    assert main(args) == 2
    assert "already exists" in capsys.readouterr().err
    assert (out / "model.safetensors").exists()


def test_resume_continues_from_the_last_checkpoint(tiny_t5_dir, tmp_path):
    data = arithmetic_task_data()
    first = make_config("standard", **{**FAST, "max_steps": 2})
    train_student(
        data=data, method="standard", config=first, student=str(tiny_t5_dir), output_dir=tmp_path
    )
    assert (tmp_path / "checkpoints" / "checkpoint-2").is_dir()
    with pytest.raises(StepdistillError, match="--overwrite"):
        train_student(
            data=data,
            method="standard",
            config=first,
            student=str(tiny_t5_dir),
            output_dir=tmp_path,
        )
    resume_to_four_steps = functools.partial(
        train_student,
        data=data,
        method="standard",
        config=make_config("standard", **FAST),
        student=str(tiny_t5_dir),
        output_dir=tmp_path,
        run=RunSettings(resume=True),
    )
    result = resume_to_four_steps()
    assert result.metrics["steps"] == 4
    assert [p["step"] for p in result.metrics["validation_curve"]] == [2, 4]
    assert result.metrics["resumed_from_step"] == 2
    assert result.metrics["train_examples_per_second"] > 0  # the two steps run this time
    # resuming a finished run trains nothing: no throughput or loss to report, rather than 0
    trained = weights(tmp_path)
    again = resume_to_four_steps()
    assert again.metrics["resumed_from_step"] == again.metrics["steps"] == 4  # no extra step
    assert again.metrics["train_examples_per_second"] is None
    assert again.metrics["train_loss"] is None
    assert again.metrics["test_accuracy"] == result.metrics["test_accuracy"]
    assert again.metrics["best_checkpoint"] == result.metrics["best_checkpoint"]
    assert all(torch.equal(trained[name], value) for name, value in weights(tmp_path).items())


def test_wrong_config_class_and_no_usable_examples(tiny_t5_dir, tmp_path):
    data = arithmetic_task_data()
    with pytest.raises(StepdistillError, match="takes a StepByStepConfig"):
        train_student(
            data=data,
            method="step-by-step",
            config=make_config("standard"),
            student=str(tiny_t5_dir),
            output_dir=tmp_path,
        )
    for example in data["train"]:
        object.__setattr__(example, "teacher", None)
    with pytest.raises(StepdistillError, match="no usable training example"):
        train_student(
            data=data,
            method="step-by-step",
            config=make_config("step-by-step", rationale_required=True),
            student=str(tiny_t5_dir),
            output_dir=tmp_path / "x",
        )


def test_tensorboard_logs_are_written_on_request(tiny_t5_dir, tmp_path):
    pytest.importorskip("tensorboard")
    config = make_config("step-by-step", report_to="tensorboard", **FAST)
    train_student(
        data=arithmetic_task_data(),
        method="step-by-step",
        config=config,
        student=str(tiny_t5_dir),
        output_dir=tmp_path,
    )
    assert list((tmp_path / "checkpoints" / "runs").rglob("events.out.tfevents.*"))


def test_the_shuffle_control_is_recorded_in_the_trained_folder(tiny_t5_dir, tmp_path):
    config = make_config("step-by-step", rationale_shuffle_seed=7, max_new_tokens=6, **FAST)
    out = train_student(
        data=arithmetic_task_data(),
        method="step-by-step",
        config=config,
        student=str(tiny_t5_dir),
        output_dir=tmp_path / "run",
    ).output_dir
    info = json.loads((out / "stepdistill.json").read_text())
    assert info["config"]["rationale_shuffle_seed"] == 7
    assert "rationale words shuffled (seed 7)" in (out / "README.md").read_text()


class Interrupted(Exception):
    pass


class InterruptAt:
    """A Trainer callback that ends the run with an error at the start of a step, as a kill
    would (the checkpoints saved before it stay)."""

    def __init__(self, step: int) -> None:
        self.step = step

    def __getattr__(self, name):  # every other Trainer event: nothing to do
        return lambda *args, **kwargs: None

    def on_step_begin(self, args, state, control, **kwargs):
        if state.global_step + 1 == self.step:
            raise Interrupted


def test_a_resumed_run_ends_where_the_uninterrupted_one_does(tiny_student_dir, tmp_path):
    """The evidence grid's runs resume across sessions: a rerun from scratch must reproduce
    them, so an interrupted-then-resumed run trains the same weights (dropout, data order and
    the learning-rate schedule all continue where they stopped)."""
    data = arithmetic_task_data()
    config = make_config(
        "step-by-step", **{**FAST, "max_steps": 6, "save_total_limit": 1}, shared_input=True
    )
    train = functools.partial(
        train_student,
        data=data,
        method="step-by-step",
        config=config,
        student=str(tiny_student_dir),
    )
    whole = train(output_dir=tmp_path / "whole")
    with pytest.raises(Interrupted):
        train(output_dir=tmp_path / "resumed", callbacks=[InterruptAt(step=4)])
    resumed = train(output_dir=tmp_path / "resumed", run=RunSettings(resume=True))
    assert resumed.metrics["resumed_from_step"] == 2
    first, second = weights(tmp_path / "whole"), weights(tmp_path / "resumed")
    assert first.keys() == second.keys()
    assert all(torch.equal(first[name], second[name]) for name in first)
    curve = [point["accuracy"] for point in resumed.metrics["validation_curve"]]
    assert curve == [point["accuracy"] for point in whole.metrics["validation_curve"]]
    assert resumed.metrics["test_accuracy"] == whole.metrics["test_accuracy"]
