"""benchmarks/paper_claims/curves.py: each cell's losses and validation, the mean over its seeds."""

from __future__ import annotations

import importlib

import pytest

from cli_helpers import REPO_ROOT
from stepdistill.data.io import write_json

SCRIPTS = REPO_ROOT / "benchmarks" / "paper_claims"


@pytest.fixture
def scripts(monkeypatch, tmp_path):
    """curves.py and verdicts.py, reading and writing results under tmp_path."""
    monkeypatch.syspath_prepend(str(SCRIPTS))
    verdicts = importlib.import_module("verdicts")
    curves = importlib.import_module("curves")
    monkeypatch.setattr(verdicts, "RESULTS", tmp_path)
    monkeypatch.setattr(verdicts, "OUTPUT", tmp_path / "paper_claims")
    (tmp_path / "paper_claims").mkdir()
    return verdicts, curves


def write_run(folder, label_losses, rationale_losses, validation):
    """A finished run's metrics.json: losses logged every 10 steps, validation every 30."""
    history = []
    for number, label in enumerate(label_losses):
        point = {"step": 10 * (number + 1), "label_loss": label, "loss": label}
        if rationale_losses:
            point["rationale_loss"] = rationale_losses[number]
        history.append(point)
    curve = [{"step": 30 * (n + 1), "accuracy": a} for n, a in enumerate(validation)]
    write_json(
        folder / "metrics.json",
        {
            "steps": 10 * len(label_losses),
            "loss_history": history,
            "validation_curve": curve,
            "best_validation_accuracy": max(validation),
            "validation_size": 200,
        },
    )


def test_a_cell_is_the_mean_of_its_seeds_over_the_last_100_steps(scripts, tmp_path):
    verdicts, curves = scripts
    prefixes = tmp_path / verdicts.CELLS[verdicts.PREFIXES]
    # 12 logs (120 steps): the table's window is the last 100 steps, logs 3 to 12
    write_run(prefixes / "seed0", [9.0, 9.0] + [1.0] * 10, [5.0] * 2 + [2.0] * 10, [0.5, 0.7, 0.6])
    write_run(prefixes / "seed1", [9.0, 9.0] + [3.0] * 10, [5.0] * 2 + [4.0] * 10, [0.4, 0.5, 0.8])
    standard = tmp_path / verdicts.CELLS[verdicts.ESNLI_25]
    write_run(standard / "seed0", [0.5] * 12, [], [0.6, 0.6, 0.7])

    curves.main()

    row = curves.summary([prefixes / "seed0", prefixes / "seed1"])
    assert row["label_loss"] == pytest.approx(2.0)
    assert row["rationale_loss"] == pytest.approx(3.0)
    assert row["best_validation"] == pytest.approx(0.75)  # (0.7 + 0.8) / 2
    assert row["best_steps"] == [60, 90]
    assert row["last_validation"] == pytest.approx(0.7)  # (0.6 + 0.8) / 2
    page = (tmp_path / "paper_claims" / "curves.md").read_text()
    assert "| e-SNLI prefixes 25% | 2 | 2.0000 | 3.0000 | 0.7500 (60, 90) | 0.7000 | 200 |" in page
    assert "| e-SNLI standard 25% | 1 | 0.5000 | — | 0.7000 (90) | 0.7000 | 200 |" in page
    assert "| e-SNLI shuffled 25% | 0 | waiting |" in page
    assert (tmp_path / "paper_claims" / "curves-esnli-arms.png").stat().st_size > 0
    assert not (tmp_path / "paper_claims" / "curves-svamp.png").exists()  # no SVAMP run yet
