"""The pre-registered comparisons of the background queue, from the runs saved so far: each cell's
test accuracy with its interval, and each comparison's difference, interval, McNemar p and
verdict, by the comparison code (`stepdistill compare`), over the seeds both sides have, and
for closed label sets the same per gold class (`stepdistill compare --by-class`).

    python benchmarks/paper_claims/verdicts.py   # writes verdicts.md and verdicts.json here

A comparison with fewer than the 3 pre-registered seeds says how many it has; one with none is
listed as waiting. The cells are the evidence grid's (issue 23), issue 27's e-SNLI arms and
issue 22's SVAMP arm, read from benchmarks/results/ (where `sync_runs.py save` keeps them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stepdistill.comparisons import compare_folders, folders_accuracy, read_paired
from stepdistill.models.folder import has_metrics

RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results"
OUTPUT = RESULTS / "paper_claims"
SEEDS = (0, 1, 2)
GRID = "paper_claims/grid"

# the cells' names
SVAMP, SVAMP_SBS = "SVAMP standard", "SVAMP step-by-step (shared input)"
ESNLI, ESNLI_SBS = "e-SNLI standard 100%", "e-SNLI step-by-step (shared input) 100%"
ESNLI_25, ESNLI_SBS_25 = "e-SNLI standard 25%", "e-SNLI step-by-step (shared input) 25%"
PREFIXES, ALPHA, SHUFFLED = "e-SNLI prefixes 25%", "e-SNLI alpha 0.8 25%", "e-SNLI shuffled 25%"
KEPT, EVERY = "SVAMP filtered, kept only", "SVAMP filtered, every example"
# each cell's runs (one seed<N> folder a seed) under benchmarks/results
CELLS = {
    SVAMP: f"{GRID}/svamp-grid/standard/frac1",
    SVAMP_SBS: f"{GRID}/svamp-grid/step-by-step/frac1",
    ESNLI: f"{GRID}/esnli-grid/standard/frac1",
    ESNLI_SBS: f"{GRID}/esnli-grid/step-by-step/frac1",
    ESNLI_25: f"{GRID}/esnli-grid/standard/frac0.25",
    ESNLI_SBS_25: f"{GRID}/esnli-grid/step-by-step/frac0.25",
    PREFIXES: f"{GRID}/esnli-grid/prefixes/frac0.25",
    ALPHA: f"{GRID}/esnli-grid/shared-alpha0.8/frac0.25",
    SHUFFLED: f"{GRID}/esnli-grid/shuffled/frac0.25",
    KEPT: "partial_rationales/svamp/kept/frac1",
    EVERY: "partial_rationales/svamp/every/frac1",
}


@dataclass(frozen=True)
class Claim:
    issue: str
    figure: str  # the picture it is drawn in (verdicts-<figure>.png)
    treatment: str
    baseline: str
    paper: str = ""  # the paper's T5-Base numbers where it reports this comparison


CLAIMS = (
    Claim("23", "svamp-grid", SVAMP_SBS, SVAMP, "65.50 vs 62.63: +2.9"),
    Claim("23", "esnli-grid", ESNLI_SBS, ESNLI, "89.51 vs 88.38: +1.1"),
    Claim("23", "esnli-grid", ESNLI_SBS_25, ESNLI),
    Claim("23, 27", "esnli-grid", ESNLI_SBS_25, ESNLI_25),
    Claim("27", "esnli-arms", PREFIXES, ESNLI_25),
    Claim("27", "esnli-arms", ALPHA, ESNLI_25),
    Claim("27", "esnli-arms", SHUFFLED, ESNLI_25),
    Claim("27", "esnli-arms", ESNLI_SBS_25, PREFIXES),
    Claim("27", "esnli-arms", ESNLI_SBS_25, SHUFFLED),
    Claim("22", "svamp-partial", KEPT, SVAMP),
    Claim("22", "svamp-partial", EVERY, SVAMP),
    Claim("22", "svamp-partial", EVERY, KEPT),
)


def finished(cell: str) -> dict[int, Path]:
    """The cell's finished runs by seed."""
    folder = RESULTS / CELLS[cell]
    return {seed: folder / f"seed{seed}" for seed in SEEDS if has_metrics(folder / f"seed{seed}")}


def cell_rows() -> list[dict[str, Any]]:
    rows = []
    for cell in CELLS:
        runs = finished(cell)
        row: dict[str, Any] = {"cell": cell, "seeds": sorted(runs)}
        if runs:
            mean, low, high = folders_accuracy(list(runs.values()))
            row.update(accuracy=mean, interval=[low, high])
        rows.append(row)
    return rows


def claim_rows() -> list[dict[str, Any]]:
    rows = []
    for claim in CLAIMS:
        ours, theirs = finished(claim.treatment), finished(claim.baseline)
        seeds = sorted(set(ours) & set(theirs))
        row: dict[str, Any] = {
            "issue": claim.issue,
            "treatment": claim.treatment,
            "baseline": claim.baseline,
            "paper": claim.paper,
            "seeds": seeds,
        }
        if seeds:
            paired = read_paired(
                [ours[seed] for seed in seeds],
                [theirs[seed] for seed in seeds],
                names=(claim.treatment, claim.baseline),
            )
            row["comparison"] = paired.compare().to_dict()
            row["by_class"] = {label: each.to_dict() for label, each in paired.by_class().items()}
        rows.append(row)
    return rows


def figures(claims: list[dict[str, Any]]) -> list[Path]:
    """One picture per figure of the claims that have seeds: its cells' accuracies and its
    comparisons (``stepdistill.comparisons.plot_verdicts``), all over the seeds that every cell
    drawn has, so that the bars and the differences are of the same runs."""
    from stepdistill.comparisons import plot_verdicts

    written = []
    for figure in dict.fromkeys(claim.figure for claim in CLAIMS):
        drawn = [
            claim
            for claim, row in zip(CLAIMS, claims, strict=True)
            if claim.figure == figure and row["seeds"]
        ]
        cells = list(dict.fromkeys(name for c in drawn for name in (c.treatment, c.baseline)))
        runs = {name: finished(name) for name in cells}
        seeds = sorted(set.intersection(*(set(runs[name]) for name in cells))) if cells else []
        if not seeds:
            continue
        accuracies = {
            name: folders_accuracy([runs[name][seed] for seed in seeds]) for name in cells
        }
        comparisons = [
            compare_folders(
                [runs[claim.treatment][seed] for seed in seeds],
                [runs[claim.baseline][seed] for seed in seeds],
                names=(claim.treatment, claim.baseline),
            )
            for claim in drawn
        ]
        title = f"{figure}, seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))}"
        written.append(
            plot_verdicts(accuracies, comparisons, title, OUTPUT / f"verdicts-{figure}.png")
        )
    return written


def markdown(cells: list[dict[str, Any]], claims: list[dict[str, Any]]) -> str:
    lines = [
        "# The queue's comparisons so far (written by `benchmarks/paper_claims/verdicts.py`)",
        "",
        f"Pre-registered: {len(SEEDS)} seeds a cell. Intervals are 95%, over test examples and "
        "seeds (a two-level bootstrap); the verdict is the interval's, by the comparison code.",
        "",
        "| cell | seeds done | test accuracy [95%] |",
        "|---|---|---|",
    ]
    for row in cells:
        if row["seeds"]:
            low, high = row["interval"]
            value = f"{row['accuracy']:.4f} [{low:.4f}, {high:.4f}]"
        else:
            value = "waiting"
        lines.append(f"| {row['cell']} | {len(row['seeds'])} of {len(SEEDS)} | {value} |")
    lines += ["", "| issue | comparison | seeds | result | paper (T5-Base) |"]
    lines += ["|---|---|---|---|---|"]
    for row in claims:
        result = row["comparison"]["line"].split(": ", 1)[1] if row["seeds"] else "waiting"
        name = f"{row['treatment']} vs {row['baseline']}"
        seeds = f"{len(row['seeds'])} of {len(SEEDS)}"
        lines.append(f"| {row['issue']} | {name} | {seeds} | {result} | {row['paper'] or '—'} |")
    by_class = [row for row in claims if row.get("by_class")]
    if by_class:
        lines += [
            "",
            "Per gold class (`stepdistill compare --by-class`: each class's test examples alone, "
            "so wider intervals):",
        ]
        lines += ["", "| comparison | seeds | gold class | result |", "|---|---|---|---|"]
        for row in by_class:
            name = f"{row['treatment']} vs {row['baseline']}"
            for label, each in row["by_class"].items():
                result = each["line"].split(": ", 1)[1]
                lines.append(f"| {name} | {len(row['seeds'])} | {label} | {result} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    cells, claims = cell_rows(), claim_rows()
    (OUTPUT / "verdicts.json").write_text(
        json.dumps({"cells": cells, "claims": claims}, indent=2) + "\n", encoding="utf-8"
    )
    text = markdown(cells, claims)
    (OUTPUT / "verdicts.md").write_text(text, encoding="utf-8")
    print(text, end="")
    for path in figures(claims):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
