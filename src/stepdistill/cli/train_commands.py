"""``stepdistill train`` and ``stepdistill evaluate``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from stepdistill.cli.config_options import add_config_options, config_overrides
from stepdistill.cli.data_commands import add_task_options, task_source_of
from stepdistill.errors import StepdistillError
from stepdistill.training import METHODS, RunSettings, TrainConfig


def register(subparsers: argparse._SubParsersAction) -> None:
    train = subparsers.add_parser(
        "train",
        help="train a student (step-by-step, standard, single-task)",
        description="Train a student on a task and save it, evaluated, to --output.",
    )
    add_task_options(train)
    train.add_argument(
        "--method",
        default="step-by-step",
        help=f"{', '.join(METHODS.names())} (default: step-by-step)",
    )
    train.add_argument(
        "--student",
        required=True,
        help="preset (smollm2-135m, minilm-encdec), local folder or model name",
    )
    train.add_argument("--output", required=True, type=Path, help="output folder")
    train.set_defaults(
        run_fields=add_config_options(train, [("run settings", RunSettings)]),
        config_fields=add_config_options(train, config_groups()),
        handler=run_train,
    )

    evaluate = subparsers.add_parser("evaluate", help="accuracy of a trained student on a split")
    evaluate.add_argument("--model", required=True, type=Path, help="folder written by train")
    evaluate.add_argument(
        "--data-dir",
        help="reference datasets/ folder of a paper task (default: where the model was trained)",
    )
    evaluate.add_argument("--split", default="test", help="train, valid or test (test)")
    evaluate.add_argument("--predictions", type=Path, help="also write predictions (JSONL) here")
    evaluate.add_argument("--batch-size", type=int, help="generation batch size")
    evaluate.add_argument("--json", action="store_true", help="print the result as JSON")
    evaluate.set_defaults(handler=run_evaluate)


def config_groups() -> list[tuple[str, type]]:
    """The settings every method shares, then each method's own, as option groups."""
    return [("training settings (defaults: the paper's)", TrainConfig)] + [
        (f"{name} settings", METHODS.get(name).config_class) for name in METHODS.names()
    ]


def run_train(args: argparse.Namespace) -> int:
    from stepdistill.training import make_config, train_on_task

    try:
        config = make_config(args.method, **config_overrides(args, args.config_fields))
        run = RunSettings(**config_overrides(args, args.run_fields))
    except ValueError as error:
        raise StepdistillError(str(error)) from None
    result = train_on_task(
        source=task_source_of(args),
        method=args.method,
        config=config,
        student=args.student,
        output_dir=args.output,
        run=run,
    )
    summary = {k: result.metrics.get(k) for k in _SUMMARY_KEYS}
    print(json.dumps({"output": str(result.output_dir), **summary}, indent=2))
    return 0


_SUMMARY_KEYS = (
    "steps",
    "effective_batch_size",
    "best_validation_accuracy",
    "test_accuracy",
    "train_examples_per_second",
)


def run_evaluate(args: argparse.Namespace) -> int:
    from stepdistill.data.io import write_jsonl
    from stepdistill.serving import evaluate_folder

    evaluation = evaluate_folder(
        args.model, split=args.split, data_dir=args.data_dir, batch_size=args.batch_size
    )
    if args.predictions:
        write_jsonl(args.predictions, evaluation.prediction_rows())
    if args.json:
        print(json.dumps(evaluation.to_dict(), indent=2))
        return 0
    print(
        f"{evaluation.task} {args.split}: accuracy {evaluation.accuracy:.4f} on "
        f"{len(evaluation.examples)} examples"
    )
    if evaluation.classes is not None:
        classes = evaluation.classes
        print(
            f"majority class {classes['majority_label']!r}: {classes['majority_accuracy']:.4f}; "
            + classes["versus_majority"]["line"]
        )
    for warning in evaluation.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 0
