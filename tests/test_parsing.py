from __future__ import annotations

import time

import pytest

from stepdistill.tasks import get_task
from stepdistill.tasks.parsing import cut_at_stop, parse_completion


def parse(task_name: str, text: str):
    task = get_task(task_name)
    return parse_completion(text, task.answer_pattern, task.label_kind)


def test_cqa_completion_is_cut_before_the_next_exemplar():
    raw = (
        "The answer must be a math thing. So the answer is (d) math problem.\n\n"
        "Q: What is this?\nAnswer Choices:\n(a) horse\nA: So the answer is (a) horse."
    )
    result = parse("cqa", raw)
    assert result.ok
    assert result.label == "math problem"
    assert result.rationale == "The answer must be a math thing."


def test_svamp_label_is_the_parenthesised_expression():
    result = parse(
        "svamp", "84 / 2 = 42. The answer is (84 / 2).\n\nQ: next one The answer is (1)."
    )
    assert (result.ok, result.label, result.rationale) == (True, "(84 / 2)", "84 / 2 = 42.")


@pytest.mark.parametrize(
    ("task", "raw", "reason"),
    [
        ("svamp", "So she has 5 apples.", "no answer marker"),
        ("svamp", "The answer is ((491 - 21", "no label after the answer marker"),
        ("svamp", "The answer is (some - 8).", "invalid label"),
        ("svamp", "The answer is (34 + 40) and (62 - 17).", "invalid label"),
        ("cqa", "So the answer is one of these four.", "no label after the answer marker"),
        ("esnli", "The men are standing.\n\nPremise: x", "no answer marker"),
        ("esnli", "Because.\nAnswer: maybe", "invalid label"),
        (
            "anli1",
            "Premise: it starts with a new exemplar. So the answer is neutral.",
            "no answer marker",
        ),
    ],
)
def test_failed_parses_are_data_not_exceptions(task, raw, reason):
    result = parse(task, raw)
    assert not result.ok
    assert result.label is None
    assert result.error.startswith(reason)


def test_nli_labels_are_canonicalised():
    assert parse("esnli", "Reason.\nAnswer: Neutral\n\nPremise: more").label == "neutral"
    result = parse("anli1", "It says so. So the answer is contradiction.\n\nPremise: next")
    assert (result.label, result.rationale) == ("contradiction", "It says so.")


def test_last_answer_marker_wins():
    result = parse("svamp", "The answer is (1 + 1) or not. Actually The answer is (2 + 2).")
    assert result.label == "(2 + 2)"


def test_non_text_completion_is_a_failed_parse():
    result = parse("cqa", None)
    assert not result.ok and "NoneType" in result.error


def test_cut_at_stop_uses_the_earliest_marker():
    assert cut_at_stop("a Q: b Premise: c", ("Premise:", "Q:")) == "a "
    assert cut_at_stop("abc", ()) == "abc"


# 9: parsing is linear -----------------------------------------------------------------------


@pytest.mark.parametrize("size", [200_000, 1_000_000])
def test_parsing_a_huge_completion_takes_no_time(size):
    svamp = get_task("svamp")
    started = time.perf_counter()
    parsed = parse_completion("The answer is " + "(" * size, svamp.answer_pattern, svamp.label_kind)
    assert not parsed.ok and time.perf_counter() - started < 0.5
    parsed = parse_completion(
        "x" * size + " The answer is ( 1 + 2 ).", svamp.answer_pattern, svamp.label_kind
    )
    assert time.perf_counter() - started < 1.0
