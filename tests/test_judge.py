"""Rationales rated by a judge: scores read (or counted unreadable), the best-scoring majority
rationale selected, low scores filtered, the cache asking nothing twice, `stepdistill judge`."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from fake_openai import FakeOpenAI
from stepdistill.cli.main import main
from stepdistill.extraction import ExtractionConfig, extract
from stepdistill.prompts import builtin_exemplars, builtin_judge, style_for
from stepdistill.tasks import get_task
from stepdistill.teacher import GenerationSettings
from stepdistill.teacher.openai_backend import OpenAITeacher
from tiny import arithmetic_examples

SVAMP, STYLE = get_task("svamp"), style_for("svamp")


def is_judge(body: dict) -> bool:
    return body.get("messages", [{}])[0].get("content", "").startswith("[judge prompt")


class Scripted:
    """A teacher whose samples differ by call, and a judge that likes long rationales, except
    that it cannot be read on rationales mentioning 'mumble'."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def __call__(self, body: dict) -> str:
        last = body["messages"][-1]["content"]
        if is_judge(body):
            rationale = re.search(r"Explanation: (.*)\nAnswer:", last, re.S).group(1)
            if "mumble" in rationale:
                return "I would rather not say."
            return "Score: 5" if "more make" in rationale else "Score: 2"
        self.calls[last] += 1
        sample = self.calls[last]
        a, b = re.findall(r"\d+", last.split("Q:")[-1])[:2]
        return [
            f"Add. The answer is ({a} + {b}).",
            f"{a} and {b} more make {int(a) + int(b)} in all. The answer is ({a} + {b}).",
            f"Subtract, mumble. The answer is ({a} - {b}).",
        ][(sample - 1) % 3]


def run(server, examples, config, tmp_path, name="t"):
    teacher = OpenAITeacher("fake", base_url=server.base_url)
    return extract(
        SVAMP,
        examples,
        teacher,
        style=STYLE,
        exemplars=builtin_exemplars(SVAMP),
        config=config,
        cache_path=tmp_path / "cache.sqlite",
        output=tmp_path / f"{name}.jsonl",
        progress=False,
        judge=(teacher, builtin_judge()),
    )


def test_scores_are_read_and_unreadable_answers_are_counted_never_scored():
    judge = builtin_judge()
    assert judge.read_score("Score: 4") == (4, None)
    assert judge.read_score("score=2 because") == (2, None)
    assert judge.read_score("Score: 9")[0] is None
    assert judge.read_score("I would rather not say.") == (
        None,
        "no score: 'I would rather not say.'",
    )
    assert judge.read_score("Score: 22") == (None, "outside the scale: 22 (scale 1..5)")
    assert judge.read_score(None) == (None, "no answer")


def test_selection_keeps_the_best_scored_majority_rationale_and_the_cache_asks_nothing_twice(
    tmp_path,
):
    examples = arithmetic_examples(4, seed=5, split="train")
    settings = GenerationSettings(max_tokens=64, temperature=0.7, stop=STYLE.stop)
    config = ExtractionConfig(n=3, settings=settings, select="judge", concurrency=1)
    with FakeOpenAI(Scripted()) as server:
        records, report = run(server, examples, config, tmp_path)
        judged_requests = sum(1 for _, _ in server.log) - 12
        server.log.clear()
        again, _ = run(server, examples, config, tmp_path, "again")
        assert server.log == []  # teacher and judge answers both come from the cache
    assert judged_requests == 8  # two agreeing rationales per example were judged
    for record in records:
        assert record.rationale.startswith(record.rationale.split(" ")[0])
        assert " more make " in record.rationale  # the longer rationale scored higher
        assert record.judge_score == 5.0
        assert record.meta["judge"]["prompt"] == {"name": "rubric", "version": 1}
        assert sorted(record.meta["judge"]["scores"]) == [2, 5]
    assert report.judge["judged"] == 4 and report.judge["unreadable"] == 0
    assert [r.to_dict() for r in again] == [r.to_dict() for r in records]


def test_judge_min_sets_low_scores_aside_and_unreadable_answers_are_recorded(tmp_path):
    examples = arithmetic_examples(6, seed=6, split="train")
    settings = GenerationSettings(max_tokens=64, temperature=0.7, stop=STYLE.stop)
    config = ExtractionConfig(n=1, settings=settings, filters=("judge-min=3",), concurrency=1)
    script = Scripted()
    for example in examples:  # the third answer for every prompt: the unreadable one
        script.calls[f"Q: {example.input}\nA:"] = 2
    with FakeOpenAI(script) as server:
        records, report = run(server, examples, config, tmp_path)
    assert all(r.judge_score is None for r in records)
    assert all("no judge score" in r.filtered for r in records)
    assert report.judge["unreadable"] == 6 and report.judge["unreadable_reasons"] == {"no score": 6}
    assert all(r.meta["judge"]["errors"] for r in records)
    assert report.filtered == 6 and report.ok == 0


def test_judge_command_scores_the_papers_rationales(paper_dir, tmp_path, capsys):
    def judge(body):
        rationale = re.search(r"Explanation: (.*)\nAnswer:", body["messages"][-1]["content"], re.S)
        return "Score: 5" if "=" in rationale.group(1) else "Score: 2"

    output = tmp_path / "judged.jsonl"
    with FakeOpenAI(judge) as server:
        args = ["judge", "--task", "svamp", "--data-dir", str(paper_dir), "--split", "test"]
        args += ["--judge", "openai:fake", "--judge-base-url", server.base_url]
        assert main([*args, "--limit", "30", "--output", str(output), "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
        sent = len(server.log)
        assert main([*args, "--limit", "30", "--output", str(output), "--overwrite"]) == 0
        assert len(server.log) == sent  # resumed from the cache: nothing asked again
    records = [json.loads(line) for line in output.read_text().splitlines()]
    assert len(records) == 30 and report["records"] == 30
    scored = [r for r in records if r["judge_score"] is not None]
    assert len(scored) == report["judged"] == sent
    assert {r["judge_score"] for r in scored} <= {2.0, 5.0}
    agreement = report["scores_and_label_correctness"]
    assert agreement["pairs"] == len(scored) and 0 <= agreement["auc"] <= 1


def test_a_bad_filter_spec_is_an_error():
    with pytest.raises(Exception, match="judge-min needs a score"):
        ExtractionConfig(filters=("judge-min",))
