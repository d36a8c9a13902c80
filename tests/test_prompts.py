from __future__ import annotations

import json

import pytest

from stepdistill.cli.main import main
from stepdistill.errors import DataError
from stepdistill.prompts import (
    builtin_exemplars,
    few_shot_messages,
    few_shot_text,
    load_exemplars,
    style_for,
    zero_shot_text,
)
from stepdistill.schema import Example
from stepdistill.tasks import TASKS, get_task
from stepdistill.tasks.parsing import parse_completion


@pytest.mark.parametrize("name", TASKS.names())
def test_each_style_writes_answers_its_task_parser_reads(name):
    """The prompts' answer layout and the task's answer pattern agree, exemplar by exemplar."""
    task, style = get_task(name), style_for(name)
    exemplars = builtin_exemplars(task)
    assert len(exemplars) >= 3
    for shot in exemplars:
        answer = style.answer(shot.rationale, shot.label, shot.fields)
        parsed = parse_completion(
            answer + "\n\n" + style.question(shot.fields), task.answer_pattern, task.label_kind
        )
        assert parsed.ok, (answer, parsed.error)
        assert parsed.label == task.label_kind.check(shot.label).label
        assert parsed.rationale == shot.rationale
        if task.label_space:
            assert shot.label in task.label_space


def test_cqa_answers_name_the_letter_and_the_text():
    task = get_task("cqa")
    shot = builtin_exemplars(task)[0]
    assert (
        style_for("cqa")
        .answer(shot.rationale, shot.label, shot.fields)
        .endswith("(b) refrigerator.")
    )
    assert shot.fields["input"].startswith(shot.fields["question"] + "\nAnswer Choices:\n(a) ")


def test_few_shot_zero_shot_and_chat_renderings():
    task, style = get_task("anli1"), style_for("anli1")
    example = Example(
        "x", "p</s>h", "neutral", {"premise": "The sky is blue.", "hypothesis": "It rains."}
    )
    text = few_shot_text(style, builtin_exemplars(task), example)
    assert text.startswith(style.instruction)
    assert text.endswith("Premise: The sky is blue.\nHypothesis: It rains.\nA:")
    assert text.count("So the answer is") == len(builtin_exemplars(task))
    zero = zero_shot_text(style, example)
    assert zero.endswith("A: Let's think step by step.") and "So the answer is" not in zero
    messages = few_shot_messages(style, builtin_exemplars(task), example)
    assert [m["role"] for m in messages[:3]] == ["system", "user", "assistant"]
    assert messages[-1]["role"] == "user" and "The sky is blue." in messages[-1]["content"]


def test_user_exemplar_files(tmp_path):
    task = get_task("svamp")
    path = tmp_path / "shots.jsonl"
    path.write_text(
        json.dumps({"input": "2 and 3?", "rationale": "2 + 3 = 5.", "label": "(2 + 3)"}) + "\n"
    )
    [shot] = load_exemplars(task, path)
    assert shot.fields["input"] == "2 and 3?" and shot.label == "(2 + 3)"
    listed = tmp_path / "shots.json"
    listed.write_text(json.dumps([{"input": "x", "label": "(1)"}]))
    with pytest.raises(DataError, match=r"shots.json:1: exemplar has no 'rationale'"):
        load_exemplars(task, listed)
    with pytest.raises(FileNotFoundError):
        load_exemplars(task, tmp_path / "absent.json")


def test_prompts_show_cli(capsys, paper_dir):
    assert main(["prompts", "show", "--task", "svamp"]) == 0
    shown = capsys.readouterr().out
    assert shown.rstrip().endswith("Q: <input>\nA:") and "The answer is (48 / 6)." in shown
    assert (
        main(
            [
                "prompts",
                "show",
                "--task",
                "esnli",
                "--data-dir",
                str(paper_dir),
                "--split",
                "valid",
                "--chat",
            ]
        )
        == 0
    )
    messages = json.loads(capsys.readouterr().out)
    assert messages[-1]["content"].startswith("Premise: Two women are embracing")
    assert main(["prompts", "show", "--task", "cqa", "--zero-shot"]) == 0
    assert "Let's think step by step." in capsys.readouterr().out
