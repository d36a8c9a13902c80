"""Expected failures of every command are one-line errors with exit 2, never tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_helpers import one_line_error, train_args
from stepdistill.cli.main import main
from test_task_files import nli_rows, task_file, write_rows

# 13: one-line errors, exit 2 ------------------------------------------------------------------


def test_expected_failures_are_one_line_errors(tmp_path, tiny_t5_dir, capsys):
    write_rows(tmp_path / "rows.csv", nli_rows(6))
    task = str(task_file(tmp_path, {"train": "rows.csv"}))
    out = str(tmp_path / "teacher.jsonl")
    extract = ["extract", "--task", task, "--output", out, "--teacher", "openai:x"]
    cases = {
        "max_attempts must be at least 1": [*extract, "--max-attempts", "0"],
        "timeout must be above 0": [*extract, "--timeout", "0"],
        "concurrency must be at least 1": [*extract, "--concurrency", "0"],
        "limit must be at least 1": [*extract, "--limit", "-1"],
        "train fraction must be in (0, 1]": [
            *train_args(Path(task), tiny_t5_dir, tmp_path / "o"),
            "--train-fraction",
            "0",
        ],
        "cannot load": train_args(Path(task), tmp_path / "no-such-student", tmp_path / "o2"),
        "is a folder": [
            *train_args(Path(task), tiny_t5_dir, tmp_path / "o3"),
            "--teacher-file",
            str(tmp_path),
        ],
        "cannot load '": [
            "extract",
            "--task",
            task,
            "--output",
            out,
            "--teacher",
            "local:/no/such",
        ],
    }
    for message, args in cases.items():
        assert main(args) == 2, message
        assert message in one_line_error(capsys), message


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "no rows"),
        ("premise,hypothesis,label\ncaf\xe9,b,0\n".encode("latin-1"), "not UTF-8"),
        (b"premise,hypothesis,label\n" + b'"' + b"x" * 10_000_000 + b'",b,0\n', "field larger"),
    ],
    ids=["empty", "not-utf8", "10MB-field"],
)
def test_bad_data_files_are_one_line_errors(tmp_path, capsys, content, message):
    (tmp_path / "rows.csv").write_bytes(content)
    task = task_file(tmp_path, {"train": "rows.csv"})
    assert main(["data", "inspect", "--task", str(task)]) == 2
    assert message in one_line_error(capsys)


def test_a_csv_with_a_byte_order_mark_reads_its_first_column(tmp_path, capsys):
    text = "premise,hypothesis,label\nA man.,A person.,0\n" * 1
    (tmp_path / "rows.csv").write_bytes("\ufeff".encode() + text.encode())
    task = task_file(tmp_path, {"test": "rows.csv"})
    assert main(["data", "inspect", "--task", str(task), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["splits"]["test"]["size"] == 1


def test_an_empty_jsonl_is_an_error_not_zero_examples(tmp_path):
    from stepdistill.data import load_user_examples
    from stepdistill.errors import DataError

    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(DataError, match="no rows"):
        load_user_examples(tmp_path / "empty.jsonl")


def test_wrong_types_in_data_rows_are_one_line_errors(tmp_path, capsys):
    (tmp_path / "rows.jsonl").write_text(
        json.dumps({"question": "q", "choices": ["a", "b"], "answer": "a"})
        + "\n"
        + json.dumps({"question": "q", "choices": 5, "answer": "a"})
        + "\n"
    )
    (tmp_path / "task.yaml").write_text(
        "data: {test: rows.jsonl}\ninput: '{question} (a) {choices[0]} (b) {choices[1]}'\n"
        "label_column: answer\n"
    )
    assert main(["data", "inspect", "--task", str(tmp_path / "task.yaml")]) == 2
    message = one_line_error(capsys)
    assert "rows.jsonl: row 2: cannot build the input" in message and "wrong type" in message
