"""Estimates before the work: a dry run's duration per stage (calibrated, then recorded) is
within a factor of two of the run's, and the run logs one overall progress line."""

from __future__ import annotations

import json
import logging
import time

import pytest

from stepdistill.cli.main import main
from stepdistill.pipeline.progress import RunProgress
from stepdistill.throughput import (
    CALIBRATED,
    RECORDED,
    Estimate,
    Measurement,
    ThroughputLog,
    total,
)
from test_pipeline import make_pipeline


@pytest.fixture
def throughput(tmp_path, monkeypatch):
    path = tmp_path / "throughput.json"
    monkeypatch.setenv("STEPDISTILL_THROUGHPUT", str(path))
    return path


def dry_run(path, capsys, *extra: str) -> dict:
    capsys.readouterr()
    assert main(["run", str(path), "--dry-run", *extra]) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines()[-1].startswith("estimated duration: about ")
    return json.loads(captured.out)


def test_the_dry_runs_estimate_is_within_a_factor_of_two_of_the_run(
    tmp_path, tiny_t5_dir, tiny_llama_dir, throughput, capsys, caplog
):
    teacher = {"teacher": f"local:{tiny_llama_dir}", "max_tokens": 24, "batch_size": 4}
    path = make_pipeline(
        tmp_path,
        tiny_t5_dir,
        None,
        teacher=teacher,
        train__settings={"per_device_batch_size": 4, "max_steps": 30, "eval_steps": 10},
    )
    plan = dry_run(path, capsys)
    stages = plan["stages"]
    assert stages["extract"]["duration"]["source"] == CALIBRATED
    for name in ("train standard", "train step-by-step"):
        found = stages[name]["duration"]
        assert found["source"] == CALIBRATED and found["seconds"] > 0
        assert "30 steps" in found["note"] and "before the teacher" in found["note"]
    assert stages["report"]["duration"]["source"] == "unknown"  # known after a first run
    assert plan["duration"]["within_factor"] == 2.0
    estimated = plan["duration"]["seconds"]
    assert not (tmp_path / "out").exists()  # the calibration wrote nothing there

    caplog.set_level(logging.INFO, logger="stepdistill.pipeline.progress")
    started = time.perf_counter()
    assert main(["run", str(path)]) == 0
    measured = time.perf_counter() - started
    assert measured / 2 <= estimated <= measured * 2, (estimated, measured)
    lines = [r.getMessage() for r in caplog.records if r.name == "stepdistill.pipeline.progress"]
    # the report stage has no estimate before a first run: no share of the whole is claimed
    assert lines[0].startswith("progress: extract, stage 1 of 4; 0 s elapsed, at least ")
    assert lines[0].endswith("left (1 stage(s) not estimated yet)")
    assert any("train standard" in line and "left" in line for line in lines)
    assert lines[-1].startswith("progress 100%: all 4 stages done in ")

    # a run records what it measured: the next dry run estimates from it, timing nothing
    again = dry_run(path, capsys, "--output", str(tmp_path / "again"), "--no-calibration")
    assert {s["duration"]["source"] for s in again["stages"].values()} == {RECORDED}
    recorded = again["duration"]["seconds"]
    assert measured / 2 <= recorded <= measured * 2, (recorded, measured)
    # and a finished stage costs nothing more
    done = dry_run(path, capsys, "--no-calibration")
    assert done["stages"]["train standard"]["duration"]["seconds"] == 0


def test_extract_dry_run_never_asks_a_paid_teacher(tmp_path, throughput, capsys):
    make_pipeline(tmp_path, tmp_path / "unused", "http://127.0.0.1:9/v1")
    args = ["extract", "--task", str(tmp_path / "task.yaml"), "--output", "t.jsonl"]
    assert (
        main(
            [*args, "--teacher", "openai:fake", "--base-url", "http://127.0.0.1:9/v1", "--dry-run"]
        )
        == 0
    )
    captured = capsys.readouterr()
    duration = json.loads(captured.out)["duration"]
    assert duration["source"] == "unknown" and "paid teacher is not asked" in duration["note"]
    assert not throughput.exists()
    assert "estimated duration: unknown (no record of this teacher" in captured.err


def test_records_keep_the_newest_real_runs_and_bound_the_estimate_by_their_spread(throughput):
    log = ThroughputLog()
    workload = {"student": "s"}
    log.record("train", workload, Measurement({"step_seconds": 9.0}, CALIBRATED))
    for seconds in (1.0, 2.0, 1.5, 1.0, 1.0, 1.2):
        log.record("train", workload, Measurement({"step_seconds": seconds}, RECORDED))
    log.record("train", workload, Measurement({"step_seconds": 50.0}, CALIBRATED))
    found = log.measurements("train", workload)
    assert [m.values["step_seconds"] for m in found] == [2.0, 1.5, 1.0, 1.0, 1.2]
    estimate = Estimate.from_measurements(found, lambda v: 10 * v["step_seconds"])
    assert estimate.source == RECORDED and estimate.seconds == pytest.approx(13.4)
    assert estimate.factor == pytest.approx(2.0)  # 20 s against 10 s
    assert log.measurements("train", {"student": "other"}) == []
    throughput.write_text("{not json")
    assert log.measurements("train", workload) == []  # unreadable: start afresh


def test_the_sum_names_what_it_could_not_estimate():
    parts = [Estimate(10.0, RECORDED, 1.3), Estimate(5.0, CALIBRATED, 2.0), Estimate.unknown("x")]
    summed = total(parts)
    assert summed.seconds == 15.0 and summed.factor == 2.0
    assert summed.source == "calibrated+recorded" and "1 stage not estimated" in summed.note


def test_the_time_left_follows_the_runs_own_pace(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(time, "perf_counter", lambda: now[0])
    progress = RunProgress({"a": Estimate(10.0, RECORDED), "b": Estimate(10.0, RECORDED)})
    progress.begin("a")
    now[0] = 20.0  # twice as slow as estimated
    progress.advance(50, 50)
    progress.end("a")
    assert progress.line() == (
        "progress 50%: between stages, stage 1 of 2; 20 s elapsed, about 20 s left"
    )
    progress.begin("b")
    now[0] = 30.0
    progress.advance(5, 10)
    assert progress.line() == (
        "progress 75%: b (step 5 of 10), stage 2 of 2; 30 s elapsed, about 10 s left"
    )
    unknown = RunProgress({"a": Estimate(10.0, RECORDED), "b": Estimate.unknown("")})
    unknown.begin("a")
    now[0] = 40.0
    unknown.end("a")
    unknown.begin("b")
    assert unknown.line() == (
        "progress: b, stage 2 of 2; 10 s elapsed, time left unknown (1 stage(s) not estimated yet)"
    )
