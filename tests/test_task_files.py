"""Task files: a user's own task from YAML and data files, in every command."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml

from stepdistill.cli.main import main
from stepdistill.data.paper import load_paper_task
from stepdistill.data.task_source import load_task_file, task_source
from stepdistill.evaluation import get_metric
from stepdistill.prompts import style_for
from stepdistill.tasks.parsing import parse_completion
from stepdistill.tasks.task_file import parse_task_file

ROOT = Path(__file__).resolve().parent.parent
LABELS = ["entailment", "neutral", "contradiction"]


def nli_rows(n: int = 30) -> list[dict]:
    return [
        {
            "pid": f"p{i}",
            "premise": f"A man rides {i} bikes.",
            "hypothesis": f"A person is riding {i % 3}.",
            "label": i % 3,
            "explanation": f"Riding {i} bikes says nothing about {i % 3}.",
        }
        for i in range(n)
    ]


def write_rows(path: Path, rows: list[dict]) -> Path:
    """The rows in the format the file's suffix names (or a datasets folder for no suffix)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    elif path.suffix == ".json":
        path.write_text(json.dumps(rows))
    elif path.suffix in (".csv", ".tsv"):
        with open(path, "w", newline="") as handle:
            writer = csv.DictWriter(
                handle, fieldnames=list(rows[0]), delimiter="\t" if path.suffix == ".tsv" else ","
            )
            writer.writeheader()
            writer.writerows(rows)
    elif path.suffix == ".parquet":
        import datasets

        datasets.Dataset.from_list(rows).to_parquet(str(path))
    else:  # a save_to_disk folder
        import datasets

        datasets.DatasetDict({"train": datasets.Dataset.from_list(rows)}).save_to_disk(str(path))
    return path


def task_file(folder: Path, data: dict, **keys) -> Path:
    contents = {
        "name": "my-nli",
        "data": data,
        "input": "Premise: {premise}\nHypothesis: {hypothesis}",
        "label_column": "label",
        "label_kind": "choice",
        "labels": LABELS,
        "label_map": {0: "entailment", 1: "neutral", 2: "contradiction"},
        **keys,
    }
    contents = {key: value for key, value in contents.items() if value is not None}
    path = folder / "task.yaml"
    path.write_text(yaml.safe_dump(contents))
    return path


@pytest.mark.parametrize(
    "source",
    [
        "rows.jsonl",
        "rows.json",
        "rows.csv",
        "rows.tsv",
        "rows.parquet",
        {"path": "saved", "split": "train"},
        {"hf": "hub", "split": "train"},  # datasets.load_dataset on a local folder of files
    ],
    ids=["jsonl", "json", "csv", "tsv", "parquet", "save_to_disk", "hf"],
)
def test_every_data_source_gives_the_same_examples(tmp_path, source):
    if isinstance(source, str):
        write_rows(tmp_path / source, nli_rows())
    elif "path" in source:
        write_rows(tmp_path / source["path"], nli_rows())
    else:
        write_rows(tmp_path / "hub" / "train.csv", nli_rows())
        source = {**source, "hf": str(tmp_path / "hub")}
    data = task_source(task_file(tmp_path, {"train": source}, id_column="pid")).load()
    examples = data["train"] + data["valid"]
    assert len(data["valid"]) == 3  # 10% carved, seeded
    by_id = {e.id: e for e in examples}
    # CSV cells are text ("0"), JSON holds numbers (0): label_map matches both
    assert by_id["p4"].label == "neutral" and by_id["p5"].label == "contradiction"
    assert by_id["p4"].input == "Premise: A man rides 4 bikes.\nHypothesis: A person is riding 1."
    assert len(examples) == 30


def test_every_label_kind(tmp_path):
    rows = [
        {"q": "Ann has 3 and gets 4.", "ans": "$1,200 dollars", "expr": "( 3.0 + 4.0 )"},
        {"q": "Bo has 2 and loses 1.", "ans": "3.5 hours", "expr": "( 2.0 - 1.0 )"},
    ]
    write_rows(tmp_path / "rows.jsonl", rows)
    base = {"data": {"test": "rows.jsonl"}, "input_column": "q", "name": "k"}
    for kind, column, expected in (
        ("number", "ans", ["$1,200 dollars", "3.5 hours"]),
        ("equation", "expr", ["( 3.0 + 4.0 )", "( 2.0 - 1.0 )"]),
        ("text", "ans", ["$1,200 dollars", "3.5 hours"]),
    ):
        path = tmp_path / f"{kind}.yaml"
        path.write_text(yaml.safe_dump({**base, "label_kind": kind, "label_column": column}))
        source = task_source(path)
        assert [e.label for e in source.load()["test"]] == expected
        assert source.task.metric_name == {"text": "exact_match"}.get(kind, kind)
    number = get_metric("number")
    assert number.score("1200", "$1,200 dollars") and number.score("3.50", "3.5 hours")
    assert not number.score("12", "$1,200") and not number.score("none", "1")


@pytest.mark.parametrize("kind", ["choice", "text", "number", "equation"])
def test_teacher_prompt_answers_parse_back_for_every_label_kind(kind):
    label = {"choice": "neutral", "text": "a garden", "number": "1200", "equation": "(3 + 4)"}
    contents = {
        "data": {"train": "x.csv"},
        "input_column": "text",
        "label_kind": kind,
        "labels": LABELS if kind == "choice" else None,
    }
    contents = {key: value for key, value in contents.items() if value is not None}
    task = parse_task_file(Path("/tmp/t.yaml"), contents).task
    style = style_for(task)
    completion = style.answer("Because it is so.", label[kind], {"input": "x"})
    parsed = parse_completion(completion, task.answer_pattern, task.label_kind)
    assert parsed.ok and parsed.label == task.label_kind.check(label[kind]).label
    assert task.label_kind.answer_format() in style.instruction


def test_unlabeled_data(tmp_path):
    rows = [{k: v for k, v in row.items() if k != "label"} for row in nli_rows()]
    path = task_file(tmp_path, {"train": "rows.jsonl"}, label_column=None, label_map=None)
    write_rows(tmp_path / "rows.jsonl", rows)
    data = task_source(path).load()
    assert all(e.label is None for e in data["train"])
    assert "unlabeled data" in " ".join(data.notes)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"label_column": "lable"},
            "no column 'lable' (the task file's label_column); columns "
            "present: pid, premise, hypothesis, label, explanation",
        ),
        (
            {"input": "{premis} {hypothesis}"},
            "the input template reads {premis} but there is no column 'premis'",
        ),
        (
            {"labels": ["entailment", "neutral"], "label_map": {0: "entailment", 1: "neutral"}},
            "row 3, column 'label': label 2 is not a key of label_map (0, 1)",
        ),
        (
            {"label_kind": "choise"},
            "label_kind 'choise' is not one of choice, equation, number, text",
        ),
        ({"labels": None, "label_map": None}, "label_kind choice needs 'labels'"),
        ({"colour": "red"}, "unknown keys ['colour']"),
        (
            {"label_map": {0: "yes"}},
            "label_map: 'yes' is not one of entailment, neutral, contradiction",
        ),
        ({"label_column": None}, "label_map needs a label_column"),
        ({"data": {"train": "absent.csv"}}, "no such data file"),
        ({"metric": "f1"}, "metric 'f1' is not one of"),
    ],
)
def test_errors_name_file_key_row_and_column(tmp_path, capsys, change, message):
    write_rows(tmp_path / "rows.jsonl", nli_rows(5))
    contents = {
        "name": "my-nli",
        "data": {"train": "rows.jsonl"},
        "input": "Premise: {premise}\nHypothesis: {hypothesis}",
        "label_column": "label",
        "label_kind": "choice",
        "labels": LABELS,
        "label_map": {0: "entailment", 1: "neutral", 2: "contradiction"},
    }
    contents.update(change)
    contents = {key: value for key, value in contents.items() if value is not None}
    path = tmp_path / "task.yaml"
    path.write_text(yaml.safe_dump(contents))
    assert main(["data", "inspect", "--task", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("stepdistill: error: "), err
    assert message in err, err
    assert "Traceback" not in err


def test_malformed_yaml_and_a_folder_are_one_line_errors(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    assert main(["data", "inspect", "--task", str(bad)]) == 2
    assert "not valid YAML" in capsys.readouterr().err
    (tmp_path / "dir.yaml").mkdir()
    assert main(["data", "inspect", "--task", str(tmp_path / "dir.yaml")]) == 2
    assert "is a folder" in capsys.readouterr().err


def test_paper_tasks_as_task_files_give_the_registered_examples(paper_dir, tmp_path):
    for name in ("cqa", "svamp", "esnli", "anli1"):
        shipped = ROOT / "tasks" / "paper" / f"{name}.yaml"
        text = shipped.read_text().replace("../../../shared/data/paper", str(paper_dir))
        (tmp_path / f"{name}.yaml").write_text(text)
        from_file = load_task_file(tmp_path / f"{name}.yaml")
        from_file_data = task_source(tmp_path / f"{name}.yaml").load()
        registered = load_paper_task(name, paper_dir, teacher=False)
        assert from_file.task.name == name
        assert set(from_file_data.splits) == set(registered.splits)
        for split, examples in registered.splits.items():
            mine = from_file_data[split]
            assert [(e.id, e.input, e.label, e.meta) for e in mine] == [
                (e.id, e.input, e.label, e.meta) for e in examples
            ]


def test_data_inspect_on_the_worked_example(capsys):
    task = ROOT / "examples" / "support-tickets" / "task.yaml"
    assert main(["data", "inspect", "--task", str(task), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {s: v["size"] for s, v in report["splits"].items()} == {
        "train": 216,
        "valid": 24,
        "test": 80,
    }
    assert report["label_space"] == ["refund", "delivery", "account", "bug"]


# --- every command on a task file, with a tiny student ----------------------------------------

TINY = ["--max-steps", "2", "--batch-size", "4", "--eval-steps", "2", "--max-new-tokens", "6"]


def test_train_evaluate_predict_from_a_task_file_with_nothing_repeated(
    tmp_path, tiny_t5_dir, capsys
):
    write_rows(tmp_path / "data" / "train.csv", nli_rows(24))
    write_rows(tmp_path / "data" / "test.jsonl", nli_rows(6))
    path = task_file(
        tmp_path,
        {"train": "data/train.csv", "test": "data/test.jsonl"},
        rationale_column="explanation",
    )
    out = tmp_path / "student"
    args = ["train", "--task", str(path), "--student", str(tiny_t5_dir), "--output", str(out)]
    assert main([*args, "--method", "step-by-step", *TINY]) == 0
    printed = capsys.readouterr().out  # the Trainer's progress logs, then a JSON summary
    trained = json.loads(printed[printed.rindex("\n{") :])
    info = json.loads((out / "stepdistill.json").read_text())
    assert info["data"]["task_file"]["contents"]["name"] == "my-nli"
    assert info["task"]["label_kind"] == {"name": "closed_set", "labels": LABELS}
    # evaluate needs no --task nor --data-dir: the folder knows where its data was
    assert main(["evaluate", "--model", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["accuracy"] == trained["test_accuracy"] and result["size"] == 6
    assert main(["evaluate", "--model", str(out), "--split", "valid", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["size"] == 3
    # a closed label set: the majority class and a verdict against it, on the terminal too
    classes = result["classes"]
    assert classes["majority_label"] in LABELS and 0 < classes["majority_accuracy"] <= 1
    assert set(classes["confusion"]) == set(LABELS)
    assert main(["evaluate", "--model", str(out)]) == 0
    shown = capsys.readouterr()
    assert f"majority class {classes['majority_label']!r}" in shown.out
    assert f"vs always {classes['majority_label']!r}" in shown.out
    assert all(f"warning: {warning}" in shown.err for warning in result["warnings"])
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"premise": "A dog runs.", "hypothesis": "An animal."}) + "\n")
    predictions = tmp_path / "out.jsonl"
    assert (
        main(["predict", "--model", str(out), "--input", str(source), "--output", str(predictions)])
        == 0
    )
    assert "label" in json.loads(predictions.read_text())


def test_unlabeled_task_trains_on_teacher_labels_and_cannot_be_evaluated(
    tmp_path, tiny_llama_dir, capsys
):
    rows = [
        {
            "text": f"{row['premise']} / {row['hypothesis']}",
            "why": row["explanation"],
            "llm": LABELS[row["label"]],
        }
        for row in nli_rows(24)
    ]
    write_rows(tmp_path / "pool.jsonl", rows)
    path = tmp_path / "unlabeled.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "pool",
                "data": {"train": "pool.jsonl", "test_fraction": 0.2},
                "input_column": "text",
                "label_kind": "choice",
                "labels": LABELS,
                "rationale_column": "why",
                "teacher_label_column": "llm",
            }
        )
    )
    out = tmp_path / "student"
    args = ["train", "--task", str(path), "--student", str(tiny_llama_dir), "--output", str(out)]
    assert main([*args, "--method", "standard", *TINY]) == 2  # gold labels: there are none
    assert "no usable training example" in capsys.readouterr().err
    assert main([*args, "--method", "step-by-step", "--label-source", "teacher", *TINY]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    # 24 rows: 5 carved as test, 2 of the rest as validation, 17 trained on
    assert metrics["train_examples"]["used"] == 17 and metrics["test_accuracy"] is None
    assert metrics["test_note"] == "the test split has no labels"
    capsys.readouterr()
    assert main(["evaluate", "--model", str(out)]) == 2
    assert "evaluation needs a labeled split" in capsys.readouterr().err


def test_extract_and_prompts_show_take_a_task_file(tmp_path, capsys):
    from fake_openai import FakeOpenAI

    write_rows(tmp_path / "rows.csv", nli_rows(8))
    path = task_file(tmp_path, {"train": "rows.csv"}, instruction="Decide the relation.")
    assert main(["prompts", "show", "--task", str(path), "--example"]) == 0
    prompt = capsys.readouterr().out
    assert prompt.startswith("Decide the relation. Explain your reasoning briefly")
    assert "Let's think step by step." in prompt  # no exemplars in the file: zero-shot
    with FakeOpenAI(lambda body: "They differ. So the answer is neutral.") as server:
        output = tmp_path / "teacher.jsonl"
        code = main(
            [
                "extract",
                "--task",
                str(path),
                "--teacher",
                "openai:fake",
                "--base-url",
                server.base_url,
                "--output",
                str(output),
                "--json",
            ]
        )
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["examples"] == 7 and report["ok"] == 7  # the valid carve is not the train split
    records = [json.loads(line) for line in output.read_text().splitlines()]
    assert {r["teacher_label"] for r in records} == {"neutral"}
