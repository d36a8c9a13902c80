"""Issue 23's original full grid on one GPU, several training processes side by side.

Cells (3 seeds each; standard fine-tuning against step-by-step with shared input, all PaLM
rationales, smollm2-135m, batch 8, lr 1e-4, 600 steps, validation every 30 steps with the best
checkpoint kept, as the CPU grid): SVAMP with gold labels at 25/50/100% of train and with the
teacher's labels at 100% (standard distillation); e-SNLI and ANLI R1 as user tasks
(benchmarks/paper_claims/{esnli,anli1}-task.yaml) at 25/50/100%; CQA at 100%.

    python3 benchmarks/gpu/full_grid.py --dry-run          # the jobs, nothing trained
    python3 benchmarks/gpu/full_grid.py --workers 16       # on the H200 (benchmarks/gpu/README.md)
    python benchmarks/gpu/full_grid.py --smoke --workers 2 # CPU check: 2 steps, 8 test rows

Each job is one `stepdistill experiment RECIPE --method LABEL` (one cell, one seed, one
method); finished runs are skipped, so a second call continues. At the end each cell's
all-seed recipe writes its summary with verdicts, `runs.csv` gets one row per run
(benchmarks/paper_claims/runs_csv.py), and the kept files of every run and the summaries go
into RESULTS/grid.tar.gz (the device tool brings back 8 files at most).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tarfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks" / "paper_claims"))
import runs_csv  # noqa: E402
import sync_runs  # noqa: E402

CLAIMS = ROOT / "benchmarks" / "paper_claims"
METHODS = [
    {"method": "standard"},
    {"method": "step-by-step", "settings": {"shared_input": True}},
]
SETTINGS = {
    "per_device_batch_size": 8,
    "learning_rate": 1.0e-4,
    "max_steps": 600,
    "eval_steps": 30,
    "save_total_limit": 1,
}
SEEDS = (0, 1, 2)


@dataclass(frozen=True)
class Cell:
    name: str
    task: str  # a paper task (read from the data dir) or a task file under CLAIMS
    fractions: tuple[float, ...]
    settings: dict[str, Any] = field(default_factory=dict)
    max_valid_examples: int | None = None
    user_data: str | None = None  # the paper task whose rows the task file reads (make_data.py)

    def source(self, data_dir: Path) -> dict[str, Any]:
        if self.task.endswith(".yaml"):
            return {"task": str(CLAIMS / self.task)}
        return {"task": self.task, "data_dir": str(data_dir)}


CELLS = (
    Cell("svamp-gold", "svamp", (0.25, 0.5, 1.0)),
    Cell("svamp-teacher", "svamp", (1.0,), {"label_source": "teacher"}),
    Cell("esnli", "esnli-task.yaml", (0.25, 0.5, 1.0), max_valid_examples=200, user_data="esnli"),
    Cell("anli1", "anli1-task.yaml", (0.25, 0.5, 1.0), user_data="anli1"),
    Cell("cqa", "cqa", (1.0,), max_valid_examples=200),
)
SUMMARY_FILES = ("summary.md", "summary.csv", "results.csv", "report.json", "accuracy.png")


def recipe(
    cell: Cell,
    seeds: tuple[int, ...],
    fractions: tuple[float, ...],
    args: argparse.Namespace,
    *,
    summary: bool = False,
) -> dict[str, Any]:
    """One job's recipe (one seed, one fraction), or the cell's summary one (every seed and
    fraction: it trains nothing the jobs did, and writes the verdicts)."""
    settings = {**SETTINGS, **cell.settings, "precision": args.precision}
    valid = cell.max_valid_examples
    if args.smoke:
        settings.update(max_steps=2, eval_steps=2)
        valid = 8
    data = {
        "name": cell.name if summary else f"{cell.name}-seed{seeds[0]}-frac{fractions[0]:g}",
        **cell.source(args.data_dir),
        "students": [args.student],
        "methods": METHODS,
        "train_fractions": list(fractions),
        "seeds": list(seeds),
        "settings": settings,
        "output": str(args.output / cell.name),
    }
    if valid:
        data["max_valid_examples"] = valid
    if args.smoke:
        data["max_test_examples"] = 8
    return data


def cells(args: argparse.Namespace) -> list[Cell]:
    return [cell for cell in CELLS if not args.cells or cell.name in args.cells]


def write_recipes(args: argparse.Namespace) -> list[tuple[Path, str, float]]:
    """Every cell's recipes (one per seed and fraction, and the all-seed summary one); the jobs
    (one run each), longest first (step-by-step, more data) so that the pool ends together."""
    folder = args.output / "recipes"
    folder.mkdir(parents=True, exist_ok=True)
    jobs = []
    for cell in cells(args):
        summary = recipe(cell, tuple(args.seeds), cell.fractions, args, summary=True)
        (folder / f"{cell.name}.yaml").write_text(yaml.safe_dump(summary, sort_keys=False))
        for seed in args.seeds:
            for fraction in cell.fractions:
                data = recipe(cell, (seed,), (fraction,), args)
                path = folder / f"{data['name']}.yaml"
                path.write_text(yaml.safe_dump(data, sort_keys=False))
                for entry in METHODS:
                    weight = fraction * (2 if entry["method"] != "standard" else 1)
                    jobs.append((path, entry["method"], weight))
    return sorted(jobs, key=lambda job: -job[2])


def make_user_data(args: argparse.Namespace) -> None:
    for task in [cell.user_data for cell in cells(args) if cell.user_data]:
        if not (ROOT / "runs" / f"{task}-user" / f"{task}_valid_palm.jsonl").is_file():
            script = ROOT / "benchmarks" / "esnli_user_task" / "make_data.py"
            command = [sys.executable, str(script), "--task", task]
            command += ["--data-dir", str(args.data_dir)]
            subprocess.run(command, check=True)


def stepdistill(*args: str) -> list[str]:
    return [sys.executable, "-m", "stepdistill", *args]


def run_job(path: Path, label: str, logs: Path) -> tuple[str, int, float]:
    started = time.perf_counter()
    log = logs / f"{path.stem}-{label}.log"
    with open(log, "w") as handle:
        code = subprocess.run(
            stepdistill("experiment", str(path), "--method", label),
            stdout=handle,
            stderr=subprocess.STDOUT,
        ).returncode
    return f"{path.stem} {label}", code, time.perf_counter() - started


def pack(args: argparse.Namespace) -> None:
    """runs.csv, and the kept files of every run plus each cell's summary, as one archive."""
    args.results.mkdir(parents=True, exist_ok=True)
    roots = [args.output / cell.name for cell in cells(args)]
    with open(args.results / "runs.csv", "w", newline="") as handle:
        runs_csv.write(handle, runs_csv.rows([r for r in roots if r.is_dir()], args.role))
    kept = {*sync_runs.KEPT, *SUMMARY_FILES}
    with tarfile.open(args.results / "grid.tar.gz", "w:gz") as archive:
        for root in roots:
            for path in sorted(root.rglob("*")) if root.is_dir() else []:
                if path.name in kept and "checkpoints" not in path.parts:
                    archive.add(path, arcname=str(path.relative_to(args.output)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    paper = os.environ.get("STEPDISTILL_PAPER_DATA", str(ROOT.parent / "shared/data/paper"))
    parser.add_argument("--data-dir", type=Path, default=Path(paper))
    parser.add_argument("--output", type=Path, default=ROOT / "runs" / "gpu-grid")
    parser.add_argument("--results", type=Path, default=Path(os.environ.get("OUT", "runs/gpu")))
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--student", default="smollm2-135m")
    parser.add_argument("--precision", default="bf16", choices=("bf16", "fp32"))
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    parser.add_argument("--cells", nargs="+", choices=[cell.name for cell in CELLS])
    parser.add_argument("--role", default="gpu-grid")
    parser.add_argument("--smoke", action="store_true", help="2 steps, 8 valid and test rows")
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args()
    if args.smoke:
        args.output, args.role = args.output.with_name("gpu-grid-smoke"), "smoke"
    args.output, args.results = args.output.resolve(), args.results.resolve()
    jobs = write_recipes(args)
    count = len(cells(args))
    print(f"{len(jobs)} jobs ({count} cells, seeds {args.seeds}), {args.workers} at a time")
    if args.dry_run:
        for path, label, _ in jobs:
            subprocess.run(stepdistill("experiment", str(path), "--method", label, "--dry-run"))
        return
    make_user_data(args)
    logs = args.output / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    started, failed = time.perf_counter(), []
    with ThreadPoolExecutor(args.workers) as pool:
        futures = [pool.submit(run_job, path, label, logs) for path, label, _ in jobs]
        for done, future in enumerate(as_completed(futures), 1):
            name, code, seconds = future.result()
            elapsed = time.perf_counter() - started
            print(f"[{done}/{len(jobs)} at {elapsed:.0f} s] {name}: exit {code}, {seconds:.0f} s")
            if code:
                failed.append(name)
    if not failed:  # the summaries would train what a failed job left undone
        for cell in cells(args):
            path = args.output / "recipes" / f"{cell.name}.yaml"
            subprocess.run(stepdistill("experiment", str(path)), check=True)
    pack(args)
    print(f"done in {time.perf_counter() - started:.0f} s; failed: {failed or 'none'}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
