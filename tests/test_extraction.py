"""Teacher extraction against an in-process OpenAI-compatible server that injects faults."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fake_openai import (
    BAD_REQUEST,
    GARBAGE,
    HANG,
    RATE_LIMIT,
    SERVER_ERROR,
    FakeOpenAI,
    prompt_of,
    svamp_answer,
)
from stepdistill.extraction import ExtractionConfig, extract
from stepdistill.extraction.extract import reasoning_requests
from stepdistill.prompts import builtin_exemplars, style_for
from stepdistill.tasks import get_task
from stepdistill.teacher import GenerationSettings, RetryPolicy, TeacherRequest
from stepdistill.teacher.openai_backend import OpenAITeacher
from tiny import arithmetic_examples, teacher_file_train_args

SVAMP = get_task("svamp")
STYLE = style_for("svamp")
EXEMPLARS = builtin_exemplars(SVAMP)
FAST_RETRY = RetryPolicy(max_attempts=8, base_delay=0.01, max_delay=0.2, timeout=0.5)


def run(
    server,
    examples,
    *,
    retry=FAST_RETRY,
    endpoint="chat",
    temperature=0.0,
    cache_path=None,
    **config,
):
    """Extract SVAMP records for ``examples`` from ``server`` (``config``: ExtractionConfig's)."""
    teacher = OpenAITeacher("fake", base_url=server.base_url, endpoint=endpoint, retry=retry)
    settings = GenerationSettings(max_tokens=64, stop=STYLE.stop, temperature=temperature)
    extraction = ExtractionConfig(settings=settings, chat=endpoint == "chat", **config)
    return extract(
        SVAMP,
        examples,
        teacher,
        style=STYLE,
        exemplars=EXEMPLARS,
        config=extraction,
        progress=False,
        cache_path=cache_path,
    )


def test_every_example_ends_ok_despite_429_500_timeouts_and_garbage():
    kinds = [RATE_LIMIT, SERVER_ERROR, HANG, GARBAGE]
    seen: dict[str, int] = {}

    def fault(number, body):
        # every prompt fails first (every third one twice), each with its own kind of fault
        prompt = prompt_of(body)
        seen[prompt] = seen.get(prompt, 0) + 1
        failures = 2 if len(prompt) % 3 == 0 else 1
        return kinds[(len(prompt) + seen[prompt]) % 4] if seen[prompt] <= failures else None

    examples = arithmetic_examples(30, seed=5, split="train")
    with FakeOpenAI(svamp_answer, fault=fault) as server:
        records, report = run(server, examples, concurrency=8)
    outcomes = [outcome for _, outcome in server.log]
    assert {RATE_LIMIT, SERVER_ERROR, HANG, GARBAGE} <= set(outcomes)
    assert [r.example_id for r in records] == [e.id for e in examples]  # none lost, none duplicated
    assert report.ok == 30 and report.failed == report.unparsable == report.filtered == 0
    assert report.sent == 30 and report.requests == 30
    assert all(r.parse_ok and r.teacher_label.startswith("(") for r in records)
    assert report.usage.completion_tokens == 5 * 30


def test_a_request_that_keeps_failing_is_recorded_as_failed_not_fatal():
    examples = arithmetic_examples(6, seed=6, split="train")
    doomed = examples[2].input.split("\n")[0]

    def fault(number, body):
        return SERVER_ERROR if doomed in prompt_of(body) else None

    retry = RetryPolicy(max_attempts=3, base_delay=0.01, timeout=1.0)
    with FakeOpenAI(svamp_answer, fault=fault) as server:
        records, report = run(server, examples, retry=retry)
    assert (report.ok, report.failed) == (5, 1)
    failed = records[2]
    assert not failed.parse_ok and failed.error.startswith("request failed: HTTP 500")
    assert sum(doomed in prompt for prompt, _ in server.log) == 3  # every attempt was made


def test_client_errors_are_not_retried():
    with FakeOpenAI(svamp_answer, fault=lambda k, body: BAD_REQUEST) as server:
        teacher = OpenAITeacher("fake", base_url=server.base_url, retry=FAST_RETRY)
        completion = asyncio.run(teacher.complete(TeacherRequest(prompt="hi")))
    assert not completion.ok and completion.attempts == 1
    assert completion.error.startswith("HTTP 400") and len(server.log) == 1


def test_retry_after_is_honoured():
    delays = []

    async def fake_sleep(seconds):
        delays.append(seconds)

    with FakeOpenAI(
        svamp_answer, fault=lambda k, body: RATE_LIMIT if k <= 2 else None, retry_after="7"
    ) as server:
        teacher = OpenAITeacher(
            "fake", base_url=server.base_url, retry=FAST_RETRY, sleep=fake_sleep
        )
        completion = asyncio.run(teacher.complete(TeacherRequest(prompt="Q: 1 and 2\nA:")))
    assert completion.ok and completion.attempts == 3
    assert delays == [0.2, 0.2]  # Retry-After: 7, capped at the policy's max_delay


@pytest.mark.parametrize("header", ["nan", "inf", "-inf"])
def test_a_retry_after_that_is_no_number_of_seconds_means_the_usual_backoff(header):
    delays = []

    async def fake_sleep(seconds):
        delays.append(seconds)

    with FakeOpenAI(
        svamp_answer, fault=lambda k, body: RATE_LIMIT if k <= 2 else None, retry_after=header
    ) as server:
        teacher = OpenAITeacher(
            "fake", base_url=server.base_url, retry=FAST_RETRY, sleep=fake_sleep
        )
        completion = asyncio.run(teacher.complete(TeacherRequest(prompt="Q: 1 and 2\nA:")))
    assert completion.ok and completion.attempts == 3
    # equal jitter: at least half of the exponential delay, never nan (a retry at once)
    base = FAST_RETRY.base_delay
    assert base / 2 <= delays[0] <= base and base <= delays[1] <= 2 * base, delays


def test_self_consistency_votes_and_keeps_agreeing_rationales():
    examples = arithmetic_examples(4, seed=7, split="train")

    def answer(body):
        # sample-dependent answers: two of three samples agree
        wrong = body.get("temperature", 0) > 0 and len(answer.calls) % 3 == 2
        answer.calls.append(1)
        return "I guess. The answer is (1 + 1)." if wrong else svamp_answer(body)

    answer.calls = []
    with FakeOpenAI(answer) as server:
        records, report = run(server, examples, n=3, concurrency=1, temperature=0.7)
    assert report.requests == 12 and report.ok == 4
    for record in records:
        votes = [s["label"] for s in record.meta["samples"]]
        assert record.meta["votes"] == 2 and len(votes) == 3
        assert len(record.meta["rationales"]) == 2


def test_agree_with_gold_filter_counts_and_marks_records():
    examples = arithmetic_examples(20, seed=8, split="train")  # "loses" problems need a minus
    with FakeOpenAI(svamp_answer) as server:
        records, report = run(server, examples, filters=("agree-with-gold",))
    filtered = [r for r in records if r.filtered]
    assert report.filtered == len(filtered) > 0 and report.ok == 20 - len(filtered)
    assert all(not r.usable and r.filtered.startswith("agree-with-gold") for r in filtered)
    assert all(
        SVAMP.metric.score(r.teacher_label, e.label)
        for r, e in zip(records, examples, strict=True)
        if not r.filtered
    )


def test_completions_endpoint_and_zero_shot():
    examples = arithmetic_examples(3, seed=9, split="train")

    def answer(body):
        prompt = body.get("prompt", "")
        return " (2 + 3)." if prompt.endswith("The answer is") else "Two and three make five."

    with FakeOpenAI(answer) as server:
        records, report = run(server, examples, endpoint="completions", zero_shot=True)
    assert report.requests == 6  # reasoning, then the answer
    assert all(r.parse_ok and r.teacher_label == "(2 + 3)" for r in records)
    assert records[0].rationale == "Two and three make five."
    assert "Let's think step by step." in server.log[0][0]


# --- kill -9 in the middle of a run -----------------------------------------------------------

CLI = str(Path(sys.executable).parent / "stepdistill")


def extract_command(server, paper_dir, output):
    return [
        CLI,
        "extract",
        "--task",
        "svamp",
        "--data-dir",
        str(paper_dir),
        "--split",
        "test",
        "--limit",
        "40",
        "--teacher",
        "openai:fake",
        "--base-url",
        server.base_url,
        "--concurrency",
        "2",
        "--max-tokens",
        "64",
        "--output",
        str(output),
    ]


@pytest.mark.slow
def test_kill_minus_nine_then_rerun_sends_nothing_twice_and_gives_the_same_file(
    paper_dir, tmp_path
):
    with FakeOpenAI(svamp_answer, delay=0.1) as server:
        clean = tmp_path / "clean.jsonl"
        subprocess.run(
            extract_command(server, paper_dir, clean), check=True, capture_output=True, timeout=300
        )
        server.log.clear()

        output = tmp_path / "killed.jsonl"
        cache = Path(str(output) + ".cache.sqlite")
        process = subprocess.Popen(
            extract_command(server, paper_dir, output),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.time() + 120
        done = 0
        while time.time() < deadline and done < 10:
            time.sleep(0.05)
            if cache.exists():
                try:
                    done = (
                        sqlite3.connect(cache)
                        .execute("SELECT COUNT(*) FROM completions")
                        .fetchone()[0]
                    )
                except sqlite3.OperationalError:
                    done = 0
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        assert 10 <= done < 40, done
        assert not output.exists()
        committed = {
            row[0] for row in sqlite3.connect(cache).execute("SELECT key FROM completions")
        }
        server.log.clear()

        result = subprocess.run(
            extract_command(server, paper_dir, output), capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stderr

    # which prompt each committed key stands for
    teacher = OpenAITeacher("fake", base_url=server.base_url, endpoint="chat")
    from stepdistill.data.paper import load_paper_task

    examples = load_paper_task(SVAMP, paper_dir, sep="\n", teacher=False)["test"][:40]
    config = ExtractionConfig(settings=GenerationSettings(max_tokens=64, stop=STYLE.stop))
    requests = reasoning_requests(examples, STYLE, EXEMPLARS, config)
    prompt_by_key = {
        r.cache_key(teacher.identity()): r.message_list[-1]["content"] for r in requests
    }
    assert committed <= set(prompt_by_key)
    resent = [prompt for prompt, _ in server.log if prompt in {prompt_by_key[k] for k in committed}]
    assert resent == []
    assert len(server.log) == 40 - len(committed)
    assert output.read_bytes() == clean.read_bytes()
    assert len(output.read_text().splitlines()) == 40


def test_the_api_key_is_sent_but_never_written(paper_dir, tmp_path):
    secret = "sk-test-do-not-write-3f9a"
    seen_headers = []

    def answer(body):
        return svamp_answer(body)

    with FakeOpenAI(answer) as server:
        env = {**os.environ, "MY_KEY": secret}
        output = tmp_path / "t.jsonl"
        command = [
            *extract_command(server, paper_dir, output),
            "--api-key-env",
            "MY_KEY",
            "--limit",
            "3",
        ]
        result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
        seen_headers.extend(server.headers)
    assert result.returncode == 0, result.stderr
    assert any(secret in header for header in seen_headers)  # it did authenticate
    for path in tmp_path.iterdir():
        assert secret.encode() not in path.read_bytes(), path
    assert secret not in result.stdout + result.stderr


def test_local_transformers_teacher_end_to_end(tiny_llama_dir, tmp_path):
    from stepdistill.teacher import make_teacher

    teacher = make_teacher(f"local:{tiny_llama_dir}")
    examples = arithmetic_examples(3, seed=10, split="train")
    settings = GenerationSettings(max_tokens=12, temperature=0.7, stop=STYLE.stop)
    config = ExtractionConfig(n=2, settings=settings, chat=True, concurrency=1)
    cache = tmp_path / "cache.sqlite"
    records, report = extract(
        SVAMP,
        examples,
        teacher,
        style=STYLE,
        exemplars=EXEMPLARS,
        config=config,
        cache_path=cache,
        output=tmp_path / "t.jsonl",
        progress=False,
    )
    assert report.examples == 3 and report.sent == 6 and report.usage.completion_tokens > 0
    assert report.ok + report.unparsable == 3 and report.failed == 0
    assert all(len(r.meta["samples"]) == 2 for r in records)
    assert len((tmp_path / "t.jsonl").read_text().splitlines()) == 3
    # the same run again is served from the cache
    _, again = extract(
        SVAMP,
        examples,
        make_teacher(f"local:{tiny_llama_dir}"),
        style=STYLE,
        exemplars=EXEMPLARS,
        config=config,
        cache_path=cache,
        progress=False,
    )
    assert (again.cached, again.sent) == (6, 0)


def test_train_uses_a_teacher_file_in_place_of_the_palm_outputs(paper_dir, tiny_t5_dir, tmp_path):
    from stepdistill.cli.main import main

    teacher_file = tmp_path / "teacher.jsonl"
    with FakeOpenAI(svamp_answer) as server:
        command = extract_command(server, paper_dir, teacher_file)
        command[command.index("--split") + 1] = "train"
        command[command.index("--limit") + 1] = "30"
        result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "30 examples: 30 kept" in result.stdout

    out = tmp_path / "student"
    args = teacher_file_train_args(paper_dir, tiny_t5_dir, teacher_file, out)
    assert main(args) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    info = json.loads((out / "stepdistill.json").read_text())
    # only the training examples the teacher file covers (some of the 30 went to validation)
    assert 20 <= metrics["train_examples"]["used"] <= 30
    assert metrics["train_examples"]["skipped_no_label"] == 720 - metrics["train_examples"]["used"]
    assert info["data"]["teacher_file"] == str(teacher_file)
    assert any("have a record in the teacher file" in note for note in info["data"]["notes"])


def test_dry_run_counts_requests_tokens_and_cost_without_calling(paper_dir, tmp_path, capsys):
    from stepdistill.cli.main import main

    args = ["extract", "--task", "svamp", "--data-dir", str(paper_dir), "--split", "test"]
    args += ["--teacher", "openai:gpt-x", "--base-url", "http://127.0.0.1:9/v1", "--n", "5"]
    args += ["--output", str(tmp_path / "t.jsonl"), "--dry-run", "--max-tokens", "100"]
    args += ["--price-per-1k-prompt", "0.5", "--price-per-1k-completion", "1.5"]
    assert main(args) == 0  # port 9 answers nothing: any call would have failed
    estimate = json.loads(capsys.readouterr().out)
    assert estimate["examples"] == 200 and estimate["requests"] == 1000
    assert estimate["max_completion_tokens"] == 100_000
    assert estimate["estimated_prompt_tokens"] > 1000 * 200  # five exemplars in every prompt
    expected = estimate["estimated_prompt_tokens"] / 1000 * 0.5 + 100_000 / 1000 * 1.5
    assert estimate["estimated_max_cost"] == pytest.approx(expected)
    assert not (tmp_path / "t.jsonl").exists()


def test_a_real_run_reports_usage_and_cost(paper_dir, tmp_path):
    with FakeOpenAI(svamp_answer) as server:
        command = [*extract_command(server, paper_dir, tmp_path / "t.jsonl"), "--limit", "4"]
        command += ["--price-per-1k-prompt", "1", "--price-per-1k-completion", "2", "--json"]
        result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout[result.stdout.index("{") :])
    assert report["usage"] == {"prompt_tokens": 40, "completion_tokens": 20}
    assert report["cost"] == pytest.approx(40 / 1000 * 1 + 20 / 1000 * 2)


def test_the_embedded_default_teacher_smollm2_answers_with_its_chat_template(paper_dir, tmp_path):
    pytest.importorskip("gguf")
    from stepdistill.cli.main import main

    out = tmp_path / "teacher.jsonl"
    args = ["extract", "--task", "svamp", "--data-dir", str(paper_dir), "--split", "test"]
    args += ["--limit", "2", "--max-tokens", "48", "--output", str(out), "--json"]
    assert main(args) == 0  # --teacher defaults to local:smollm2-135m
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 2 and all(r["teacher"] == "local:smollm2-135m" for r in records)
    assert all(r["raw"] and "input_ids" not in r["raw"] for r in records)
    assert all(r["meta"]["prompt"]["format"] == "chat" for r in records)


def test_the_report_says_how_many_kept_records_have_no_rationale():
    from stepdistill.extraction.extract import ExtractionReport, outcome_text
    from stepdistill.schema import TeacherRecord

    records = [
        TeacherRecord("a", "Two and three make five.", "5", True),
        TeacherRecord("b", "", "7", True),  # the teacher gave its answer only
        TeacherRecord("c", "  ", "7", True),
        TeacherRecord("d", None, None, False, error="no answer"),
    ]
    report = ExtractionReport(examples=4)
    report.count_outcomes(records)
    assert (report.ok, report.empty, report.unparsable) == (3, 2, 1)
    text = outcome_text(report.to_dict())
    assert text.startswith("4 examples: 3 kept (2 of them a label with no rationale), 0 filtered")
