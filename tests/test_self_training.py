"""Bootstrapped self-training: only confident pseudo-labels join, rounds are trained folders,
and a stopped run resumes."""

from __future__ import annotations

import json

import pytest

from stepdistill.data.task_source import task_source
from stepdistill.pipeline import self_training
from stepdistill.pipeline.self_training import SelfTrainingConfig, pseudo_label, run_self_training
from stepdistill.schema import Example
from stepdistill.tasks import get_task
from stepdistill.training import RunSettings, make_config
from stepdistill.training.run import train_on_task
from test_task_files import nli_rows, task_file, write_rows


class ScriptedPredictor:
    """Samples the labels written in each input ("votes: a,a,b"), rationale "because"."""

    task = get_task("esnli")

    def outputs(self, inputs, *, temperature=0.0, seed=0, **_):
        seen: dict[str, int] = {}
        results = []
        for text in inputs:
            votes = text.split("votes: ")[1].split(",")
            seen[text] = seen.get(text, -1) + 1
            results.append((votes[seen[text] % len(votes)], None))
        return results

    def rationales(self, inputs, *, max_new_tokens, batch_size=None):
        return ["because" if "silent" not in text else "" for text in inputs]


def test_only_inputs_over_the_threshold_are_kept(monkeypatch, tmp_path):
    monkeypatch.setattr(self_training, "load_label_predictor", lambda model: ScriptedPredictor())
    pool = [
        Example("a", "votes: neutral,neutral,neutral", "neutral"),
        Example("b", "votes: neutral,neutral,contradiction", "contradiction"),
        Example("c", "votes: neutral,entailment,contradiction", None),
        Example("d", "votes: entailment,entailment,entailment silent", "entailment"),
        Example("e", "votes: maybe,maybe,maybe", "neutral"),  # not a label: never kept
    ]
    config = SelfTrainingConfig(samples=3, threshold=0.6)
    rows = {row["id"]: row for row in pseudo_label(tmp_path, pool, config, round_number=1)}
    assert {key for key, row in rows.items() if row["kept"]} == {"a", "b"}
    assert rows["a"]["agreement"] == 1.0 and rows["b"]["agreement"] == pytest.approx(2 / 3)
    assert rows["c"]["agreement"] == pytest.approx(1 / 3)
    assert not rows["d"]["kept"]  # unanimous, but no rationale
    assert rows["e"]["label"] is None and not rows["e"]["kept"]
    assert rows["b"]["gold_correct"] is False and rows["c"]["gold_correct"] is None
    assert all(row["round"] == 1 for row in rows.values())
    strict = SelfTrainingConfig(samples=3, threshold=1.0)
    kept = [row["id"] for row in pseudo_label(tmp_path, pool, strict, 1) if row["kept"]]
    assert kept == ["a"]


def trained_round0(tmp_path, tiny_t5_dir):
    write_rows(tmp_path / "rows.jsonl", nli_rows(40))
    path = task_file(tmp_path, {"train": "rows.jsonl"}, rationale_column="explanation")
    model = tmp_path / "round0"
    config = make_config(
        "step-by-step", per_device_batch_size=4, max_steps=2, eval_steps=2, max_new_tokens=6
    )
    train_on_task(
        source=task_source(path),
        method="step-by-step",
        config=config,
        student=str(tiny_t5_dir),
        output_dir=model,
        run=RunSettings(train_fraction=0.5),
    )
    return model


def test_rounds_are_trained_folders_and_a_stopped_run_resumes(tmp_path, tiny_t5_dir):
    model = trained_round0(tmp_path, tiny_t5_dir)
    out = tmp_path / "self"
    settings = SelfTrainingConfig(rounds=1, samples=2, threshold=0.5)
    first = run_self_training(model, "train", out, settings)
    assert [r["round"] for r in first["rounds"]] == [0, 1]
    assert first["rounds"][1]["pool"] == 18  # the half of train the model did not see
    stamp = (out / "round-1" / "metrics.json").stat().st_mtime
    rows = [json.loads(line) for line in (out / "round-1.jsonl").read_text().splitlines()]
    assert len(rows) == 18 and all({"agreement", "round", "kept"} <= set(row) for row in rows)

    second = run_self_training(
        model, "train", out, SelfTrainingConfig(rounds=2, samples=2, threshold=0.5)
    )
    assert (out / "round-1" / "metrics.json").stat().st_mtime == stamp  # round 1: done already
    assert [r["round"] for r in second["rounds"]] == [0, 1, 2]
    (out / "round-2" / "metrics.json").unlink()  # as if killed after its last checkpoint
    third = run_self_training(
        model, "train", out, SelfTrainingConfig(rounds=2, samples=2, threshold=0.5)
    )
    assert json.loads((out / "round-2" / "metrics.json").read_text())["resumed_from_step"] == 2
    assert third["rounds"][2]["pool"] == 18
    report = (out / "report.md").read_text()
    assert "| 2 |" in report and json.loads((out / "self_training.json").read_text())["rounds"]


def test_a_run_killed_in_its_first_round_resumes(tmp_path, tiny_t5_dir, monkeypatch):
    model = trained_round0(tmp_path, tiny_t5_dir)
    out = tmp_path / "self"
    settings = SelfTrainingConfig(rounds=1, samples=2, threshold=0.5)

    def killed(**_):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(self_training, "train_student", killed)
        with pytest.raises(KeyboardInterrupt):
            run_self_training(model, "train", out, settings)
    labels = out / "round-1.jsonl"
    stamp = labels.stat().st_mtime
    assert json.loads((out / "self_training.json").read_text())["rounds"][0]["round"] == 0
    result = run_self_training(model, "train", out, settings)
    assert labels.stat().st_mtime == stamp  # its pseudo-labels were not written again
    assert [r["round"] for r in result["rounds"]] == [0, 1]
    assert (out / "round-1" / "metrics.json").exists()


def test_a_standard_model_cannot_self_train(tmp_path, tiny_t5_dir):
    from stepdistill.errors import StepdistillError

    write_rows(tmp_path / "rows.jsonl", nli_rows(20))
    path = task_file(tmp_path, {"train": "rows.jsonl"})
    model = tmp_path / "standard"
    config = make_config("standard", per_device_batch_size=4, max_steps=1, eval_steps=1)
    train_on_task(
        source=task_source(path),
        method="standard",
        config=config,
        student=str(tiny_t5_dir),
        output_dir=model,
    )
    with pytest.raises(StepdistillError, match="self-training writes rationales"):
        run_self_training(model, "train", tmp_path / "self", SelfTrainingConfig())
