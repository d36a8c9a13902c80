"""Hardening, second round, point 15: every setting is checked where it is declared (finite
numbers, ranges), so that a nonsense value is a one-line error, caught by a dry run as by the
run, never a traceback nor a run that "finishes" with loss 0.0."""

from __future__ import annotations

import json

import pytest

from cli_helpers import one_line_error, train_args
from stepdistill.cli.main import main
from stepdistill.extraction import TeacherSettings
from stepdistill.serving import ServeLimits
from stepdistill.training import RunSettings, StandardConfig, StepByStepConfig
from test_pipeline import make_pipeline
from test_task_files import nli_rows, write_rows


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: StandardConfig(learning_rate=float("nan")), "learning_rate must be a finite"),
        (lambda: StandardConfig(learning_rate=float("inf")), "learning_rate must be a finite"),
        (lambda: StandardConfig(num_epochs=float("nan")), "num_epochs must be a finite"),
        (lambda: StandardConfig(lora_alpha=float("nan")), "lora_alpha must be a finite"),
        (lambda: StandardConfig(lora_alpha=0.0), "lora_alpha must be above 0"),
        (lambda: StepByStepConfig(alpha=float("nan")), "alpha must be a finite"),
        (lambda: RunSettings(train_fraction=float("nan")), "train_fraction must be a finite"),
        (lambda: ServeLimits(request_timeout=float("nan")), "request_timeout must be a finite"),
        (lambda: TeacherSettings(max_cost=float("nan")), "max_cost must be a finite"),
        (lambda: TeacherSettings(price_per_1k_prompt=-1.0), "must not be negative"),
        (lambda: TeacherSettings(temperature=float("inf")), "temperature must be a finite"),
        (lambda: TeacherSettings(top_p=0.0), "top_p must be in"),
    ],
)
def test_nonsense_numbers_are_refused_where_the_setting_is_declared(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("flags", [["--lr", "nan"], ["--lr", "inf"], ["--epochs", "nan"]])
def test_train_refuses_nonfinite_flags_in_one_line(tmp_path, tiny_t5_dir, capsys, flags):
    write_rows(tmp_path / "train.csv", nli_rows(8))
    task = make_pipeline(tmp_path, tiny_t5_dir, None).parent / "task.yaml"
    args = train_args(task, tiny_t5_dir, tmp_path / "out")
    assert main([*args, *flags]) == 2
    assert "must be a finite number" in one_line_error(capsys)
    assert not (tmp_path / "out").exists()


def test_lora_alpha_nan_is_refused(tmp_path, tiny_t5_dir, capsys):
    task = make_pipeline(tmp_path, tiny_t5_dir, None).parent / "task.yaml"
    args = train_args(task, tiny_t5_dir, tmp_path / "out")
    assert main([*args, "--lora-r", "4", "--lora-alpha", "nan"]) == 2
    assert "lora_alpha must be a finite number" in one_line_error(capsys)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("train.settings.learning_rate=.nan", "learning_rate must be a finite number"),
        ("output=", "'output' is empty"),
        ("train.max_valid_examples=abc", "max_valid_examples must be int"),
        ("teacher.max_cost=.nan", "max_cost must be a finite number"),
    ],
)
def test_the_dry_run_catches_what_the_run_would(tmp_path, tiny_t5_dir, capsys, override, message):
    path = make_pipeline(tmp_path, tiny_t5_dir, "http://127.0.0.1:9/v1")
    assert main(["run", str(path), "--dry-run", "--no-calibration", "--set", override]) == 2
    assert message in one_line_error(capsys)
    assert not (tmp_path / "None").exists()


def test_a_truncated_state_file_is_a_one_line_error(tmp_path, tiny_t5_dir, capsys):
    path = make_pipeline(tmp_path, tiny_t5_dir, "http://127.0.0.1:9/v1")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "pipeline.json").write_text(json.dumps({"stages": {}})[:7])
    assert main(["run", str(path), "--dry-run", "--no-calibration"]) == 2
    assert "pipeline.json is not readable JSON" in one_line_error(capsys)


@pytest.mark.parametrize("port", ["70000", "0", "http"])
def test_serve_refuses_a_port_that_is_not_one(tmp_path, capsys, port):
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--model", str(tmp_path), "--port", port])
    assert exit_.value.code == 2
    assert "port" in capsys.readouterr().err
