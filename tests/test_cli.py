from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from stepdistill.cli.main import main

CLI = shutil.which("stepdistill", path=str(Path(sys.executable).parent))


def run_cli(*args):
    """The installed console script, end to end, as a user runs it."""
    assert CLI, "the stepdistill console script is not installed next to this Python"
    return subprocess.run([CLI, *map(str, args)], capture_output=True, text=True, timeout=120)


def test_inspect_cqa_table(paper_dir):
    result = run_cli("data", "inspect", "--task", "cqa", "--data-dir", paper_dir)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    test_row = next(line for line in lines if line.startswith("test "))
    assert test_row.split()[:3] == ["test", "1221", "0.7723"]
    assert next(line for line in lines if line.startswith("train ")).split()[1] == "8766"
    assert "no label after the answer marker: 3" in result.stdout
    assert "[test]" in result.stdout and "rationale:" in result.stdout


def test_inspect_json_reports_missing_splits_by_name(paper_dir, capsys):
    assert main(["data", "inspect", "--task", "esnli", "--data-dir", str(paper_dir), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["splits"]["valid"]["size"] == 9842
    assert report["splits"]["valid"]["teacher"]["accuracy"] == pytest.approx(0.7317, abs=5e-5)
    assert sorted(report["missing_splits"]) == ["test", "train"]


def test_inspect_all_tasks(paper_dir, capsys):
    assert main(["data", "inspect", "--task", "all", "--data-dir", str(paper_dir), "--json"]) == 0
    reports = json.loads(capsys.readouterr().out)
    assert [r["task"] for r in reports] == ["anli1", "cqa", "esnli", "svamp"]
    svamp = reports[3]
    assert svamp["splits"]["test"]["teacher"]["accuracy"] == pytest.approx(0.74)


def test_inspect_train_fraction(paper_dir, capsys):
    args = ["data", "inspect", "--task", "svamp", "--data-dir", str(paper_dir), "--json"]
    assert main([*args, "--train-fraction", "0.25", "--seed", "3"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["splits"]["train"]["size"] == 180
    assert report["splits"]["valid"]["size"] == 80


def test_unknown_task_is_a_clear_error_not_a_traceback(paper_dir):
    result = run_cli("data", "inspect", "--task", "cqaa", "--data-dir", paper_dir)
    assert result.returncode == 2
    assert "did you mean 'cqa'?" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_data_is_a_clear_error(tmp_path):
    result = run_cli("data", "inspect", "--task", "svamp", "--data-dir", tmp_path)
    assert result.returncode == 2
    assert str(tmp_path / "svamp" / "svamp_test.json") in result.stderr
    assert "Traceback" not in result.stderr


def test_data_dir_from_environment(paper_dir, monkeypatch, capsys):
    monkeypatch.setenv("STEPDISTILL_DATA_DIR", str(paper_dir))
    assert main(["data", "inspect", "--task", "anli1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["splits"]["valid"]["size"] == 1000


def test_tasks_list_and_version():
    result = run_cli("tasks", "list")
    assert result.returncode == 0
    assert [line.split()[0] for line in result.stdout.splitlines()] == [
        "anli1",
        "cqa",
        "esnli",
        "svamp",
    ]
    version = run_cli("--version")
    assert version.stdout.startswith("stepdistill ")


def test_export_without_ctranslate2_is_a_one_line_hint(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "stepdistill.json").write_text("{}")
    monkeypatch.setitem(sys.modules, "ctranslate2", None)  # import ctranslate2 -> ImportError
    assert main(["export", "--model", str(folder), "--output", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.strip() == (
        "stepdistill: error: export needs CTranslate2: pip install 'stepdistill[export]'"
    )
