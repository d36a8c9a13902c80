"""``stepdistill self-train``."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    from stepdistill.cli.config_options import add_config_options
    from stepdistill.pipeline import SelfTrainingConfig

    command = subparsers.add_parser(
        "self-train",
        help="bootstrapped self-training of a step-by-step student on unlabeled inputs",
        description="The student pseudo-labels a pool of unlabeled inputs (majority of sampled "
        "labels, a rationale), keeps the confident ones, and is trained again, round after "
        "round, without the teacher. Each round is a trained folder; a stopped run resumes.",
    )
    command.add_argument("--model", required=True, type=Path, help="trained step-by-step folder")
    command.add_argument(
        "--unlabeled",
        required=True,
        help="a split of the model's task (train: the rest of it, what the model did not train "
        "on) or a data file with the task's columns",
    )
    command.add_argument("--output", required=True, type=Path, help="folder of the rounds")
    fields = add_config_options(command, [("self-training settings", SelfTrainingConfig)])
    command.set_defaults(handler=run_self_training_command, self_training_fields=fields)


def run_self_training_command(args: argparse.Namespace) -> int:
    from stepdistill.cli.config_options import config_overrides
    from stepdistill.errors import StepdistillError
    from stepdistill.pipeline import SelfTrainingConfig, run_self_training

    try:
        config = SelfTrainingConfig(**config_overrides(args, args.self_training_fields))
    except ValueError as error:
        raise StepdistillError(str(error)) from None
    result = run_self_training(args.model, args.unlabeled, args.output, config)
    print((args.output / "report.md").read_text(encoding="utf-8"))
    return 0 if result["rounds"] else 1
