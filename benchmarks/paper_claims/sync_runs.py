"""Keep the background queue's finished runs across machines: a run folder's checkpoints are too
big to commit, but what the summaries and verdicts read is small.

    python benchmarks/paper_claims/sync_runs.py save     # runs -> benchmarks/results (commit it)
    python benchmarks/paper_claims/sync_runs.py restore  # benchmarks/results -> runs (runs skip)

The grids are the evidence grid's (runs/cpu/*-grid) and issue 22's SVAMP arm
(runs/partial_rationales/svamp); each worktree of the queue saves and restores its own.

A restored run has its metrics, test predictions and run info, so `stepdistill experiment`
counts it as finished and the summary recipes compare it; only finished runs are saved. A saved
run gets a machine.json: the CPU it was saved on, right after it finished (a run resumed on
another machine trained partly elsewhere: the results page says which).
"""

import json
import platform
import shutil
import sys
from pathlib import Path

from stepdistill.models.folder import INFO_FILE, METRICS_FILE, TEST_PREDICTIONS_FILE, read_info

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results"
# a grid's run folder and where its finished runs are kept
GRIDS = {
    "svamp-grid": (ROOT / "runs/cpu/svamp-grid", RESULTS / "paper_claims/grid/svamp-grid"),
    "esnli-grid": (ROOT / "runs/cpu/esnli-grid", RESULTS / "paper_claims/grid/esnli-grid"),
    "svamp-partial": (ROOT / "runs/partial_rationales/svamp", RESULTS / "partial_rationales/svamp"),
}
KEPT = (TEST_PREDICTIONS_FILE, INFO_FILE, METRICS_FILE)  # metrics last: they mark a finished run
MACHINE_FILE = "machine.json"


def this_machine() -> dict[str, str]:
    """The CPU (model name, and family and model numbers where the name is generic, as on some
    virtual machines) and the vector kernels torch uses on it: a run reproduces bit for bit
    only on the same. The queue's commits predate ``stepdistill.provenance.machine``, which newer
    run folders record in their run info, so the saving script asks for itself."""
    import torch

    cpuinfo, fields = Path("/proc/cpuinfo"), {}
    if cpuinfo.is_file():
        first = cpuinfo.read_text(encoding="utf-8").split("\n\n")[0]  # the first processor's
        fields = dict(
            (key.strip(), value.strip())
            for key, _, value in (line.partition(":") for line in first.splitlines())
        )
    return {
        "cpu": fields.get("model name") or platform.processor() or platform.machine(),
        "cpu_family_model": f"{fields.get('cpu family', '?')}/{fields.get('model', '?')}",
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
    }


def recorded_machine(folder: Path) -> dict[str, str] | None:
    """What a run folder says it trained on: its run info's (newer commits) or machine.json."""
    recorded = read_info(folder).data.get("machine")
    if recorded is None and (folder / MACHINE_FILE).is_file():
        recorded = json.loads((folder / MACHINE_FILE).read_text(encoding="utf-8"))
    return recorded


def copy_finished(source: Path, target: Path, files: tuple[str, ...] = KEPT) -> list[Path]:
    """Copy ``files`` (the kept ones by default) of every finished run under source that target
    lacks, to the same place under target; returns the runs copied, relative to both (none
    where source is missing)."""
    copied = []
    if not source.is_dir():
        return copied
    for metrics in sorted(source.glob(f"**/{METRICS_FILE}")):
        run = metrics.parent.relative_to(source)
        if (target / run / METRICS_FILE).is_file():
            continue
        (target / run).mkdir(parents=True, exist_ok=True)
        for name in files:
            shutil.copy2(metrics.parent / name, target / run / name)
        copied.append(run)
    return copied


def main(direction: str) -> None:
    for grid, pair in GRIDS.items():
        source, target = pair if direction == "save" else pair[::-1]
        for run in copy_finished(source, target):
            if direction == "save":
                (target / run / MACHINE_FILE).write_text(json.dumps(this_machine()) + "\n")
            print(f"{direction}d {grid}/{run}")


if __name__ == "__main__":
    if sys.argv[1:] not in (["save"], ["restore"]):
        sys.exit(__doc__)
    main(sys.argv[1])
