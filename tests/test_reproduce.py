"""benchmarks/paper_claims/reproduce.py: where a rerun of a trained run parts from it."""

from __future__ import annotations

import importlib

from cli_helpers import REPO_ROOT
from stepdistill.training import make_config
from stepdistill.training.run import train_student
from tiny import arithmetic_task_data

SCRIPTS = REPO_ROOT / "benchmarks" / "paper_claims"


def test_a_rerun_with_the_same_seed_is_reproduced_and_another_seed_is_not(
    tiny_t5_dir, tmp_path, monkeypatch
):
    monkeypatch.syspath_prepend(str(SCRIPTS))
    reproduce = importlib.import_module("reproduce")
    data = arithmetic_task_data()

    def train(folder: str, seed: int):
        config = make_config(
            "standard",
            per_device_batch_size=4,
            max_steps=4,
            eval_steps=2,
            logging_steps=1,
            learning_rate=1e-2,
            max_new_tokens=12,
            seed=seed,
        )
        train_student(
            data=data,
            method="standard",
            config=config,
            student=str(tiny_t5_dir),
            output_dir=tmp_path / folder,
        )
        return reproduce.Run.read(tmp_path / folder)

    original, rerun, other = train("original", 0), train("rerun", 0), train("other", 1)
    assert len(original.losses) == 4 and len(original.predictions) == 6

    same = reproduce.report(rerun, original)
    assert "equal at all 4 shared steps" in same and "6 of 6 equal" in same
    assert "**reproduced:" in same

    parted = reproduce.report(other, original)
    step = reproduce.first_difference(other.losses, original.losses)
    assert step == 1  # another seed shuffles the data and starts apart
    assert f"first differs at step {step}" in parted and "**reproduced:" not in parted
