"""Does a rerun of a trained run reproduce it? Compares two trained folders step by step.

    python benchmarks/paper_claims/reproduce.py RERUN ORIGINAL [--output FILE.md]

Reads each folder's metrics.json (logged losses, validation curve, test accuracy),
predictions_test.jsonl and stepdistill.json (commit, and the machine where the folder records
it) and says where the two first part: the first logged step whose loss differs, the first
validation point that differs, how many test predictions agree, and the two test accuracies.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from sync_runs import recorded_machine

from stepdistill.models.folder import read_info, read_metrics, read_test_predictions


@dataclass(frozen=True)
class Run:
    """What a trained folder says about its training and its test predictions."""

    folder: Path
    losses: dict[int, float]
    validation: dict[int, float]
    predictions: dict[str, str]
    test_accuracy: float
    commit: str
    machine: dict | None

    @classmethod
    def read(cls, folder: Path) -> Run:
        metrics = read_metrics(folder)
        info = read_info(folder).data
        return cls(
            folder=folder,
            losses={row["step"]: row["loss"] for row in metrics["loss_history"]},
            validation={row["step"]: row["accuracy"] for row in metrics["validation_curve"]},
            predictions={row["id"]: row["prediction"] for row in read_test_predictions(folder)},
            test_accuracy=metrics["test_accuracy"],
            commit=info.get("git_commit", "unknown"),
            machine=recorded_machine(folder),
        )

    def describe(self) -> str:
        recorded = self.machine or {}
        machine = ", ".join(f"{key} {value}" for key, value in recorded.items()) or "not recorded"
        return f"`{self.folder}` (commit {self.commit[:7]}, machine {machine})"


def first_difference(rerun: dict[int, float], original: dict[int, float]) -> int | None:
    """The first step both logged where the values differ (None: equal at every shared step)."""
    shared = sorted(rerun.keys() & original.keys())
    return next((step for step in shared if rerun[step] != original[step]), None)


def report(rerun: Run, original: Run) -> str:
    """A markdown account of where the rerun follows the original and where it parts."""
    loss_step = first_difference(rerun.losses, original.losses)
    valid_step = first_difference(rerun.validation, original.validation)
    shared_ids = rerun.predictions.keys() & original.predictions.keys()
    agree = sum(rerun.predictions[i] == original.predictions[i] for i in shared_ids)
    identical = loss_step is None and valid_step is None and agree == len(shared_ids)
    if identical and rerun.test_accuracy == original.test_accuracy:
        verdict = "reproduced: every logged loss, validation point and test prediction is equal"
    elif rerun.test_accuracy == original.test_accuracy:
        verdict = "same test accuracy, but the runs part on the way"
    else:
        verdict = "not reproduced: the test accuracies differ"

    def where(step: int | None, values: dict[int, float], other: dict[int, float]) -> str:
        if step is None:
            return f"equal at all {len(values.keys() & other.keys())} shared steps"
        return f"first differs at step {step}: {values[step]!r} vs {other[step]!r}"

    lines = [
        f"- rerun: {rerun.describe()}",
        f"- original: {original.describe()}",
        f"- logged loss: {where(loss_step, rerun.losses, original.losses)}",
        f"- validation accuracy: {where(valid_step, rerun.validation, original.validation)}",
        f"- test predictions: {agree} of {len(shared_ids)} equal",
        f"- test accuracy: {rerun.test_accuracy:.4f} vs {original.test_accuracy:.4f}",
        f"- verdict: **{verdict}**",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rerun", type=Path)
    parser.add_argument("original", type=Path)
    parser.add_argument("--output", type=Path, help="also write the report to this file")
    args = parser.parse_args()
    text = report(Run.read(args.rerun), Run.read(args.original))
    print(text, end="")
    if args.output:
        args.output.write_text(text)


if __name__ == "__main__":
    main()
