"""`stepdistill run`: every stage, skipped when complete, resumed after kill -9, budgeted."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from fake_openai import FakeOpenAI, prompt_of
from stepdistill.cli.main import main
from test_task_files import LABELS, nli_rows, write_rows

CLI = str(Path(sys.executable).parent / "stepdistill")


def teacher_answer(body: dict) -> str:
    """Right for most premises, wrong where the number of bikes is a multiple of 5."""
    number = int(re.findall(r"rides (\d+) bikes", prompt_of(body))[-1])
    label = LABELS[(number + (number % 5 == 0)) % 3]
    return f"The premise is about {number} bikes. So the answer is {label}."


def make_pipeline(tmp_path: Path, student: Path, server_url: str | None, **changes) -> Path:
    write_rows(tmp_path / "data" / "train.csv", nli_rows(30))
    write_rows(tmp_path / "data" / "test.csv", nli_rows(6))
    task = {
        "name": "tiny-nli",
        "data": {"train": "data/train.csv", "test": "data/test.csv"},
        "input": "Premise: {premise}\nHypothesis: {hypothesis}",
        "label_column": "label",
        "label_kind": "choice",
        "labels": LABELS,
        "label_map": {0: "entailment", 1: "neutral", 2: "contradiction"},
        "id_column": "pid",
        "exemplars": "exemplars.jsonl",
    }
    exemplar = {
        "premise": "A woman rides 2 horses.",
        "hypothesis": "A person is riding.",
        "rationale": "Riding horses is riding.",
        "label": "entailment",
    }
    (tmp_path / "exemplars.jsonl").write_text(json.dumps(exemplar) + "\n")
    (tmp_path / "task.yaml").write_text(yaml.safe_dump(task))
    pipeline = {
        "task": "task.yaml",
        "output": "out",
        "teacher": {
            "teacher": "openai:fake",
            "base_url": server_url,
            "filters": ["agree-with-gold"],
            "concurrency": 2,
        },
        "train": {
            "student": str(student),
            "methods": ["standard", {"method": "step-by-step", "settings": {"shared_input": True}}],
            "settings": {
                "per_device_batch_size": 4,
                "max_steps": 2,
                "eval_steps": 2,
                "max_new_tokens": 6,
            },
        },
    }
    for key, value in changes.items():
        section, _, name = key.partition("__")
        if name:
            pipeline[section][name] = value
        else:
            pipeline[section] = value
    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump(pipeline))
    return path


def test_every_stage_runs_then_is_skipped(tmp_path, tiny_t5_dir, capsys):
    pytest.importorskip("ctranslate2")
    with FakeOpenAI(teacher_answer) as server:
        path = make_pipeline(
            tmp_path, tiny_t5_dir, server.base_url, export={"quantization": "int8"}
        )
        assert main(["run", str(path)]) == 0
        out = tmp_path / "out"
        report = json.loads((out / "report.json").read_text())
        extraction = report["extract"]
        # 27 training rows (3 carved for validation); multiples of 5 get a wrong teacher label
        records = [json.loads(line) for line in (out / "teacher.jsonl").read_text().splitlines()]
        wrong = sum(int(r["example_id"][1:]) % 5 == 0 for r in records)
        assert len(records) == 27 and wrong > 0
        assert extraction["examples"] == 27 and extraction["sent"] == 27
        assert extraction["filtered"] == wrong and extraction["ok"] == 27 - wrong
        assert report["students"]["standard"]["train_examples"]["used"] == 27
        # every labeled example trains the label objective, the kept ones the rationale too
        both = report["students"]["step-by-step"]["train_examples"]
        assert both == {"used": 27, "rationale": 27 - wrong}
        for label in ("standard", "step-by-step"):
            assert (out / label / "metrics.json").exists()
            assert report["students"][label]["test_accuracy"] is not None
            assert (out / f"{label}-int8" / "stepdistill.json").exists()
        markdown = (out / "report.md").read_text()
        assert f"{27 - wrong} kept, {wrong} filtered" in markdown and "| step-by-step |" in markdown
        assert f"| 27 / {27 - wrong} |" in markdown
        # the trade: the teacher's requests and time against the student's size and speed
        assert "## Cost and benefit" in markdown and "27 requests" in markdown
        assert report["students"]["standard"]["student_parameters"] > 0
        assert report["students"]["standard"]["test_predictions_per_second"] > 0
        stamps = {p: p.stat().st_mtime for p in out.glob("*/metrics.json")}
        server.log.clear()
        capsys.readouterr()

        assert main(["run", str(path)]) == 0  # everything complete: nothing is redone
        assert server.log == []
        assert {p: p.stat().st_mtime for p in out.glob("*/metrics.json")} == stamps
        assert "(done earlier)" in capsys.readouterr().out

        # a setting changed under a finished student is an error, not a silent mix
        changed = make_pipeline(
            tmp_path, tiny_t5_dir, server.base_url, train__settings={"max_steps": 3}
        )
        assert main(["run", str(changed)]) == 2
        assert "trained with other settings" in capsys.readouterr().err


def test_dry_run_prints_the_plan_and_the_teacher_cost(tmp_path, tiny_t5_dir, capsys):
    path = make_pipeline(tmp_path, tiny_t5_dir, "http://127.0.0.1:9/v1")
    prices = [
        "--set",
        "teacher.price_per_1k_prompt=1.0",
        "--set",
        "teacher.price_per_1k_completion=2",
    ]
    assert main(["run", str(path), "--dry-run", *prices]) == 0
    plan = json.loads(capsys.readouterr().out)
    extract = plan["stages"]["extract"]
    assert extract["status"] == "todo" and extract["requests"] == 27
    assert extract["estimated_max_cost"] > 0
    assert plan["stages"]["train step-by-step"]["status"] == "todo"
    assert "teacher stage" in plan["stages"]["train step-by-step"]["train_examples"]
    assert not (tmp_path / "out").exists()  # a dry run writes nothing


def test_a_dry_run_renders_the_teacher_prompts_once(tmp_path, tiny_t5_dir, monkeypatch):
    import stepdistill.pipeline.runner as runner

    made = []
    original = runner.extraction_plan

    def counted(*args, **options):
        made.append(options.get("may_calibrate"))
        return original(*args, **options)

    monkeypatch.setattr(runner, "extraction_plan", counted)
    path = make_pipeline(tmp_path, tiny_t5_dir, "http://127.0.0.1:9/v1")
    from stepdistill.pipeline.config import load_pipeline

    plan = runner.plan(load_pipeline(path), may_calibrate=False)
    assert plan["stages"]["extract"]["requests"] == 27
    assert made == [False]  # the estimates' plan is the plan shown (was made twice)


def test_dry_run_counts_each_objectives_examples_when_the_rationales_are_known(
    tmp_path, paper_dir, tiny_t5_dir, capsys, monkeypatch
):
    import stepdistill.training as training

    reads = []
    original = training.run_data
    monkeypatch.setattr(training, "run_data", lambda *args: reads.append(args) or original(*args))
    kept_only = {
        "method": "step-by-step",
        "label": "kept",
        "settings": {"rationale_required": True},
    }
    pipeline = {
        "task": "svamp",
        "data_dir": str(paper_dir),
        "output": "out",
        "train": {"student": str(tiny_t5_dir), "methods": ["standard", "step-by-step", kept_only]},
    }
    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump(pipeline))
    assert main(["run", str(path), "--dry-run"]) == 0
    stages = json.loads(capsys.readouterr().out)["stages"]
    every, kept = (
        stages["train step-by-step"]["train_examples"],
        stages["train kept"]["train_examples"],
    )
    assert stages["train standard"]["train_examples"] == {"used": 720}
    assert every["used"] == 720 and 0 < every["rationale"] < 720
    assert kept == {
        "used": every["rationale"],
        "rationale": every["rationale"],
        "skipped_no_rationale": 720 - every["rationale"],
    }
    assert len(reads) == 1  # one read of the data for three students' counts and estimates


def test_a_budget_stops_the_teacher_and_a_higher_one_continues_from_the_cache(
    tmp_path, tiny_t5_dir, capsys
):
    with FakeOpenAI(teacher_answer) as server:
        # the fake server counts 10 prompt + 5 completion tokens a request: 0.01 each here
        path = make_pipeline(
            tmp_path,
            tiny_t5_dir,
            server.base_url,
            teacher__price_per_1k_prompt=1.0,
            teacher__concurrency=1,
        )
        assert main(["run", str(path), "--max-cost", "0.05"]) == 2
        last = capsys.readouterr().err.strip().splitlines()[-1]  # after the progress bar
        assert last.startswith("stepdistill: error: teacher budget 0.05 reached: 5 requests sent")
        assert len(server.log) == 5 and not (tmp_path / "out" / "teacher.jsonl").exists()
        sent_first = [prompt for prompt, _ in server.log]
        server.log.clear()
        assert main(["run", str(path), "--max-cost", "0.05"]) == 2  # same budget: nothing sent
        assert server.log == []
        capsys.readouterr()
        assert main(["run", str(path), "--max-cost", "1"]) == 0
        assert len(server.log) == 22 and not set(sent_first) & {p for p, _ in server.log}
        assert (tmp_path / "out" / "teacher.jsonl").exists()


def test_run_settings_cut_the_splits_and_a_student_with_nothing_to_learn_is_skipped(
    tmp_path, tiny_t5_dir
):
    """`max_train_examples` / `max_test_examples` and the teacher's `limit` take the first
    examples; a teacher with no usable answer leaves step-by-step on kept examples only
    nothing: not trained."""
    unusable = lambda body: "The premise is about bikes. So the answer is maybe."  # noqa: E731
    kept_only = {"method": "step-by-step", "settings": {"rationale_required": True}}
    with FakeOpenAI(unusable) as server:
        path = make_pipeline(
            tmp_path,
            tiny_t5_dir,
            server.base_url,
            teacher__limit=10,
            train__max_train_examples=10,
            train__max_test_examples=4,
            train__methods=["standard", kept_only],
        )
        assert main(["run", str(path)]) == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["extract"]["examples"] == 10 and len(server.log) == 10
    assert len(report["extract"]["samples"]) == 6  # a few records shown beside their inputs
    standard = report["students"]["standard"]
    assert sum(standard["train_examples"].values()) == 10 and standard["test_size"] == 4
    assert report["extract"]["ok"] == 0 and report["extract"]["unparsable"] == 10
    assert list(report["students"]) == ["standard"]
    assert "no usable training example" in report["skipped_students"]["step-by-step"]
    assert not (tmp_path / "out" / "step-by-step").exists()  # nothing written for it
    markdown = (tmp_path / "out" / "report.md").read_text()
    assert "| problem | gold | teacher | kept | rationale |" in markdown


def test_seeds_train_each_method_per_seed_and_the_report_gives_verdicts(
    tmp_path, tiny_t5_dir, capsys
):
    with FakeOpenAI(teacher_answer) as server:
        path = make_pipeline(tmp_path, tiny_t5_dir, server.base_url, train__seeds=[0, 1])
        assert main(["run", str(path)]) == 0
    out = tmp_path / "out"
    report = json.loads((out / "report.json").read_text())
    names = ["standard/seed0", "standard/seed1", "step-by-step/seed0", "step-by-step/seed1"]
    assert list(report["students"]) == names
    seeds = [
        json.loads((out / n / "stepdistill.json").read_text())["config"]["seed"] for n in names
    ]
    assert seeds == [0, 1, 0, 1]
    (verdict,) = report["comparisons"]  # step-by-step against standard, by default
    assert (verdict["treatment"], verdict["baseline"], verdict["seeds"]) == (
        "step-by-step",
        "standard",
        2,
    )
    assert verdict["verdict"] in ("helped", "hurt", "inside the noise")
    low, high = verdict["interval"]
    assert low <= verdict["mean_difference"] <= high
    for label in ("standard", "step-by-step"):
        row = report["accuracy"][label]
        assert row["low"] <= row["mean"] <= row["high"]
    markdown = (out / "report.md").read_text()
    assert "## Verdicts" in markdown and verdict["line"] in markdown
    assert (out / "report.png").read_bytes()[:4] == b"\x89PNG"
    capsys.readouterr()
    # the same verdict from the folders alone
    ours = [str(out / "step-by-step" / f"seed{s}") for s in (0, 1)]
    theirs = [str(out / "standard" / f"seed{s}") for s in (0, 1)]
    assert main(["compare", *ours, "--baseline", *theirs]) == 0
    assert capsys.readouterr().out.strip() == verdict["line"]


def test_a_teacher_that_answers_one_class_is_warned_about_in_the_report(
    tmp_path, tiny_t5_dir, caplog
):
    one_class = lambda body: "The premise is about bikes. So the answer is contradiction."  # noqa: E731
    with FakeOpenAI(one_class) as server:
        path = make_pipeline(tmp_path, tiny_t5_dir, server.base_url)
        assert main(["run", str(path)]) == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert list(report["extract"]["kept_labels"]) == ["contradiction"]
    warnings = report["warnings"]
    assert any(w.startswith("the kept teacher labels cover 1 of 3 classes") for w in warnings)
    # gold labels, all 3 classes, for both: step-by-step keeps the examples without a rationale
    assert not any("training labels of" in w for w in warnings)
    standard = report["classes"]["standard"]
    assert standard["majority_accuracy"] > 0 and set(standard["confusion"]) == set(LABELS)
    markdown = (tmp_path / "out" / "report.md").read_text()
    assert "## Warnings" in markdown and "Confusion matrix" in markdown
    logged = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("the kept teacher labels cover 1 of 3 classes" in m for m in logged)


def test_compare_pairs_must_name_method_labels(tmp_path, tiny_t5_dir, capsys):
    path = make_pipeline(
        tmp_path, tiny_t5_dir, "http://127.0.0.1:9/v1", train__compare=[["sbs", "standard"]]
    )
    assert main(["run", str(path), "--dry-run"]) == 2
    assert "train.compare names 'sbs', which is no method label" in capsys.readouterr().err


def test_overwrite_clears_only_a_run_folder(tmp_path):
    from stepdistill.errors import StepdistillError
    from stepdistill.pipeline import clear_output

    mine = tmp_path / "notes"
    mine.mkdir()
    (mine / "thesis.txt").write_text("mine")
    with pytest.raises(StepdistillError, match="not a stepdistill run"):
        clear_output(mine)
    run = tmp_path / "run"
    (run / "data").mkdir(parents=True)
    (run / "pipeline.json").write_text("{}")
    with pytest.raises(StepdistillError, match="holds"):
        clear_output(run, inputs=[run / "data"])
    clear_output(run)
    assert not run.exists() and (mine / "thesis.txt").exists()


def wait_for(condition, timeout: float = 120.0) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def cached(cache: Path) -> int:
    try:
        return sqlite3.connect(cache).execute("SELECT COUNT(*) FROM completions").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


@pytest.mark.slow
def test_kill_minus_nine_during_extraction_then_during_training_resumes_without_repeats(
    tmp_path, tiny_t5_dir
):
    with FakeOpenAI(teacher_answer, delay=0.15) as server:
        path = make_pipeline(
            tmp_path,
            tiny_t5_dir,
            server.base_url,
            teacher__concurrency=1,
            train__settings={
                "per_device_batch_size": 2,
                "max_steps": 60,
                "eval_steps": 20,
                "max_new_tokens": 4,
                "save_total_limit": 2,
            },
        )
        out = tmp_path / "out"
        command = [CLI, "run", str(path)]
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}

        process = subprocess.Popen(command, **quiet)
        assert wait_for(lambda: cached(out / "teacher.cache.sqlite") >= 5)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        done = cached(out / "teacher.cache.sqlite")
        assert 5 <= done < 27 and not (out / "teacher.jsonl").exists()
        first = [prompt for prompt, _ in server.log]

        process = subprocess.Popen(command, **quiet)
        checkpoints = out / "standard" / "checkpoints"
        assert wait_for(lambda: any(checkpoints.glob("checkpoint-*/trainer_state.json")), 300)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        assert not (out / "standard" / "metrics.json").exists()
        second = [prompt for prompt, _ in server.log[len(first) :]]
        # the second run sent only what the first had not completed
        assert len(second) == 27 - done and len(set(second)) == len(second)
        teacher_file = (out / "teacher.jsonl").read_bytes()
        server.log.clear()

        result = subprocess.run(command, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr[-2000:]
        assert server.log == []  # no teacher request is repeated
        assert (out / "teacher.jsonl").read_bytes() == teacher_file
        metrics = json.loads((out / "standard" / "metrics.json").read_text())
        assert metrics["resumed_from_step"] >= 20 and metrics["steps"] == 60
        assert (out / "step-by-step" / "metrics.json").exists()
