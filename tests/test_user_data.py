from __future__ import annotations

import csv
import json

import datasets
import pytest

from stepdistill.data import (
    ColumnMap,
    dataset_to_examples,
    examples_to_dataset,
    load_paper_task,
    load_user_examples,
)
from stepdistill.errors import DataError
from stepdistill.schema import Example, TeacherRecord
from stepdistill.tasks import ClosedSet, Equation


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_jsonl_with_column_mapping_and_teacher_columns(tmp_path):
    path = write_jsonl(
        tmp_path / "train.jsonl",
        [
            {
                "q": "2 apples and 3 more?",
                "a": "(2 + 3)",
                "why": "2 + 3 = 5",
                "t": "(2 + 3)",
                "k": "x1",
            },
            {
                "q": "4 pears, 1 eaten?",
                "a": "(4 - 1)",
                "why": "4 - 1",
                "t": "(some - 1)",
                "k": "x2",
            },
            {"q": "no rationale", "a": "(1)", "why": "", "t": "(1)", "k": "x3"},
        ],
    )
    columns = ColumnMap(input="q", label="a", rationale="why", teacher_label="t", id="k")
    examples = load_user_examples(path, columns=columns, label_kind=Equation())
    assert [e.id for e in examples] == ["x1", "x2", "x3"]
    assert examples[0].input == "2 apples and 3 more?" and examples[0].label == "(2 + 3)"
    assert examples[0].teacher.parse_ok and examples[0].teacher.teacher_label == "(2 + 3)"
    assert not examples[1].teacher.parse_ok and examples[1].teacher.teacher_label is None
    assert examples[1].teacher.error.startswith("invalid label")
    assert examples[2].teacher.error == "no rationale"
    assert examples[0].meta == {}


def test_csv_unlabeled_rows_get_numbered_ids(tmp_path):
    path = tmp_path / "unlabeled.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["text", "source"])
        writer.writeheader()
        writer.writerow({"text": "first, with a comma", "source": "web"})
        writer.writerow({"text": "second", "source": "book"})
    examples = load_user_examples(path, columns=ColumnMap(input="text", label=None))
    assert [(e.id, e.input, e.label) for e in examples] == [
        ("unlabeled-0", "first, with a comma", None),
        ("unlabeled-1", "second", None),
    ]
    assert examples[1].meta == {"source": "book"}
    assert all(e.teacher is None for e in examples)


def test_closed_set_teacher_labels_are_canonicalised(tmp_path):
    path = write_jsonl(
        tmp_path / "nli.jsonl", [{"input": "p </s> h", "label": "neutral", "t": "Neutral."}]
    )
    labels = ClosedSet(("entailment", "neutral", "contradiction"))
    [example] = load_user_examples(path, columns=ColumnMap(teacher_label="t"), label_kind=labels)
    assert example.teacher.teacher_label == "neutral"


@pytest.mark.parametrize(
    ("rows", "columns", "message"),
    [
        (
            [{"question": "q", "label": "a"}],
            ColumnMap(),
            r"row 1 has no column 'input' \(mapped as input\); columns present: question, label",
        ),
        ([{"input": "q"}], ColumnMap(), r"row 1 has no column 'label'"),
        ([{"input": "  ", "label": "a"}], ColumnMap(), r"row 1: column 'input' is empty"),
        (
            [{"input": "a", "label": "x", "id": 1}, {"input": "b", "label": "y", "id": 1}],
            ColumnMap(id="id"),
            r"row 2: duplicate id '1'",
        ),
    ],
)
def test_mapping_errors_name_file_row_and_column(tmp_path, rows, columns, message):
    path = write_jsonl(tmp_path / "bad.jsonl", rows)
    with pytest.raises(DataError, match=message) as info:
        load_user_examples(path, columns=columns)
    assert str(path) in str(info.value)


def test_unsupported_and_missing_files(tmp_path):
    (tmp_path / "data.xlsx").write_text("x")
    with pytest.raises(DataError, match=r"unsupported file type '\.xlsx'"):
        load_user_examples(tmp_path / "data.xlsx")
    (tmp_path / "data.parquet").write_text("x")  # parquet is read, and a broken one named
    with pytest.raises(DataError, match=r"data.parquet: not a readable Parquet file"):
        load_user_examples(tmp_path / "data.parquet")
    with pytest.raises(FileNotFoundError, match="no such data file"):
        load_user_examples(tmp_path / "absent.jsonl")


def test_datasets_round_trip_keeps_everything(paper_dir):
    examples = load_paper_task("svamp", paper_dir)["test"]
    dataset = examples_to_dataset(examples)
    assert isinstance(dataset, datasets.Dataset)
    assert len(dataset) == 200
    assert dataset.features["parse_ok"].dtype == "bool"
    back = dataset_to_examples(dataset)
    for before, after in zip(examples, back, strict=True):
        assert (after.id, after.input, after.label, after.meta) == (
            before.id,
            before.input,
            before.label,
            before.meta,
        )
        assert after.teacher.teacher_label == before.teacher.teacher_label
        assert after.teacher.parse_ok == before.teacher.parse_ok
        assert after.teacher.rationale == before.teacher.rationale
        assert after.teacher.teacher == "palm-540b"


def test_any_dataset_with_a_column_map():
    dataset = datasets.Dataset.from_dict({"sentence": ["a", "b"], "gold": ["x", "y"]})
    examples = dataset_to_examples(dataset, columns=ColumnMap(input="sentence", label="gold"))
    assert [(e.input, e.label) for e in examples] == [("a", "x"), ("b", "y")]
    without_teacher = examples_to_dataset(examples)
    assert without_teacher["parse_ok"] == [None, None]
    assert [e.teacher for e in dataset_to_examples(without_teacher)] == [None, None]


def test_atomic_writes_get_the_usual_file_mode(tmp_path):
    import os

    from stepdistill.data.io import write_json

    path = tmp_path / "report.json"
    write_json(path, {"a": 1})
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    assert os.stat(path).st_mode & 0o777 == os.stat(plain).st_mode & 0o777


def test_datasets_round_trip_keeps_a_filtered_record_filtered():
    """Every TeacherRecord field survives: a record a filter set aside stays set aside (before,
    the columns omitted `filtered`, so it came back usable)."""
    record = TeacherRecord(
        "a",
        "3 + 4 = 7.",
        "( 3.0 + 4.0 )",
        True,
        raw="3 + 4 = 7. The answer is ( 3.0 + 4.0 ).",
        teacher="local:smollm2-135m",
        meta={"votes": 2, "prompt": {"version": 1}},
        filtered="agree-with-gold: disagrees with gold label '( 3.0 + 5.0 )'",
    )
    example = Example("a", "Ann has 3 and gets 5.", "( 3.0 + 5.0 )", {"n": 1}, record)
    [back] = dataset_to_examples(examples_to_dataset([example]))
    assert back == example
    assert back.teacher.filtered is not None and not back.teacher.usable
