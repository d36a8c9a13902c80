"""One row per finished run of an experiment folder, in the columns of runs.csv.

    python benchmarks/paper_claims/runs_csv.py ROLE RUNS_DIR... > rows.csv

Each run folder (``LABEL/fracF/seedN`` with a metrics.json) gives task, method, label source,
train fraction, student, seed, steps, lr, test accuracy, test examples, precision, the role
column as given, the commit its run info records and the machine it trained on (its run info's
or its machine.json, `sync_runs.py`'s; "not recorded" for runs saved before either).
"""

import csv
import sys
from pathlib import Path
from typing import Any

from sync_runs import recorded_machine

from stepdistill.models.folder import METRICS_FILE, read_info, read_metrics

COLUMNS = (
    "task",
    "method",
    "label_source",
    "train_fraction",
    "student",
    "seed",
    "steps",
    "lr",
    "test_accuracy",
    "test_examples",
    "precision",
    "role",
    "commit",
    "machine",
)


def resolved_precision(precision: str, torch_version: str) -> str:
    """``auto`` as it resolved: fp32 on a CPU build of torch, bf16 on a CUDA one (the GPU
    variant names its precision, so ``auto`` there is only ever an older folder)."""
    if precision != "auto":
        return precision
    return "fp32" if "+cpu" in torch_version else "bf16"


def machine_name(machine: dict[str, Any] | None) -> str:
    """One cell: ``cpu (family/model, kernels)``."""
    if not machine:
        return "not recorded"
    details = [machine[key] for key in ("cpu_family_model", "cpu_capability") if machine.get(key)]
    return f"{machine['cpu']} ({', '.join(details)})" if details else machine["cpu"]


def run_row(folder: Path, role: str) -> dict[str, Any]:
    metrics, info = read_metrics(folder), read_info(folder).data
    config = info["config"]
    label = folder.parents[1].name  # the recipe's label of the method
    variant = [label] if label != info["method"] else []
    variant += ["shared input"] if config.get("shared_input") else []
    method = info["method"] + (f" ({', '.join(variant)})" if variant else "")
    return {
        "task": info["task"]["name"],
        "method": method,
        "label_source": metrics["label_source"],
        "train_fraction": info["data"]["train_fraction"],
        "student": info["student"]["name"],
        "seed": config["seed"],
        "steps": metrics["steps"],
        "lr": config["learning_rate"],
        "test_accuracy": metrics["test_accuracy"],
        "test_examples": metrics["test_size"],
        "precision": resolved_precision(config["precision"], info["versions"]["torch"]),
        "role": role,
        "commit": (info.get("git_commit") or "")[:7],
        "machine": machine_name(recorded_machine(folder)),
    }


def rows(roots: list[Path], role: str) -> list[dict[str, Any]]:
    """The rows of every finished run under ``roots``, in path order."""
    found = sorted(path.parent for root in roots for path in root.glob(f"**/{METRICS_FILE}"))
    return [run_row(folder, role) for folder in found]


def write(path_or_stream: Any, table: list[dict[str, Any]]) -> None:
    writer = csv.DictWriter(path_or_stream, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(table)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    write(sys.stdout, rows([Path(p) for p in sys.argv[2:]], sys.argv[1]))
