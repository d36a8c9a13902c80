"""``stepdistill tasks list``."""

from __future__ import annotations

import argparse
import json

from stepdistill.tasks import TASKS


def register(subparsers: argparse._SubParsersAction) -> None:
    tasks = subparsers.add_parser("tasks", help="list the registered tasks")
    commands = tasks.add_subparsers(dest="tasks_command", metavar="SUBCOMMAND", required=True)
    listing = commands.add_parser("list", help="one line per task")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=run_list)


def run_list(args: argparse.Namespace) -> int:
    rows = [
        {
            "name": name,
            "label_kind": TASKS.get(name).label_kind.name,
            "metric": TASKS.get(name).metric_name,
            "description": TASKS.get(name).description,
        }
        for name in TASKS
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            print(
                f"{row['name']:<8} {row['label_kind']:<12} {row['metric']:<12} {row['description']}"
            )
    return 0
