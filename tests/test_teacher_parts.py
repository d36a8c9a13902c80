"""Retry policy, SQLite cache, majority vote and the teacher registry."""

from __future__ import annotations

import random
import sqlite3
from email.utils import formatdate
from time import time

import pytest

from stepdistill.errors import StepdistillError, UnknownNameError
from stepdistill.extraction.vote import majority_vote
from stepdistill.schema import ParseResult
from stepdistill.tasks import ClosedSet, Equation
from stepdistill.teacher import (
    Completion,
    GenerationSettings,
    RetryPolicy,
    TeacherRequest,
    Usage,
    make_teacher,
    teacher_backend,
)
from stepdistill.teacher.cache import CompletionCache
from stepdistill.teacher.retry import parse_retry_after


def test_backoff_grows_with_jitter_and_a_ceiling():
    policy = RetryPolicy(base_delay=1.0, max_delay=10.0)
    rng = random.Random(0)
    for attempt, full in [(1, 1.0), (2, 2.0), (3, 4.0), (6, 10.0)]:
        delays = [policy.delay(attempt, rng=rng) for _ in range(200)]
        assert min(delays) >= full / 2 and max(delays) <= full
        assert len(set(delays)) > 100  # jittered
    assert policy.delay(1, retry_after=3.0) == 3.0
    assert policy.delay(1, retry_after=99.0) == 10.0


def test_retry_after_parsing():
    assert parse_retry_after("2.5") == 2.5
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert 20 <= parse_retry_after(formatdate(time() + 30, usegmt=True)) <= 31


def test_settings_and_policy_validation():
    with pytest.raises(ValueError, match="temperature"):
        GenerationSettings(temperature=-1)
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)


def test_cache_keys_depend_on_everything_but_credentials():
    settings = GenerationSettings(max_tokens=10)
    request = TeacherRequest(prompt="Q: hi\nA:", settings=settings)
    identity = {"backend": "openai", "model": "m"}
    key = request.cache_key(identity)
    assert key == TeacherRequest(prompt="Q: hi\nA:", settings=settings).cache_key(dict(identity))
    assert key != TeacherRequest(prompt="Q: hi\nA:", settings=settings, sample=1).cache_key(
        identity
    )
    assert key != TeacherRequest(
        prompt="Q: hi\nA:", settings=GenerationSettings(max_tokens=11)
    ).cache_key(identity)
    assert key != request.cache_key({"backend": "openai", "model": "other"})
    chat = TeacherRequest.chat([{"role": "user", "content": "hi"}], settings)
    assert chat.message_list == [{"content": "hi", "role": "user"}]


def test_cache_keeps_successes_only_and_survives_reopening(tmp_path):
    path = tmp_path / "c.sqlite"
    cache = CompletionCache(path)
    cache.put("a", Completion("text a", usage=Usage(3, 4)), {"sample": 0})
    cache.put("b", Completion(None, error="HTTP 500"), {"sample": 0})
    cache.close()
    again = CompletionCache(path)
    hit = again.get("a")
    assert hit.text == "text a" and hit.cached and hit.usage.completion_tokens == 4
    assert again.get("b") is None and len(again) == 1
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_majority_vote_by_value_and_first_seen_on_ties():
    samples = [
        ParseResult("r1", "(2 + 2)", True),
        ParseResult("r2", "(1 + 3)", True),
        ParseResult("r3", "(5)", True),
        ParseResult("r4", None, False, "no answer marker"),
    ]
    assert majority_vote(samples, Equation()) == ("(2 + 2)", [0, 1])
    tie = [ParseResult("a", "neutral", True), ParseResult("b", "entailment", True)]
    assert majority_vote(tie, ClosedSet(("entailment", "neutral", "contradiction"))) == (
        "neutral",
        [0],
    )
    assert majority_vote([ParseResult("", None, False, "x")], Equation()) == (None, [])


def test_teacher_specs():
    with pytest.raises(StepdistillError, match="backend:model"):
        make_teacher("gpt-4o")
    with pytest.raises(UnknownNameError, match="did you mean 'openai'"):
        make_teacher("opena:gpt-4o")
    teacher = make_teacher("openai:some-model", base_url="http://127.0.0.1:9/v1")
    assert teacher.name == "openai:some-model"
    assert "key" not in str(teacher.identity()).lower()


def test_backends_declare_how_they_are_driven():
    local, model = teacher_backend("local:smollm2-135m")
    assert model == "smollm2-135m"
    assert local.chat_only and local.concurrency(16) == 16  # it batches what is in flight
    remote, _ = teacher_backend("openai:gpt-4o-mini")
    assert not remote.chat_only and remote.concurrency(16) == 16
    with pytest.raises(StepdistillError, match="does not take base_url"):
        make_teacher("local:smollm2-135m", base_url="http://127.0.0.1:9/v1")
