"""Hardening, second round, point 7: a server's token usage cannot fool the cost cap. Usage
that is negative, absent or absurd counts as the request's ceiling (with a warning), and a
paid answer is always stored."""

from __future__ import annotations

import json
import logging

import pytest

from fake_openai import NO_USAGE, FakeOpenAI
from stepdistill.cli.main import main
from test_pipeline import make_pipeline, teacher_answer

USAGES = {
    "negative": {"prompt_tokens": -1_000_000, "completion_tokens": -1_000_000},
    "absent": NO_USAGE,
    "absurd": {"prompt_tokens": 10**30, "completion_tokens": 10**30},
    "huge float": {"prompt_tokens": 1e308, "completion_tokens": 1e308},
    "text": {"prompt_tokens": "10", "completion_tokens": "many"},
}


@pytest.mark.parametrize("usage", list(USAGES.values()), ids=list(USAGES))
def test_usage_a_server_makes_up_is_counted_at_the_ceiling(
    tmp_path, tiny_t5_dir, capsys, caplog, usage
):
    with FakeOpenAI(teacher_answer, usage=usage) as server:
        path = make_pipeline(
            tmp_path,
            tiny_t5_dir,
            server.base_url,
            teacher__price_per_1k_prompt=1.0,
            teacher__price_per_1k_completion=1.0,
            teacher__max_tokens=100,
            teacher__concurrency=1,
        )
        # one request's ceiling: its prompt (about 100 tokens) and 100 completion tokens,
        # about 0.2 at these prices: a budget of 0.5 allows a few requests, never 27
        caplog.set_level(logging.WARNING)
        assert main(["run", str(path), "--max-cost", "0.5"]) == 2
        assert "teacher budget 0.5 reached" in capsys.readouterr().err
        assert 1 <= len(server.log) <= 4
        assert any(
            "token usage is missing or implausible" in r.getMessage() for r in caplog.records
        )
        # every answer that was paid for is in the cache: a rerun sends nothing
        server.log.clear()
        assert main(["run", str(path), "--max-cost", "0.5"]) == 2
        assert server.log == []


def test_plausible_usage_is_believed(tmp_path, tiny_t5_dir, capsys):
    with FakeOpenAI(teacher_answer) as server:
        make_pipeline(tmp_path, tiny_t5_dir, server.base_url)
        args = ["extract", "--task", str(tmp_path / "task.yaml"), "--output", str(tmp_path / "t")]
        assert (
            main([*args, "--teacher", "openai:fake", "--base-url", server.base_url, "--json"]) == 0
        )
        report = json.loads(capsys.readouterr().out)
        assert report["usage"] == {"prompt_tokens": 270, "completion_tokens": 135}
