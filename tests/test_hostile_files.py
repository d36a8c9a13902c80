"""Hardening, second round, points 11 and 14: files built to hurt (YAML alias bombs, documents
nested past any parser's depth) are one-line errors in a moment and a few megabytes, never a
traceback, a 351 MB error line or a 2 GB stepdistill.json."""

from __future__ import annotations

import json
import time

import pytest

from cli_helpers import one_line_error
from stepdistill.cli.main import main
from test_first_hour import task_file as nli_task_file
from test_task_files import nli_rows

LAUGHS = "".join(
    f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]\n"
    for previous, name in zip("abcdef", "bcdefg", strict=True)
)
BOMB = 'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n' + LAUGHS


def task_file(tmp_path, **changes) -> str:
    """The text of a small NLI task file over a train.csv it writes."""
    codes = {0: "entailment", 1: "neutral", 2: "contradiction"}
    path = nli_task_file(tmp_path, nli_rows(12), **{"name": "nli", "label_map": codes, **changes})
    return path.read_text()


@pytest.mark.parametrize(
    "where",
    [
        lambda text: BOMB + text.replace("name: nli", "name: *g"),
        lambda text: BOMB + text.replace("train: train.csv", "train: {hf: x, config: *g}"),
    ],
    ids=["name", "data.train.config"],
)
def test_an_alias_bomb_is_refused_at_once(tmp_path, capsys, where):
    path = tmp_path / "task.yaml"
    path.write_text(where(task_file(tmp_path)))
    assert len(path.read_bytes()) < 1000
    started = time.perf_counter()
    assert main(["data", "inspect", "--task", str(path)]) == 2
    line = one_line_error(capsys)
    assert "aliases expand to more than 100000 values" in line and len(line) < 500
    assert time.perf_counter() - started < 5


def test_an_alias_bomb_in_a_pipeline_or_a_set_value_is_refused(tmp_path, capsys):
    path = tmp_path / "pipeline.yaml"
    path.write_text(BOMB + "task: svamp\noutput: out\ntrain: {student: s, methods: *g}\n")
    assert main(["run", str(path), "--dry-run"]) == 2
    assert "aliases expand" in one_line_error(capsys)
    path.write_text("task: svamp\noutput: out\ntrain: {student: s, methods: [standard]}\n")
    bomb_value = "[" + BOMB.replace("\n", ", ") + "]"
    assert main(["run", str(path), "--dry-run", "--set", f"x={bomb_value}"]) == 2
    assert "--set x: its aliases expand to more than 100000 values" in one_line_error(capsys)


def test_a_field_of_the_wrong_type_is_named_and_quoted_short(tmp_path, capsys):
    path = tmp_path / "task.yaml"
    text = task_file(tmp_path).replace("train: train.csv", "train: {hf: x, config: [1, 2]}")
    path.write_text(text)
    assert main(["data", "inspect", "--task", str(path)]) == 2
    assert "data.train.config must be a string" in one_line_error(capsys)
    path.write_text(task_file(tmp_path, name=["x" * 10_000]))
    assert main(["data", "inspect", "--task", str(path)]) == 2
    line = one_line_error(capsys)
    assert "'name' must be a non-empty string" in line and len(line) < 500
    path.write_text(task_file(tmp_path, label_kind=["choice"]))
    assert main(["data", "inspect", "--task", str(path)]) == 2
    assert "label_kind ['choice'] is not one of" in one_line_error(capsys)


def test_documents_nested_past_any_depth_are_one_line(tmp_path, capsys):
    deep_yaml = tmp_path / "task.yaml"
    deep_yaml.write_text("name: " + "[" * 20_000 + "]" * 20_000 + "\n")
    assert main(["data", "inspect", "--task", str(deep_yaml)]) == 2
    assert "nested deeper" in one_line_error(capsys)

    for name, text in {
        "train.jsonl": "[" * 100_000 + "]" * 100_000 + "\n",
        "train.json": "[" + "[" * 100_000 + "]" * 100_000 + "]",
    }.items():
        (tmp_path / name).write_text(text)
        path = tmp_path / "deep-task.yaml"
        path.write_text(task_file(tmp_path).replace("train: train.csv", f"train: {name}"))
        assert main(["data", "inspect", "--task", str(path)]) == 2
        assert "nested deeper than Python's JSON reader" in one_line_error(capsys)


def test_a_row_longer_than_the_limit_is_refused_before_tokenizing(tmp_path, tiny_t5_dir, capsys):
    from cli_helpers import train_args

    rows = nli_rows(12)
    rows[5] = {**rows[5], "premise": "x" * 1_200_000}  # a CSV reader refuses such a field itself
    path = tmp_path / "task.yaml"
    path.write_text(task_file(tmp_path).replace("train: train.csv", "train: train.jsonl"))
    (tmp_path / "train.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    started = time.perf_counter()
    assert main(train_args(path, tiny_t5_dir, tmp_path / "out")) == 2
    line = one_line_error(capsys)
    assert "train example nli-train-5: its input is 1200043 characters" in line
    assert "over max_input_chars (1000000)" in line
    assert time.perf_counter() - started < 30 and not (tmp_path / "out").exists()
    # the limit is an option
    (tmp_path / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in nli_rows(12)))
    args = [*train_args(path, tiny_t5_dir, tmp_path / "out"), "--max-input-chars", "10"]
    assert main(args) == 2
    assert "over max_input_chars (10)" in one_line_error(capsys)
