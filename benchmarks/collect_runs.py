"""Summarise trained output folders (metrics.json + stepdistill.json) side by side.

    python benchmarks/collect_runs.py --output benchmarks/results/x.json RUN_DIR [RUN_DIR ...]

The first folder is the baseline: the others get ratios of accuracy and examples/s against it.
Folders that share a parent (`all/seed0`, `all/seed1`) are one condition: its test accuracy is
also given as mean ± sample std over them.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path

from stepdistill.models.folder import read_info, read_metrics

KEYS = (
    "method",
    "label_source",
    "steps",
    "effective_batch_size",
    "train_examples",
    "best_validation_accuracy",
    "test_accuracy",
    "test_size",
    "train_examples_per_second",
    "train_seconds_excluding_eval",
)


def spread(values: list[float]) -> dict[str, float | int | None]:
    """Mean and sample standard deviation (None under two values) of ``values``."""
    return {
        "n": len(values),
        "mean": round(statistics.mean(values), 4) if values else None,
        "std": round(statistics.stdev(values), 4) if len(values) > 1 else None,
    }


def summarise(folder: Path) -> dict:
    metrics = read_metrics(folder)
    info = read_info(folder).data
    row = {key: metrics.get(key) for key in KEYS}
    row.update(
        folder=str(folder),
        student=info["student"]["name"],
        task=info["task"]["name"],
        config=info["config"],
        versions=info["versions"],
        git_commit=info.get("git_commit"),
        created=info.get("created"),
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()
    rows = [summarise(folder) for folder in args.runs]
    base = rows[0]
    for row in rows[1:]:
        row["test_accuracy_minus_baseline"] = row["test_accuracy"] - base["test_accuracy"]
        row["examples_per_second_ratio_to_baseline"] = (
            row["train_examples_per_second"] / base["train_examples_per_second"]
        )
    accuracies = defaultdict(list)
    for row in rows:
        accuracies[str(Path(row["folder"]).parent)].append(row["test_accuracy"])
    conditions = {parent: spread(values) for parent, values in accuracies.items()}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {"baseline": base["method"], "runs": rows, "test_accuracy_by_condition": conditions},
            indent=2,
        )
        + "\n"
    )
    for row in rows:
        print(
            f"{row['folder']:<40} {row['method']:<14} test {row['test_accuracy']:.4f}"
            f"  valid {row['best_validation_accuracy']}"
            f"  {row['train_examples_per_second']} examples/s  {row['steps']} steps"
        )
    for parent, stats in conditions.items():
        std = "" if stats["std"] is None else f" ± {stats['std']:.4f}"
        print(f"{parent:<40} test accuracy {stats['mean']:.4f}{std} over {stats['n']} runs")


if __name__ == "__main__":
    main()
