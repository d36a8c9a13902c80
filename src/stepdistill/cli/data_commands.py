"""``stepdistill data inspect``."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from stepdistill.data.inspect import inspect_task
from stepdistill.data.task_source import DATA_DIR_ENV, TaskSource, task_source
from stepdistill.errors import StepdistillError
from stepdistill.tasks import TASKS

TASK_HELP = f"a task file (.yaml) or a registered task ({', '.join(TASKS.names())})"


def add_data_dir_option(
    parser: argparse.ArgumentParser,
    help: str = "folder holding <task>/<task>_<split>.json and <task>/llm/",
) -> None:
    """``--data-dir``, defaulting to ``$STEPDISTILL_DATA_DIR``."""
    parser.add_argument(
        "--data-dir",
        default=os.environ.get(DATA_DIR_ENV),
        help=f"{help} (default: ${DATA_DIR_ENV})",
    )


def add_task_options(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    """``--task`` (a task file or a registered name) and ``--data-dir`` (for registered tasks)."""
    parser.add_argument("--task", required=required, help=TASK_HELP)
    add_data_dir_option(parser, "reference datasets/ folder of a registered task")


def task_source_of(args: argparse.Namespace) -> TaskSource:
    """The task (and where its data is) that ``--task`` and ``--data-dir`` name."""
    return task_source(args.task, data_dir=args.data_dir)


def require_data_dir(args: argparse.Namespace) -> str:
    """The data folder, or a usage error naming the option and the variable."""
    if not args.data_dir:
        raise StepdistillError(f"give --data-dir or set ${DATA_DIR_ENV}")
    return args.data_dir


def register(subparsers: argparse._SubParsersAction) -> None:
    data = subparsers.add_parser("data", help="look at task data and teacher outputs")
    commands = data.add_subparsers(dest="data_command", metavar="SUBCOMMAND", required=True)
    inspect = commands.add_parser(
        "inspect",
        help="split sizes, teacher accuracy, parse failures and examples of a task",
        description="Load a task (a task file, or a registered task from the reference "
        "datasets/ layout) and report on every split.",
    )
    inspect.add_argument("--task", required=True, help=f"{TASK_HELP}, or 'all' registered ones")
    add_data_dir_option(inspect)
    inspect.add_argument("--train-fraction", type=float, default=1.0, help="share of train kept")
    inspect.add_argument("--seed", type=int, default=0, help="seed of the train subsample")
    inspect.add_argument("--examples", type=int, default=2, help="examples shown per split")
    inspect.add_argument("--json", action="store_true", help="print the report as JSON")
    inspect.set_defaults(handler=run_inspect)


def run_inspect(args: argparse.Namespace) -> int:
    names = TASKS.names() if args.task == "all" else [args.task]
    reports = []
    for name in names:
        source = task_source(name, data_dir=args.data_dir)
        data = source.load(train_fraction=args.train_fraction, seed=args.seed)
        reports.append(inspect_task(data, n_examples=args.examples))
    if args.json:
        print(
            json.dumps(reports if args.task == "all" else reports[0], indent=2, ensure_ascii=False)
        )
    else:
        print("\n\n".join(format_report(report) for report in reports))
    return 0


def _label_line(split: str, labels: dict[str, Any]) -> str:
    """One split's gold labels: each class's count, or (open kinds) the distinct count and the
    most common few."""
    if "counts" in labels:
        shown = ", ".join(f"{label} {count}" for label, count in labels["counts"].items())
    else:
        common = ", ".join(f"{label!r} {count}" for label, count in labels["most_common"].items())
        shown = f"{labels['distinct']} distinct; most common: {common or '-'}"
    unlabeled = f"; {labels['unlabeled']} unlabeled" if labels["unlabeled"] else ""
    return f"labels {split:<6} {shown}{unlabeled}"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def format_report(report: dict[str, Any]) -> str:
    """The inspect report as an aligned text table followed by examples."""
    lines = [
        f"task {report['task']}: {report['description']}",
        f"label kind: {report['label_kind']}   metric: {report['metric']}"
        + (f"   labels: {', '.join(report['label_space'])}" if report["label_space"] else ""),
        "",
        f"{'split':<7}{'size':>7}  {'teacher acc':>11}  {'parsed ok':>9}  {'unparsable':>10}"
        "  reasons",
    ]
    for split, info in report["splits"].items():
        teacher = info["teacher"]
        if teacher is None:
            lines.append(f"{split:<7}{info['size']:>7}  {'no teacher outputs':>11}")
            continue
        reasons = ", ".join(f"{k}: {v}" for k, v in teacher["unparsable_by_reason"].items())
        lines.append(
            f"{split:<7}{info['size']:>7}  {_percent(teacher['accuracy']):>11}  "
            f"{teacher['parsed_ok']:>9}  {teacher['unparsable']:>10}  {reasons or '-'}"
        )
    for split, path in report["missing_splits"].items():
        lines.append(f"{split:<7}{'missing':>7}  (expected {path})")
    lines.append("")
    lines.extend(_label_line(split, info["labels"]) for split, info in report["splits"].items())
    for split, shared in report["shared_with_train"].items():
        if shared:
            lines.append(
                f"warning: {shared} of {report['splits'][split]['size']} {split} inputs are in "
                f"train word for word: the {split} score would count what the student memorized "
                "(remove them, or give the task file a group_column to carve splits apart)"
            )
    ignoring_case = {
        split: info["teacher"]["accuracy_ignoring_case"]
        for split, info in report["splits"].items()
        if info["teacher"] and "accuracy_ignoring_case" in info["teacher"]
    }
    if ignoring_case:
        lines.append(
            "teacher acc ignoring case: "
            + ", ".join(f"{split} {_percent(value)}" for split, value in ignoring_case.items())
        )
    lines.extend(f"note: {note}" for note in report["notes"])
    for split, info in report["splits"].items():
        for example in info["examples"]:
            lines.append("")
            lines.append(f"[{split}] {example['id']}")
            lines.append("  input:     " + example["input"].replace("\n", "\n             "))
            lines.append(f"  label:     {example['label']}")
            if "teacher_label" in example:
                lines.append(f"  teacher:   {example['teacher_label']}")
                lines.append("  rationale: " + example["rationale"].replace("\n", " "))
            if "parse_error" in example:
                lines.append(f"  unparsable: {example['parse_error']}")
    return "\n".join(lines)
