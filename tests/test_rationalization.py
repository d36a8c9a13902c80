"""Rationalization (STaR): hinted prompts show the gold label, the two-pass mode asks with the
hint only where the first answer was wrong or unreadable, records say which pass wrote them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fake_openai import HINTED, FakeOpenAI, hinted_answer, prompt_of
from stepdistill.extraction import ExtractionConfig
from stepdistill.extraction.extract import reasoning_requests
from stepdistill.prompts import builtin_exemplars, builtin_hint, style_for
from stepdistill.prompts.render import few_shot_messages, few_shot_text, zero_shot_text
from stepdistill.tasks import get_task
from stepdistill.teacher import TeacherRequest
from test_extraction import run
from tiny import arithmetic_examples

SVAMP = get_task("svamp")
STYLE = style_for("svamp")
EXEMPLARS = builtin_exemplars(SVAMP)
HINT = builtin_hint()


def test_hinted_prompts_show_the_label_in_every_prompt_form():
    example = arithmetic_examples(1, seed=3, split="train")[0]
    shown = f"(The correct answer is {example.label}.)"
    text = few_shot_text(STYLE, EXEMPLARS, example, HINT)
    assert shown in text and text.endswith(f"{shown}\nA:")
    assert f"(The correct answer is {EXEMPLARS[0].label}.)" in text  # the exemplars too
    assert HINT.instruction in text
    messages = few_shot_messages(STYLE, EXEMPLARS, example, HINT)
    assert shown in messages[-1]["content"] and HINT.instruction in messages[0]["content"]
    assert shown in zero_shot_text(STYLE, example, HINT)
    assert "correct answer" not in few_shot_text(STYLE, EXEMPLARS, example)
    nli = style_for("esnli")  # a question over several fields: the hint goes before its answer line
    from stepdistill.schema import Example

    pair = Example("e", "p h", "neutral", {"premise": "A man sleeps.", "hypothesis": "He dreams."})
    assert zero_shot_text(nli, pair, HINT).endswith(
        "(The correct answer is neutral.)\nReasoning: Let's think step by step."
    )


def test_hinted_requests_are_marked_and_keyed_apart_and_unlabeled_examples_are_not_hinted():
    examples = arithmetic_examples(2, seed=3, split="train")
    examples[1] = type(examples[1])(examples[1].id, examples[1].input, None, {}, None)
    config = ExtractionConfig()
    hinted = reasoning_requests(examples, STYLE, EXEMPLARS, config, HINT)
    assert hinted[0].mode == "rationalize-v1" and hinted[1].mode is None
    assert "correct answer" not in prompt_of({"messages": hinted[1].message_list})
    plain = TeacherRequest(prompt="same text")
    marked = TeacherRequest(prompt="same text", mode="rationalize-v1")
    assert plain.cache_key({"m": 1}) != marked.cache_key({"m": 1})


def test_two_pass_hints_only_the_wrong_or_unreadable_and_a_rerun_sends_nothing(tmp_path):
    examples = arithmetic_examples(12, seed=8, split="train")  # "loses" problems need a minus
    unreadable = examples[0].id

    def answer(body):
        first_ask = not HINTED.search(prompt_of(body))
        if first_ask and examples[0].input.split("\n")[0] in prompt_of(body):
            return "I am not sure."
        return hinted_answer(body)

    wrong = {
        e.id for e in examples if "-" in (e.label or "") or e.id == unreadable
    }  # the plain teacher always adds
    assert 0 < len(wrong) < len(examples)
    with FakeOpenAI(answer) as server:
        records, report = run(
            server, examples, cache_path=tmp_path / "c.sqlite", rationalization="two-pass"
        )
        hinted_sent = [p for p, _ in server.log if HINTED.search(p)]
        assert len(server.log) == len(examples) + len(wrong)
        assert len(hinted_sent) == len(wrong)
        again, _ = run(
            server, examples, cache_path=tmp_path / "c.sqlite", rationalization="two-pass"
        )
        assert len(server.log) == len(examples) + len(wrong)  # everything from the cache
    by_id = {r.example_id: r for r in records}
    assert {i for i, r in by_id.items() if r.meta["pass"] == "hinted"} == wrong
    assert all(
        r.meta["prompt"]["hint"] == {"name": "rationalize", "version": 1}
        for r in records
        if r.meta["pass"] == "hinted"
    )
    assert all("hint" not in r.meta["prompt"] for r in records if r.meta["pass"] == "first")
    assert all(
        SVAMP.metric.score(r.teacher_label, e.label) for r, e in zip(records, examples, strict=True)
    )
    assert report.hinted == len(wrong) and report.hint_echoes == 0 and report.ok == 12
    assert [r.to_dict() for r in again] == [r.to_dict() for r in records]


def test_hinted_mode_asks_every_labeled_example_once_with_the_hint_zero_shot_too():
    examples = arithmetic_examples(4, seed=2, split="train")

    def answer(body):
        if prompt_of(body).startswith("So what is the answer"):
            shown = HINTED.findall(json.dumps(body["messages"]))
            return f"The answer is {shown[-1]}." if shown else "The answer is (1 + 1)."
        return "First we look at the numbers, then we combine them as the story says."

    with FakeOpenAI(answer) as server:
        records, report = run(server, examples, rationalization="hinted", zero_shot=True)
    assert len(server.log) == 8  # reasoning and answer stage, both hinted
    assert all(r.meta["pass"] == "hinted" and r.parse_ok for r in records)
    assert report.hinted == 4


def test_an_echo_of_the_hint_is_counted_and_can_be_filtered():
    examples = arithmetic_examples(3, seed=1, split="train")

    def answer(body):
        shown = HINTED.findall(prompt_of(body))
        return f"The correct answer is {shown[-1]}. The answer is {shown[-1]}."

    with FakeOpenAI(answer) as server:
        records, report = run(server, examples, rationalization="hinted")
        filtered, _ = run(server, examples, rationalization="hinted", filters=("no-hint-echo",))
    assert report.hint_echoes == 3 and all(r.meta["hint_echo"] for r in records)
    assert all(not r.usable and r.filtered.startswith("no-hint-echo") for r in filtered)
    assert HINT.echoes("( 3.0 + 4.0 )", "( 3.0 + 4.0 )")
    assert not HINT.echoes("Ann had 3 apples and got 4 more, so 3 + 4 = 7.", "( 3.0 + 4.0 )")


def test_extract_command_takes_the_mode_and_reports_the_passes(paper_dir, tmp_path):
    output = tmp_path / "t.jsonl"
    with FakeOpenAI(hinted_answer) as server:
        command = [str(Path(sys.executable).parent / "stepdistill"), "extract", "--task", "svamp"]
        command += ["--data-dir", str(paper_dir), "--split", "train", "--limit", "12"]
        command += ["--teacher", "openai:fake", "--base-url", server.base_url, "--json"]
        command += ["--rationalization", "two-pass", "--output", str(output)]
        result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout[result.stdout.index("{") :])
    records = [json.loads(line) for line in output.read_text().splitlines()]
    hinted = [r for r in records if r["meta"]["pass"] == "hinted"]
    assert report["hinted"] == len(hinted) > 0
    assert report["requests"] == 12 + len(hinted)


def test_a_bad_mode_is_refused():
    with pytest.raises(ValueError, match="rationalization must be one of"):
        ExtractionConfig(rationalization="always")
