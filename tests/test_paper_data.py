"""Acceptance numbers of the reader on the paper's released data (../shared/data/paper)."""

from __future__ import annotations

import json
import shutil

import datasets
import pytest

from stepdistill.data import inspect_task, load_paper_task
from stepdistill.errors import DataError, MissingSplitError


def teacher(report, split):
    return report["splits"][split]["teacher"]


def test_cqa_sizes_and_palm_accuracy(paper_dir):
    data = load_paper_task("cqa", paper_dir)
    assert {name: len(rows) for name, rows in data.splits.items()} == {
        "train": 8766,
        "valid": 975,
        "test": 1221,
    }
    report = inspect_task(data)
    assert teacher(report, "test")["accuracy"] == pytest.approx(0.7723, abs=5e-5)
    assert teacher(report, "test")["unparsable"] == 0
    # the README's count: 3 unparsable cqa train completions (train + carved valid)
    assert teacher(report, "train")["unparsable"] + teacher(report, "valid")["unparsable"] == 3
    assert report["missing_splits"] == {}
    assert any("carved" in note for note in report["notes"])
    first = data["test"][0]
    assert first.input.startswith(first.meta["question"])
    assert "\nAnswer Choices:\n(a) " in first.input
    assert first.teacher.teacher == "palm-540b"


def test_svamp_sizes_and_equation_accuracy(paper_dir):
    data = load_paper_task("svamp", paper_dir)
    assert [len(data[s]) for s in ("train", "valid", "test")] == [720, 80, 200]
    report = inspect_task(data)
    assert teacher(report, "test")["accuracy"] == pytest.approx(0.740, abs=5e-4)
    # 800 training completions in all. The reference's eval() scores 588 right (73.5%): it
    # also credits answers such as "((29/2) and (30/2))", which Python's `and` turns into the
    # second value. Those are not arithmetic, so the safe evaluator counts 586 (73.25%).
    right = sum(teacher(report, s)["accuracy"] * len(data[s]) for s in ("train", "valid"))
    assert right == pytest.approx(586)
    # the README's unparsable counts (train 13, test 2) plus answers that are no arithmetic
    test_reasons = teacher(report, "test")["unparsable_by_reason"]
    assert test_reasons == {"no answer marker": 2, "invalid label": 5}
    train_reasons = {}
    for split in ("train", "valid"):
        for reason, count in teacher(report, split)["unparsable_by_reason"].items():
            train_reasons[reason] = train_reasons.get(reason, 0) + count
    assert (
        train_reasons["no answer marker"] + train_reasons["no label after the answer marker"] == 13
    )
    assert train_reasons["invalid label"] == 21


@pytest.mark.parametrize(
    ("task", "size", "accuracy", "unparsable"),
    [
        ("esnli", 9842, 0.7317, 4),
        ("anli1", 1000, 0.668, 9),
    ],
)
def test_nli_validation_splits(paper_dir, task, size, accuracy, unparsable):
    data = load_paper_task(task, paper_dir)
    assert list(data.splits) == ["valid"]
    report = inspect_task(data)
    assert report["splits"]["valid"]["size"] == size
    assert teacher(report, "valid")["accuracy"] == pytest.approx(accuracy, abs=5e-5)
    assert teacher(report, "valid")["unparsable"] == unparsable
    assert set(report["missing_splits"]) == {"train", "test"}
    assert report["missing_splits"]["test"].endswith(f"{task}/{task}_test.json")
    with pytest.raises(
        MissingSplitError, match=rf"split 'test' of task '{task}'.*{task}_test.json"
    ):
        data["test"]
    labels = {example.label for example in data["valid"]}
    assert labels == {"entailment", "neutral", "contradiction"}


def test_nli_separator_is_configurable(paper_dir):
    data = load_paper_task("anli1", paper_dir, sep="<eos>")
    example = data["valid"][0]
    assert example.input == example.meta["premise"] + "<eos>" + example.meta["hypothesis"]
    assert example.id == example.meta["uid"]


def test_validation_carve_is_the_reference_split(paper_dir):
    """10% of train, seed 0, drawn exactly as datasets' train_test_split draws it."""
    data = load_paper_task("svamp", paper_dir, teacher=False)
    reference = datasets.load_dataset(
        "json", data_files=str(paper_dir / "svamp" / "svamp_train.json"), split="train"
    ).train_test_split(test_size=0.1, seed=0)
    assert [e.input for e in data["valid"]] == reference["test"]["input"]
    assert [e.input for e in data["train"]] == reference["train"]["input"]


def test_train_fraction_subsamples_train_only(paper_dir):
    full = load_paper_task("svamp", paper_dir)
    half = load_paper_task("svamp", paper_dir, train_fraction=0.5, seed=1)
    again = load_paper_task("svamp", paper_dir, train_fraction=0.5, seed=1)
    other = load_paper_task("svamp", paper_dir, train_fraction=0.5, seed=2)
    assert len(half["train"]) == 360
    assert [e.id for e in half["valid"]] == [e.id for e in full["valid"]]
    assert [e.id for e in half["test"]] == [e.id for e in full["test"]]
    assert [e.id for e in half["train"]] == [e.id for e in again["train"]]
    assert [e.id for e in half["train"]] != [e.id for e in other["train"]]
    assert {e.id for e in half["train"]} <= {e.id for e in full["train"]}
    with pytest.raises(ValueError, match="train fraction must be in"):
        load_paper_task("svamp", paper_dir, train_fraction=1.5)


@pytest.fixture()
def mini_svamp(tmp_path, paper_dir):
    """A copy of the svamp test split laid out as a one-split task."""
    folder = tmp_path / "svamp"
    (folder / "llm").mkdir(parents=True)
    shutil.copy(paper_dir / "svamp" / "svamp_test.json", folder / "svamp_test.json")
    shutil.copy(paper_dir / "svamp" / "llm" / "test_CoT_0.json", folder / "llm" / "test_CoT_0.json")
    return tmp_path


def test_a_split_without_teacher_files_loads_without_teacher(mini_svamp):
    (mini_svamp / "svamp" / "llm" / "test_CoT_0.json").unlink()
    data = load_paper_task("svamp", mini_svamp)
    assert all(example.teacher is None for example in data["test"])
    assert any("no teacher outputs" in note for note in data.notes)
    assert inspect_task(data)["splits"]["test"]["teacher"] is None


def test_teacher_count_mismatch_is_an_error(mini_svamp):
    cot = mini_svamp / "svamp" / "llm" / "test_CoT_0.json"
    cot.write_text(json.dumps(json.loads(cot.read_text())[:-1]))
    with pytest.raises(DataError, match="200 task rows but 199 teacher completions"):
        load_paper_task("svamp", mini_svamp)


def test_malformed_line_names_file_and_line(mini_svamp):
    path = mini_svamp / "svamp" / "svamp_test.json"
    lines = path.read_text().splitlines()
    lines[4] = "{not json"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"svamp_test.json:5: not valid JSON"):
        load_paper_task("svamp", mini_svamp)


def test_no_data_at_all_names_the_expected_files(tmp_path):
    with pytest.raises(MissingSplitError) as info:
        load_paper_task("cqa", tmp_path)
    assert str(tmp_path / "cqa" / "cqa_train.json") in str(info.value)
    assert "--data-dir should be the folder that holds cqa/" in str(info.value)
