"""Summarise self-training runs of several seeds: per round, test accuracy, pool kept and
pseudo-label accuracy, each seed and the mean ± sample std over seeds.

    python benchmarks/summarize_self_training.py --output OUT/summary.json OUT/seed*/base [...]

Each argument is a `stepdistill self-train` output folder (its `self_training.json`); folders are
grouped by their name (`base`, `previous`), so one call summarises both ways of initialising.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from collect_runs import spread

from stepdistill.data.io import read_json

ROUND_KEYS = ("test_accuracy", "train_examples", "kept", "pseudo_label_accuracy")


def summarise(folders: list[Path]) -> dict[str, dict]:
    """Per group (folder name) and round: every seed's values and their spread."""
    groups: dict[str, dict[int, dict[str, list]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list))
    )
    for folder in folders:
        result = read_json(folder / "self_training.json", "self-training result")
        for row in result["rounds"]:
            for key in ROUND_KEYS:
                if row.get(key) is not None:
                    groups[folder.name][row["round"]][key].append(row[key])
    return {
        group: {
            str(number): {key: {"values": got, **spread(got)} for key, got in keys.items()}
            for number, keys in sorted(rounds.items())
        }
        for group, rounds in groups.items()
    }


def table(summary: dict[str, dict]) -> str:
    """A markdown table of ``summarise``'s result."""

    def cell(stats: dict | None) -> str:
        if not stats or stats["mean"] is None:
            return "-"
        std = "" if stats["std"] is None else f" ± {stats['std']:.2g}"
        return f"{stats['mean']:.4g}{std} (n={stats['n']})"

    lines = [
        "| init | round | test accuracy | training examples | kept | pseudo-label accuracy |",
        "|---|---|---|---|---|---|",
    ]
    for group, rounds in summary.items():
        for number, keys in rounds.items():
            cells = " | ".join(cell(keys.get(key)) for key in ROUND_KEYS)
            lines.append(f"| {group} | {number} | {cells} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()
    summary = summarise(args.runs)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(summary, indent=2) + "\n")
    print(table(summary))


if __name__ == "__main__":
    main()
