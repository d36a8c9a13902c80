"""What a new user meets in the first hour: errors that point at the fix, label distributions,
splits that do not leak."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from stepdistill.cli.main import main
from test_task_files import LABELS, nli_rows, write_rows


def task_file(tmp_path: Path, rows: list[dict], **changes) -> Path:
    write_rows(tmp_path / "train.csv", rows)
    task = {
        "name": "tiny-nli",
        "data": {"train": "train.csv"},
        "input": "Premise: {premise}\nHypothesis: {hypothesis}",
        "label_column": "label",
        "label_kind": "choice",
        "labels": LABELS,
        **changes,
    }
    path = tmp_path / "task.yaml"
    path.write_text(yaml.safe_dump(task))
    return path


def inspect(path: Path, capsys, *extra: str) -> str:
    assert main(["data", "inspect", "--task", str(path), *extra]) == 0
    return capsys.readouterr().out


def test_code_labels_list_the_values_seen_and_suggest_label_map(tmp_path, capsys):
    path = task_file(tmp_path, nli_rows(30))
    assert main(["data", "inspect", "--task", str(path)]) == 2
    error = capsys.readouterr().err
    assert "row 1, column 'label': '0' is not one of entailment, neutral, contradiction" in error
    assert "the column holds '0' (10), '1' (10), '2' (10)" in error
    assert "label_map: {0: entailment, 1: neutral, 2: contradiction}" in error


def test_words_that_are_not_labels_get_no_label_map_hint(tmp_path, capsys):
    rows = [{**row, "label": ["yes", "no", "maybe"][i % 3]} for i, row in enumerate(nli_rows(9))]
    assert main(["data", "inspect", "--task", str(task_file(tmp_path, rows))]) == 2
    error = capsys.readouterr().err
    assert "the column holds 'yes' (3), 'no' (3), 'maybe' (3)" in error
    assert "label_map" not in error


def test_inspect_shows_every_splits_labels_in_the_task_files_words(tmp_path, capsys):
    label_map = {0: "entailment", 1: "neutral", 2: "contradiction"}
    rows = nli_rows(40)[:-3]  # 13 / 12 / 12
    path = task_file(tmp_path, rows, label_map=label_map)
    report = json.loads(inspect(path, capsys, "--json"))
    assert report["label_kind"] == "choice"
    counts = {split: info["labels"]["counts"] for split, info in report["splits"].items()}
    assert set(counts) == {"train", "valid"}
    total = {label: counts["train"][label] + counts["valid"][label] for label in LABELS}
    assert total == {"entailment": 13, "neutral": 12, "contradiction": 12}
    text = inspect(path, capsys)
    assert "label kind: choice" in text and "closed_set" not in text
    assert f"labels train  entailment {counts['train']['entailment']}, neutral" in text


def grouped_rows(groups: int, per_group: int) -> list[dict]:
    """NLI pairs that share their premise, ``per_group`` hypotheses each."""
    return [
        {
            "premise": f"A man rides {g} bikes.",
            "hypothesis": f"A person is riding {h}.",
            "label": LABELS[(g + h) % 3],
        }
        for g in range(groups)
        for h in range(per_group)
    ]


def premises(report_split: list) -> set[str]:
    return {example.meta["premise"] for example in report_split}


@pytest.mark.parametrize("grouped", [True, False])
def test_a_group_column_keeps_each_group_on_one_side_of_carved_splits(tmp_path, grouped):
    from stepdistill.data.task_source import task_source

    changes = {"group_column": "premise"} if grouped else {}
    path = task_file(tmp_path, grouped_rows(20, 3), **changes)
    text = path.read_text().replace("train: train.csv", "train: train.csv\n  test_fraction: 0.2")
    path.write_text(text)
    data = task_source(str(path)).load()
    sides = {split: premises(examples) for split, examples in data.splits.items()}
    assert set(sides) == {"train", "valid", "test"}
    overlaps = sides["train"] & sides["test"] | sides["train"] & sides["valid"]
    if grouped:
        assert overlaps == set()
        assert len(data.splits["test"]) == 12 and len(data.splits["valid"]) == 6
        assert any("whole groups" in note for note in data.notes)
    else:
        assert overlaps  # without it, the same premise lands on both sides


def test_inspect_warns_when_test_inputs_are_in_train(tmp_path, capsys):
    rows = nli_rows(12)
    write_rows(tmp_path / "test.csv", [*rows[:2], *nli_rows(20)[15:]])
    label_map = {0: "entailment", 1: "neutral", 2: "contradiction"}
    path = task_file(tmp_path, rows, label_map=label_map)
    path.write_text(
        path.read_text().replace("train: train.csv", "test: test.csv\n  train: train.csv")
    )
    text = inspect(path, capsys)
    assert "warning: 2 of 7 test inputs are in train word for word" in text
    report = json.loads(inspect(path, capsys, "--json"))
    assert report["shared_with_train"]["test"] == 2


@pytest.fixture
def transformers_logs():
    """Every message the transformers loggers emit during the test (their own handler writes
    to a stream captured at import, which pytest's capture does not see)."""
    import logging

    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    handler = Collect(level=logging.WARNING)
    logger = logging.getLogger("transformers")
    logger.addHandler(handler)
    yield messages
    logger.removeHandler(handler)


def test_a_tied_student_trains_and_predicts_without_warnings_a_user_cannot_act_on(
    paper_dir, tmp_path, transformers_logs
):
    import warnings

    from tiny import tiny_llama

    student = tiny_llama(tmp_path / "tied", tied=True)
    out = tmp_path / "run"
    args = ["train", "--task", "svamp", "--data-dir", str(paper_dir), "--student", str(student)]
    args += ["--output", str(out), "--max-steps", "2", "--eval-steps", "2", "--batch-size", "4"]
    args += ["--max-valid-examples", "4", "--max-test-examples", "4", "--max-new-tokens", "6"]
    rows = tmp_path / "in.jsonl"
    rows.write_text(json.dumps({"input": "Eve has 2 books and gets 3.\nHow many?"}) + "\n")
    predict = ["predict", "--model", str(out), "--input", str(rows), "--rationale"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # the best checkpoint is loaded back at the end
        assert main(args) == 0
        assert main([*predict, "--output", str(tmp_path / "out.jsonl")]) == 0
    logs = "\n".join(transformers_logs)
    assert "lm_head.weight" not in logs and "deprecated" not in logs
    assert [w for w in caught if issubclass(w.category, FutureWarning)] == []


def test_the_local_teachers_prefix_cache_uses_the_current_cache_argument(
    tmp_path, transformers_logs
):
    from stepdistill.teacher import GenerationSettings, TeacherRequest, make_teacher
    from tiny import tiny_llama

    teacher = make_teacher(f"local:{tiny_llama(tmp_path / 'llama')}", batch_size=2)
    shared = "Answer every question with a number. " * 4
    settings = GenerationSettings(max_tokens=4)
    requests = [
        TeacherRequest.chat([{"role": "user", "content": shared + q}], settings)
        for q in ("Q: 1 + 2?", "Q: 3 + 4?")
    ]

    async def both():
        import asyncio

        return await asyncio.gather(*(teacher.complete(r) for r in requests))

    import asyncio

    answers = asyncio.run(both())
    assert all(answer.ok for answer in answers)
    assert teacher._prefix  # the shared prefix was cached and continued from
    assert not [message for message in transformers_logs if "deprecated" in message]
