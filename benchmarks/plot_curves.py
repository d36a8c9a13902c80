"""Validation accuracy against training steps of trained folders (their metrics.json), one line
each: the pilot that fixes the step budget of the CPU protocol.

    .venv/bin/python benchmarks/plot_curves.py --output FIGURE.png LABEL=FOLDER_OR_METRICS [...]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def curve(path: Path) -> list[dict]:
    metrics = path if path.suffix == ".json" else path / "metrics.json"
    return json.loads(metrics.read_text())["validation_curve"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("runs", nargs="+", help="LABEL=PATH")
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--title", default="validation accuracy during training")
    args = parser.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4), dpi=120)
    for run in args.runs:
        label, _, path = run.partition("=")
        points = curve(Path(path))
        axes.plot(
            [p["step"] for p in points],
            [100 * p["accuracy"] for p in points],
            marker=".",
            label=label,
        )
    axes.set_xlabel("optimizer steps (batch 8)")
    axes.set_ylabel("validation accuracy (%)")
    axes.set_title(args.title)
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(args.output)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
