"""``stepdistill run PIPELINE.yaml``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    run = subparsers.add_parser(
        "run",
        help="the whole method from one pipeline file: teacher, filters, students, export",
        description="Run a pipeline file's stages (teacher extraction, training and test "
        "evaluation of every method, export), skipping what is complete, so that the same "
        "command resumes a run that was stopped.",
    )
    run.add_argument("pipeline", type=Path, help="pipeline YAML (see docs/tasks.md)")
    run.add_argument("--output", type=Path, help="override the pipeline's output folder")
    run.add_argument("--max-cost", type=float, help="override teacher.max_cost")
    run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a setting, e.g. --set train.student=smollm2-135m (repeatable)",
    )
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="print the plan: the teacher's requests and cost ceiling, each student's examples, "
        "and each stage's estimated duration on this machine (from earlier runs' records, else "
        "from a few timed steps)",
    )
    run.add_argument(
        "--no-calibration",
        action="store_true",
        help="with --dry-run: estimate only from earlier runs' records (time no steps)",
    )
    run.set_defaults(handler=run_command)


def run_command(args: argparse.Namespace) -> int:
    from stepdistill.pipeline import load_pipeline, plan, run_pipeline
    from stepdistill.throughput import Estimate

    overrides = list(args.set)
    if args.max_cost is not None:
        overrides.append(f"teacher.max_cost={args.max_cost}")
    config = load_pipeline(args.pipeline, output=args.output, overrides=overrides)
    if args.dry_run:
        found = plan(config, may_calibrate=not args.no_calibration)
        print(json.dumps(found, indent=2))
        duration = Estimate.from_dict(found["duration"]).line()
        print(f"estimated duration: {duration}", file=sys.stderr)
        return 0
    report = run_pipeline(config)
    print(Path(report["files"]["markdown"]).read_text(encoding="utf-8"))
    return 0
