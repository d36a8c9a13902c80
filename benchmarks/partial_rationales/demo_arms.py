"""Issue 22 on the demo's task: standard fine-tuning against step-by-step trained on the kept
examples only and on every example, each with the local teacher's rationales of the first ask
and of two-pass rationalization; 3 seeds, the demo's budget (40 steps) for every arm.

    python benchmarks/partial_rationales/demo_arms.py train off        # standard, kept, every
    python benchmarks/partial_rationales/demo_arms.py train two-pass   # kept, every
    python benchmarks/partial_rationales/demo_arms.py summarise        # verdicts -> results

The two ``train`` runs may run at once (one thread each). Each is the demo's own pipeline
(``demo_pipeline``) with the teacher's rationalization mode and the methods changed; runs
resume, finished students are skipped. Output under runs/partial_rationales, results under
benchmarks/results/partial_rationales/.
"""

import dataclasses
import json
import sys
from pathlib import Path

from stepdistill.comparisons import compare_folders, folders_accuracy
from stepdistill.data import write_paper_task
from stepdistill.demo import demo_pipeline, generate_task
from stepdistill.experiments import MethodEntry
from stepdistill.pipeline import PipelineConfig, examples_cell, run_pipeline
from stepdistill.teacher import DEFAULT_TEACHER

ROOT = Path(__file__).resolve().parents[2]
RUNS = ROOT / "runs" / "partial_rationales"
RESULTS = ROOT / "benchmarks" / "results" / "partial_rationales"
SEEDS = (0, 1, 2)
SIZES = {"train": 64, "valid": 16, "test": 48}
SHARED = {"shared_input": True}
ARMS = {
    "standard": MethodEntry("standard", "standard"),
    "kept": MethodEntry("kept", "step-by-step", {**SHARED, "rationale_required": True}),
    "every": MethodEntry("every", "step-by-step", SHARED),
}
TEACHERS = {"off": ("standard", "kept", "every"), "two-pass": ("kept", "every")}


def demo_config(output: Path, data_dir: Path) -> PipelineConfig:
    """The demo's own pipeline, on SVAMP-layout data in ``data_dir``, for every seed."""
    return demo_pipeline(
        output,
        task="svamp",
        data_dir=data_dir,
        teacher=DEFAULT_TEACHER,
        student="smollm2-135m",
        sizes=SIZES,
        steps=40,
        seeds=SEEDS,
    )


def train(rationalization: str) -> None:
    data = RUNS / "data"
    if not data.exists():
        write_paper_task(generate_task(**{f"n_{k}": v for k, v in SIZES.items()}), data)
    base = demo_config(RUNS / rationalization, data)
    teacher = dataclasses.replace(
        base.teacher, rationalization=rationalization, cache=str(RUNS / "teacher.cache.sqlite")
    )
    methods = tuple(ARMS[name] for name in TEACHERS[rationalization])
    train_stage = dataclasses.replace(base.train, methods=methods)
    run_pipeline(dataclasses.replace(base, teacher=teacher, train=train_stage))


def folders(teacher: str, arm: str) -> list[Path]:
    return [RUNS / teacher / arm / f"seed{seed}" for seed in SEEDS]


def summarise() -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    standard = folders("off", "standard")
    sides = {"standard": standard}
    for teacher, arms in TEACHERS.items():
        sides.update(
            {f"{arm} ({teacher})": folders(teacher, arm) for arm in arms if arm != "standard"}
        )
    accuracy = {name: folders_accuracy(paths) for name, paths in sides.items()}
    pairs = [(name, "standard") for name in sides if name != "standard"]
    pairs += [(f"every ({t})", f"kept ({t})") for t in TEACHERS]
    pairs += [("every (two-pass)", "every (off)"), ("kept (two-pass)", "kept (off)")]
    comparisons = [compare_folders(sides[a], sides[b], names=(a, b)) for a, b in pairs]
    extraction = {
        teacher: json.loads((RUNS / teacher / "report.json").read_text())["extract"]
        for teacher in TEACHERS
    }
    examples = {
        name: json.loads((paths[0] / "metrics.json").read_text())["train_examples"]
        for name, paths in sides.items()
    }
    result = {
        "seeds": list(SEEDS),
        "sizes": SIZES,
        "accuracy": {name: list(value) for name, value in accuracy.items()},
        "train_examples": examples,
        "comparisons": [comparison.line() for comparison in comparisons],
        "teacher": {
            teacher: {k: v for k, v in counts.items() if k != "samples"}
            for teacher, counts in extraction.items()
        },
    }
    (RESULTS / "demo_arms.json").write_text(json.dumps(result, indent=2) + "\n")
    rows = [
        f"| {name} | {mean:.4f} [{low:.4f}, {high:.4f}] | {examples_cell(examples[name])} |"
        for name, (mean, low, high) in accuracy.items()
    ]
    lines = [
        "| arm (teacher pass) | test accuracy, 3 seeds x 48 problems [95%] | "
        "training examples (label / rationale) |",
        "|---|---|---|",
        *rows,
        "",
        *[f"- {line}" for line in result["comparisons"]],
    ]
    (RESULTS / "demo_arms.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    if sys.argv[1:2] == ["train"] and sys.argv[2:] and sys.argv[2] in TEACHERS:
        train(sys.argv[2])
    elif sys.argv[1:] == ["summarise"]:
        summarise()
    else:
        sys.exit(__doc__)
