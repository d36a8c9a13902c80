from __future__ import annotations

import pytest

from stepdistill.errors import DataError, UnknownNameError
from stepdistill.evaluation.metrics import METRICS, get_metric, normalize_text
from stepdistill.registry import Registry
from stepdistill.tasks import TASKS, AnswerPattern, AnswerText, Task, get_task, register_task


def make_task(**overrides) -> Task:
    fields = {
        "name": "my-qa",
        "description": "mine",
        "input_template": "Q: {question}",
        "label_field": "answer",
        "label_kind": AnswerText(),
        "metric_name": "exact_match_casefold",
        "answer_pattern": AnswerPattern("The answer is"),
    }
    return Task(**{**fields, **overrides})


def test_paper_tasks_are_registered():
    assert TASKS.names() == ["anli1", "cqa", "esnli", "svamp"]
    assert get_task("svamp").label_kind.name == "equation"
    assert get_task("cqa").label_kind.name == "answer_text"
    assert get_task("esnli").label_space == ("entailment", "neutral", "contradiction")
    assert get_task("anli1").metric_name == "exact_match"


def test_unknown_task_lists_tasks_and_suggests_closest():
    with pytest.raises(UnknownNameError) as info:
        get_task("cqaa")
    message = str(info.value)
    assert "did you mean 'cqa'?" in message
    for name in ("anli1", "cqa", "esnli", "svamp"):
        assert name in message
    with pytest.raises(UnknownNameError, match="did you mean 'anli1'"):
        get_task("anli")
    with pytest.raises(UnknownNameError, match="Known tasks"):
        get_task("zzzzzz")


def test_unknown_metric_is_rejected_when_a_task_is_defined():
    with pytest.raises(UnknownNameError, match="did you mean 'exact_match'"):
        make_task(metric_name="exact_mach")


def test_registry_refuses_duplicates_unless_asked():
    registry: Registry[int] = Registry("thing")
    registry.register("a", 1)
    with pytest.raises(ValueError, match="already registered"):
        registry.register("a", 2)
    registry.register("a", 3, overwrite=True)
    assert registry.get("a") == 3
    assert "a" in registry and len(registry) == 1


def test_user_task_can_be_registered_and_found():
    task = make_task()
    register_task(task)
    try:
        assert get_task("my-qa") is task
        assert task.format_input({"question": "why?"}) == "Q: why?"
    finally:
        TASKS._entries.pop("my-qa")


def test_input_formats_match_the_reference():
    cqa = get_task("cqa")
    row = {"question": "Where?", "choices": ["a0", "a1", "a2", "a3", "a4"], "answer": "a2"}
    assert cqa.format_input(row) == (
        "Where?\nAnswer Choices:\n(a) a0\n(b) a1\n(c) a2\n(d) a3\n(e) a4"
    )
    assert cqa.gold_label(row) == "a2"
    esnli = get_task("esnli")
    row = {"premise": "P.", "hypothesis": "H.", "label": 2}
    assert esnli.format_input(row, sep="</s>") == "P.</s>H."
    assert esnli.gold_label(row) == "contradiction"


def test_bad_rows_name_the_missing_field():
    with pytest.raises(DataError, match="'choices'"):
        get_task("cqa").format_input({"question": "q"})
    with pytest.raises(DataError, match="no label field 'label'"):
        get_task("esnli").gold_label({"premise": "p"})
    with pytest.raises(DataError, match=r"outside 0\.\.2"):
        get_task("esnli").gold_label({"label": 7})


def test_metrics():
    assert set(METRICS.names()) == {"exact_match", "exact_match_casefold", "equation", "number"}
    assert normalize_text("  washington   d.c. ") == "washington d.c"
    exact = get_metric("exact_match")
    assert exact.score("home depot.", "home depot")
    assert not exact.score("Michigan", "michigan")  # case-sensitive, as the reference
    assert get_metric("exact_match_casefold").score("Michigan", "michigan")
    assert not exact.score(None, "x")
    assert exact.accuracy(["a", "b", None, "d"], ["a", "x", "c", "d"]) == 0.5
    assert get_metric("equation").accuracy(["(1 + 1)", "(2 * x)"], ["2.0", "( 2 * 3 )"]) == 0.5
    with pytest.raises(ValueError, match="2 predictions but 1 references"):
        exact.accuracy(["a", "b"], ["a"])
