"""Teacher extraction as provider batch jobs (a local server of the files and batches
endpoints) and through batch files for offline engines (a stand-in for ``vllm run-batch``)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from fake_batches import FakeBatchAPI, play_vllm_run_batch
from fake_openai import FakeOpenAI, svamp_answer
from stepdistill.cli.main import main
from stepdistill.errors import StepdistillError
from stepdistill.teacher.batch_files import split_lines

CLI = [sys.executable, "-m", "stepdistill"]
POLL = ["--batch-poll-seconds", "0.05"]


def extract_args(base_url: str, paper_dir: Path, output: Path, limit: int = 6) -> list[str]:
    args = ["extract", "--task", "svamp", "--data-dir", str(paper_dir), "--split", "test"]
    args += ["--limit", str(limit), "--teacher", "openai:fake", "--base-url", base_url]
    return [*args, "--max-tokens", "64", "--output", str(output)]


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def online_records(paper_dir: Path, tmp_path: Path, limit: int = 6, *extra: str) -> list[dict]:
    """The teacher file of the same extraction sent online to the same answers."""
    output = tmp_path / "online.jsonl"
    with FakeOpenAI(svamp_answer) as server:
        assert main([*extract_args(server.base_url, paper_dir, output, limit), *extra]) == 0
    return records(output)


def cached(cache: Path) -> int:
    with sqlite3.connect(cache) as db:
        return db.execute("SELECT COUNT(*) FROM completions").fetchone()[0]


def test_a_batch_run_gives_the_online_teacher_file(paper_dir, tmp_path, capsys):
    output = tmp_path / "batch.jsonl"
    with FakeBatchAPI(svamp_answer) as server:
        args = [*extract_args(server.base_url, paper_dir, output), "--batch", *POLL, "--json"]
        assert main(args) == 0
        assert (server.uploads, server.creates) == (1, 1)
        report = json.loads(capsys.readouterr().out)
        # a rerun is answered by the cache: nothing uploaded, nothing submitted
        assert main([*args, "--overwrite"]) == 0
        assert (server.uploads, server.creates) == (1, 1)
    assert records(output) == online_records(paper_dir, tmp_path)
    batch = report["batch"]
    assert [b["status"] for b in batch["batches"]] == ["completed"]
    assert batch["lines"] == 6 and batch["malformed"] == 0
    state = json.loads((tmp_path / "batch.jsonl.batches" / "state.json").read_text())
    assert state["batches"][0]["id"] == batch["batches"][0]["id"]
    # the input file holds the body the online path sends, keyed by the request's cache key
    lines = records(tmp_path / "batch.jsonl.batches" / state["batches"][0]["input"])
    assert {line["url"] for line in lines} == {"/v1/chat/completions"}
    assert all(line["body"]["model"] == "fake" and line["body"]["messages"] for line in lines)
    assert report["sent"] == 6 and report["usage"]["completion_tokens"] == 30


def test_kill_9_while_polling_then_the_same_command_submits_nothing_new(paper_dir, tmp_path):
    output = tmp_path / "t.jsonl"
    hold = threading.Event()
    with FakeBatchAPI(svamp_answer, hold=hold) as server:
        command = [*CLI, *extract_args(server.base_url, paper_dir, output), "--batch", *POLL]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        state = tmp_path / "t.jsonl.batches" / "state.json"
        deadline = time.time() + 120
        while server.retrieves < 3:  # submitted, and polled while it is held in progress
            assert process.poll() is None, process.stderr.read().decode()
            assert time.time() < deadline, "the batch was never polled"
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        assert '"id": "batch_' in state.read_text() and not output.exists()
        hold.set()
        assert main([*extract_args(server.base_url, paper_dir, output), "--batch", *POLL]) == 0
        assert (server.uploads, server.creates) == (1, 1)
    assert len(records(output)) == 6


def test_a_batch_created_just_before_a_crash_is_found_again_not_resubmitted(paper_dir, tmp_path):
    """The crash came after the batch was created and before its id was recorded."""
    output = tmp_path / "t.jsonl"
    with FakeBatchAPI(svamp_answer) as server:
        args = [*extract_args(server.base_url, paper_dir, output), "--batch", *POLL]
        assert main(args) == 0
        state_file = tmp_path / "t.jsonl.batches" / "state.json"
        state = json.loads(state_file.read_text())
        entry = state["batches"][0]
        state["batches"][0] = {k: entry[k] for k in ("input", "requests", "input_file_id")}
        state_file.write_text(json.dumps(state))
        (tmp_path / "t.jsonl.cache.sqlite").unlink()
        assert main([*args, "--overwrite"]) == 0
        assert (server.uploads, server.creates) == (1, 1)
    assert len(records(output)) == 6


def test_an_expired_batch_is_reported_and_its_remainder_sent(paper_dir, tmp_path, capsys):
    output = tmp_path / "t.jsonl"
    endings = {1: "expired"}
    with FakeBatchAPI(svamp_answer, ending=lambda n: endings.get(n, "completed"), answered=4) as s:
        args = [*extract_args(s.base_url, paper_dir, output), "--batch", *POLL]
        assert main(args) == 2
        error = capsys.readouterr().err
        assert "2 requests were not answered (batch expired)" in error and "4 answered" in error
        assert cached(tmp_path / "t.jsonl.cache.sqlite") == 4 and not output.exists()
        assert main(args) == 0  # the same command: the two unanswered as a new batch
        assert s.creates == 2
        second = json.loads((tmp_path / "t.jsonl.batches" / "state.json").read_text())
        assert [b["requests"] for b in second["batches"]] == [6, 2]
    assert records(output) == online_records(paper_dir, tmp_path)


def test_the_remainder_of_an_expired_batch_can_be_sent_online(paper_dir, tmp_path):
    output = tmp_path / "t.jsonl"
    with FakeBatchAPI(svamp_answer, ending=lambda n: "expired", answered=5) as server:
        args = extract_args(server.base_url, paper_dir, output)
        assert main([*args, "--batch", *POLL]) == 2
        assert main(args) == 0  # without --batch: the one unanswered request sent online
        assert (server.creates, server.online) == (1, 1)
    assert records(output) == online_records(paper_dir, tmp_path)


def test_requests_over_the_per_batch_limits_are_split(paper_dir, tmp_path, capsys):
    output = tmp_path / "t.jsonl"
    with FakeBatchAPI(svamp_answer) as server:
        args = [*extract_args(server.base_url, paper_dir, output, limit=10), "--batch", *POLL]
        assert main([*args, "--batch-max-requests", "4", "--json"]) == 0
        assert server.creates == 3
    report = json.loads(capsys.readouterr().out)
    assert [b["requests"] for b in report["batch"]["batches"]] == [4, 4, 2]
    assert records(output) == online_records(paper_dir, tmp_path, 10)

    lines = [b"x" * 10 + b"\n"] * 5
    assert [len(chunk) for chunk in split_lines(lines, 100, 25)] == [2, 2, 1]  # by bytes
    with pytest.raises(StepdistillError, match="over the per-batch limit"):
        split_lines(lines, 100, 5)


def test_malformed_and_unknown_result_lines_are_counted(paper_dir, tmp_path, capsys):
    unknown = {"custom_id": "nobody", "response": {"status_code": 200, "body": {}}, "error": None}
    extra = (b"{not json", b'{"no": "custom_id"}', json.dumps(unknown).encode())
    with FakeBatchAPI(svamp_answer, extra=extra) as server:
        output = tmp_path / "t.jsonl"
        args = [*extract_args(server.base_url, paper_dir, output), "--batch", *POLL]
        assert main(args) == 0
    out = capsys.readouterr().out
    assert "result lines: 9, 0 errors, 1 with an unknown id, 0 duplicated, 2 malformed" in out
    assert len(records(output)) == 6


def test_a_batch_whose_ceiling_exceeds_the_budget_is_not_submitted(paper_dir, tmp_path, capsys):
    with FakeBatchAPI(svamp_answer) as server:
        args = [*extract_args(server.base_url, paper_dir, tmp_path / "t.jsonl"), "--batch"]
        args += ["--price-per-1k-prompt", "1", "--price-per-1k-completion", "1"]
        assert main([*args, "--max-cost", "0.1"]) == 2
        assert (server.uploads, server.creates) == (0, 0)
        error = capsys.readouterr().err
        assert "batch of 6 requests not submitted" in error and "384 completion tokens" in error
        assert main([*args, "--max-cost", "100", *POLL]) == 0  # under the ceiling: sent
        assert server.creates == 1


def test_the_dry_run_prices_batches_at_the_discount(paper_dir, tmp_path, capsys):
    args = extract_args("http://127.0.0.1:9/v1", paper_dir, tmp_path / "t.jsonl", limit=10)
    args += ["--price-per-1k-prompt", "1", "--price-per-1k-completion", "2", "--dry-run"]
    assert main(args) == 0
    online = json.loads(capsys.readouterr().out)
    assert main([*args, "--batch", "--batch-max-requests", "3"]) == 0
    batch = json.loads(capsys.readouterr().out)
    assert batch["estimated_max_cost"] == pytest.approx(online["estimated_max_cost"] / 2)
    assert batch["batch"]["batches"] == 4
    assert batch["batch"]["estimated_max_cost_online"] == pytest.approx(
        online["estimated_max_cost"]
    )


def test_batch_mode_needs_an_openai_teacher(paper_dir, tmp_path, capsys):
    args = ["extract", "--task", "svamp", "--data-dir", str(paper_dir), "--batch"]
    assert main([*args, "--output", str(tmp_path / "t.jsonl"), "--dry-run"]) == 2
    assert "batch mode needs a teacher whose requests are OpenAI batch lines" in (
        capsys.readouterr().err
    )


def test_file_mode_write_answer_with_vllm_run_batch_read_back(paper_dir, tmp_path, capsys):
    output, requests, answers = tmp_path / "t.jsonl", tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    base = extract_args("http://127.0.0.1:9/v1", paper_dir, output)  # port 9: nothing is sent
    assert main([*base, "--write-batch-file", str(requests)]) == 0
    assert "wrote 6 reasoning requests" in capsys.readouterr().err and not output.exists()
    assert play_vllm_run_batch(requests, answers, svamp_answer) == 6
    assert main([*base, "--read-batch-results", str(answers), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["batch"]["used"] == 6 and report["batch"]["unknown_ids"] == 0
    assert records(output) == online_records(paper_dir, tmp_path)


def test_an_answer_file_with_unknown_duplicated_and_error_lines_is_reported(
    paper_dir, tmp_path, capsys
):
    output, requests, answers = tmp_path / "t.jsonl", tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    base = extract_args("http://127.0.0.1:9/v1", paper_dir, output)
    assert main([*base, "--write-batch-file", str(requests)]) == 0
    play_vllm_run_batch(requests, answers, svamp_answer)
    lines = answers.read_text().splitlines()
    failed = json.loads(lines[1])
    failed.update(response=None, error={"code": "oom", "message": "out of memory"})
    stranger = json.loads(lines[0]) | {"custom_id": "0" * 64}
    rows = [lines[0], json.dumps(failed), *lines[2:], lines[0], json.dumps(stranger), "garbage"]
    answers.write_text("\n".join(rows) + "\n")
    assert main([*base, "--read-batch-results", str(answers)]) == 0
    out = capsys.readouterr().out
    assert "9 lines, 6 used, 1 errors, 1 with an unknown id" in out
    assert "1 duplicated, 1 malformed" in out
    assert "6 examples: 5 kept" in out and "1 failed" in out
    # the failed one is asked again: written to a new file, then answered
    again = tmp_path / "again.jsonl"
    args = [*base, "--overwrite", "--read-batch-results", str(answers)]
    assert main([*args, "--write-batch-file", str(again)]) == 0
    assert len(again.read_text().splitlines()) == 1


def test_zero_shot_file_mode_takes_one_round_per_pass(paper_dir, tmp_path, capsys):
    output = tmp_path / "t.jsonl"
    base = [*extract_args("http://127.0.0.1:9/v1", paper_dir, output, limit=3), "--zero-shot"]
    results: list[str] = []
    for round_number, expected in enumerate(("reasoning", "answers")):
        requests = tmp_path / f"in{round_number}.jsonl"
        reading = ["--read-batch-results", *results] if results else []
        assert main([*base, *reading, "--write-batch-file", str(requests)]) == 0
        assert f"wrote 3 {expected} requests" in capsys.readouterr().err
        play_vllm_run_batch(requests, tmp_path / f"out{round_number}.jsonl", svamp_answer)
        results.append(str(tmp_path / f"out{round_number}.jsonl"))
    assert main([*base, "--read-batch-results", *results]) == 0
    assert len(records(output)) == 3 and not output.with_suffix(".jsonl.batches").exists()


def test_a_pipeline_with_teacher_batch_runs_every_stage(tmp_path, tiny_t5_dir):
    from test_pipeline import make_pipeline, teacher_answer

    with FakeBatchAPI(teacher_answer) as server:
        path = make_pipeline(
            tmp_path,
            tiny_t5_dir,
            server.base_url,
            teacher__batch=True,
            teacher__batch_poll_seconds=0.05,
            train__methods=["standard", "step-by-step"],
        )
        assert main(["run", str(path)]) == 0
        assert (server.uploads, server.creates, server.online) == (1, 1, 0)
    out = tmp_path / "out"
    report = json.loads((out / "report.json").read_text())
    assert report["extract"]["examples"] == 27
    assert [b["status"] for b in report["extract"]["batch"]["batches"]] == ["completed"]
    assert (out / "teacher.jsonl.batches" / "state.json").is_file()
    assert report["students"]["step-by-step"]["train_examples"]["used"] == 27


def test_a_batch_that_failed_validation_is_reported_and_sent_again(paper_dir, tmp_path, capsys):
    output = tmp_path / "t.jsonl"
    endings = {1: "failed"}
    with FakeBatchAPI(svamp_answer, ending=lambda n: endings.get(n, "completed")) as server:
        args = [*extract_args(server.base_url, paper_dir, output), "--batch", *POLL]
        assert main(args) == 2
        assert "6 requests were not answered (batch failed)" in capsys.readouterr().err
        state = json.loads((tmp_path / "t.jsonl.batches" / "state.json").read_text())
        assert state["batches"][0]["errors"] == ["invalid_json: bad"]
        assert main(args) == 0 and server.creates == 2
    assert records(output) == online_records(paper_dir, tmp_path)
