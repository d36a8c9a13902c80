"""``stepdistill demo``."""

from __future__ import annotations

import argparse
from pathlib import Path

from stepdistill.teacher import DEFAULT_TEACHER


def register(subparsers: argparse._SubParsersAction) -> None:
    demo = subparsers.add_parser(
        "demo",
        help="the whole method offline on a CPU: teacher rationales, two students, a report",
        description="Generate a small arithmetic task, extract rationales with the embedded local "
        "teacher, train a standard and a step-by-step student, and report the comparison.",
    )
    demo.add_argument("--output", type=Path, default=Path("runs/demo"), help="(runs/demo)")
    demo.add_argument(
        "--task", help="a task file or a registered task instead of the generated arithmetic one"
    )
    demo.add_argument("--data-dir", type=Path, help="a paper task's folder (alone: SVAMP)")
    demo.add_argument("--teacher", default=DEFAULT_TEACHER, help="backend:model")
    demo.add_argument("--base-url", help="for an openai:MODEL teacher on a server of yours")
    demo.add_argument("--student", default="smollm2-135m")
    demo.add_argument("--train", type=int, default=64, help="training problems (64)")
    demo.add_argument("--test", type=int, default=48, help="test problems (48)")
    demo.add_argument("--steps", type=int, default=40, help="training steps per student (40)")
    demo.add_argument(
        "--seeds", type=int, nargs="+", help="train each student once per seed (default: once)"
    )
    demo.add_argument("--overwrite", action="store_true", help="replace an existing output")
    demo.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from stepdistill.demo import run_demo

    report = run_demo(
        args.output,
        task=args.task,
        data_dir=args.data_dir,
        teacher=args.teacher,
        student=args.student,
        n_train=args.train,
        n_test=args.test,
        steps=args.steps,
        overwrite=args.overwrite,
        base_url=args.base_url,
        seeds=tuple(args.seeds) if args.seeds else None,
    )
    print((args.output / "report.md").read_text(encoding="utf-8"))
    print(
        f"report: {args.output / 'report.md'} and {args.output / 'report.png'} "
        f"({report['seconds']:.0f} s)"
    )
    return 0
