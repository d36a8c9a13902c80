from __future__ import annotations

import csv
import json

import pytest

from stepdistill.cli.main import main
from stepdistill.errors import DataError
from stepdistill.experiments import grid, load_recipe


def write_recipe(path, paper_dir, student, **extra):
    import yaml

    recipe = {
        "name": "tiny-grid",
        "task": "svamp",
        "data_dir": str(paper_dir),
        "students": [str(student)],
        "methods": [
            "standard",
            {"method": "step-by-step", "label": "sbs-shared", "settings": {"shared_input": True}},
        ],
        "train_fractions": [0.05, 0.1],
        "seeds": [0, 1],
        "settings": {
            "max_steps": 2,
            "per_device_batch_size": 4,
            "eval_steps": 2,
            "max_new_tokens": 6,
        },
        "max_valid_examples": 4,
        "output": "out",
        **extra,
    }
    path.write_text(yaml.safe_dump(recipe))
    return path


def test_grid_runs_skips_finished_runs_and_reports(paper_dir, tiny_t5_dir, tmp_path, capsys):
    recipe = write_recipe(tmp_path / "r.yaml", paper_dir, tiny_t5_dir)
    assert main(["experiment", str(recipe)]) == 0
    out = tmp_path / "out"
    with open(out / "results.csv") as handle:
        runs = list(csv.DictReader(handle))
    assert len(runs) == 8
    assert {(r["method"], r["train_fraction"], r["seed"]) for r in runs} >= {
        ("sbs-shared", "0.1", "1")
    }
    summary = list(csv.DictReader((out / "summary.csv").read_text().splitlines()))
    assert len(summary) == 4 and all(row["seeds"] == "2" for row in summary)
    table = (out / "summary.md").read_text()
    assert "±" in table and "Teacher (LLM) test accuracy: 0.7400" in table
    assert (out / "accuracy.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    info = json.loads((out / "sbs-shared" / "frac0.1" / "seed1" / "stepdistill.json").read_text())
    assert info["config"]["shared_input"] is True and info["config"]["seed"] == 1
    capsys.readouterr()

    stamp = (out / "standard" / "frac0.05" / "seed0" / "metrics.json").stat().st_mtime
    assert main(["experiment", str(recipe), "--dry-run"]) == 0
    assert capsys.readouterr().out.count("done ") == 8
    assert main(["experiment", str(recipe)]) == 0  # nothing left to train
    assert (out / "standard" / "frac0.05" / "seed0" / "metrics.json").stat().st_mtime == stamp


def test_the_summary_gives_verdicts_of_named_pairs_across_fractions(
    paper_dir, tiny_t5_dir, tmp_path
):
    pair = {
        "treatment": "sbs-shared",
        "baseline": "standard",
        "treatment_fraction": 0.05,
        "baseline_fraction": 0.1,
    }
    recipe = write_recipe(tmp_path / "r.yaml", paper_dir, tiny_t5_dir, seeds=[0], compare=[pair])
    assert main(["experiment", str(recipe)]) == 0
    out = tmp_path / "out"
    report = json.loads((out / "report.json").read_text())
    (verdict,) = report["comparisons"]
    assert verdict["treatment"] == "sbs-shared @ 5%" and verdict["baseline"] == "standard @ 10%"
    assert verdict["seeds"] == 1 and verdict["verdict"] in ("helped", "hurt", "inside the noise")
    table = (out / "summary.md").read_text()
    assert "## Verdicts" in table and verdict["line"] in table
    summary = list(csv.DictReader((out / "summary.csv").read_text().splitlines()))
    for row in summary:
        assert float(row["test_accuracy_low"]) <= float(row["test_accuracy_mean"])
        assert float(row["test_accuracy_mean"]) <= float(row["test_accuracy_high"])


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"compare": [{"treatment": "sbs", "baseline": "standard"}]}, "no method label"),
        (
            {"compare": [{"treatment": "sbs-shared", "baseline": "standard", "base": 1}]},
            "unknown keys",
        ),
        ({"methods": ["standrd"]}, "did you mean 'standard'"),
        ({"colour": "red"}, "unknown keys \\['colour'\\]"),
        ({"settings": {"alpha": 2}}, "standard has no setting alpha"),
        ({"train_fractions": [1.5]}, "train_fractions must be in"),
        ({"seeds": []}, "grid is empty"),
    ],
)
def test_bad_recipes_are_rejected_before_anything_runs(
    paper_dir, tiny_t5_dir, tmp_path, extra, message
):
    recipe = write_recipe(tmp_path / "r.yaml", paper_dir, tiny_t5_dir, **extra)
    with pytest.raises((DataError, ValueError), match=message):
        load_recipe(recipe)
    assert not (tmp_path / "out").exists()


def test_a_recipe_takes_a_task_file(tmp_path):
    from test_task_files import nli_rows, task_file, write_rows

    write_rows(tmp_path / "rows.jsonl", nli_rows())
    task_file(tmp_path, {"train": "rows.jsonl", "test_fraction": 0.2})
    recipe_path = tmp_path / "recipe.yaml"
    recipe_path.write_text(
        "task: task.yaml\nstudents: [tiny]\nmethods: [standard, step-by-step]\n"
        "seeds: [0, 1]\noutput: out\n"
    )
    recipe = load_recipe(recipe_path)
    assert recipe.data_dir is None and recipe.task == str(tmp_path / "task.yaml")
    data = recipe.source().load()
    assert {name: len(examples) for name, examples in data.splits.items()} == {
        "train": 21,
        "valid": 3,
        "test": 6,
    }
    assert len(grid(recipe)) == 4


@pytest.mark.parametrize("label", ["../../x", "/tmp/abs", "a/b", ".hidden"])
def test_method_labels_are_names_not_paths(tmp_path, label):
    recipe_path = tmp_path / "recipe.yaml"
    recipe_path.write_text(
        "task: svamp\ndata_dir: .\nstudents: [tiny]\n"
        f"methods: [{{method: standard, label: '{label}'}}]\noutput: out\n"
    )
    with pytest.raises(DataError, match="must be a plain name"):
        load_recipe(recipe_path)


def test_a_closed_label_set_gets_the_majority_baseline_and_a_confusion_matrix(
    tmp_path, tiny_t5_dir
):
    from test_task_files import LABELS, nli_rows, task_file, write_rows

    write_rows(tmp_path / "rows.jsonl", nli_rows(40))
    task_file(
        tmp_path,
        {"train": "rows.jsonl", "test_fraction": 0.25},
        rationale_column="explanation",
    )
    (tmp_path / "recipe.yaml").write_text(
        f"task: task.yaml\nstudents: [{tiny_t5_dir}]\nmethods: [standard, step-by-step]\n"
        "seeds: [0]\noutput: out\n"
        "settings: {max_steps: 2, per_device_batch_size: 4, eval_steps: 2, max_new_tokens: 6}\n"
    )
    assert main(["experiment", str(tmp_path / "recipe.yaml")]) == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    found = report["classes"]["standard @ 100%"]
    assert found["majority_label"] in LABELS and set(found["confusion"]) == set(LABELS)
    assert sum(sum(row.values()) for row in found["confusion"].values()) == 10  # test rows
    table = (tmp_path / "out" / "summary.md").read_text()
    assert "## Classes" in table and "always answering" in table
    assert all(warning in table for warning in report["warnings"])


def test_method_option_splits_a_grid_between_processes(paper_dir, tmp_path, capsys):
    recipe = write_recipe(tmp_path / "r.yaml", paper_dir, "unused-student")
    assert main(["experiment", str(recipe), "--method", "sbs-shared", "--dry-run"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert len(listed) == 4 and all("/sbs-shared/" in line for line in listed)
    with pytest.raises(DataError, match="no method labelled"):
        load_recipe(recipe).only(["step-by-step"])


def test_seed_option_runs_one_seed_of_a_grid(paper_dir, tmp_path, capsys):
    recipe = write_recipe(tmp_path / "r.yaml", paper_dir, "unused-student")
    command = ["experiment", str(recipe), "--method", "standard", "--seed", "1", "--dry-run"]
    assert main(command) == 0
    listed = capsys.readouterr().out.splitlines()
    assert len(listed) == 2 and all(
        "/standard/" in line and line.endswith("/seed1") for line in listed
    )
    with pytest.raises(DataError, match=r"no seed \[7\]"):
        load_recipe(recipe).only_seeds([7])


def test_a_recipe_trains_from_a_teacher_file_on_every_example_or_the_kept_ones(
    paper_dir, tiny_t5_dir, tmp_path
):
    from stepdistill.data.io import write_jsonl
    from stepdistill.data.task_source import task_source

    examples = task_source("svamp", data_dir=paper_dir).load(sep="\n")["train"]
    records = [example.teacher.to_dict() for example in examples[:40]]  # the rest: none
    write_jsonl(tmp_path / "teacher.jsonl", records)
    kept = {"method": "step-by-step", "label": "kept", "settings": {"rationale_required": True}}
    recipe = write_recipe(
        tmp_path / "r.yaml",
        paper_dir,
        tiny_t5_dir,
        methods=["step-by-step", kept],
        train_fractions=[0.1],
        seeds=[0],
        teacher_file="teacher.jsonl",
    )
    assert main(["experiment", str(recipe)]) == 0
    out = tmp_path / "out"
    every = json.loads((out / "step-by-step/frac0.1/seed0/metrics.json").read_text())
    only = json.loads((out / "kept/frac0.1/seed0/metrics.json").read_text())
    every, only = every["train_examples"], only["train_examples"]
    assert every["used"] > every["rationale"] > 0  # labels of all, rationales of the file's
    assert only["used"] == only["rationale"] == every["rationale"]
    assert only["skipped_no_rationale"] == every["used"] - every["rationale"]
    with pytest.raises(DataError, match="does not exist"):
        load_recipe(write_recipe(tmp_path / "bad.yaml", paper_dir, "s", teacher_file="nope.jsonl"))


def test_a_recipe_caps_the_test_examples_of_a_smoke_run(paper_dir, tiny_t5_dir, tmp_path):
    recipe = write_recipe(
        tmp_path / "r.yaml",
        paper_dir,
        tiny_t5_dir,
        methods=["standard"],
        train_fractions=[0.05],
        seeds=[0],
        max_test_examples=5,
    )
    assert load_recipe(recipe).max_test_examples == 5
    assert main(["experiment", str(recipe)]) == 0
    metrics = json.loads((tmp_path / "out/standard/frac0.05/seed0/metrics.json").read_text())
    assert metrics["test_size"] == 5
