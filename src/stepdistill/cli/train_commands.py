"""``stepdistill train`` and ``stepdistill evaluate``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from stepdistill.cli.data_commands import add_data_dir_option, require_data_dir
from stepdistill.errors import StepdistillError
from stepdistill.tasks import TASKS
from stepdistill.training.methods import METHODS

# CLI option -> config field; only options the user gave are passed on, so a method that has
# no such field (alpha for standard) is told so instead of silently ignoring it.
CONFIG_OPTIONS = {
    "label_source": "label_source",
    "alpha": "alpha",
    "label_prefix": "label_prefix",
    "rationale_prefix": "rationale_prefix",
    "answer_marker": "answer_marker",
    "lr": "learning_rate",
    "batch_size": "per_device_batch_size",
    "grad_accum": "gradient_accumulation_steps",
    "max_steps": "max_steps",
    "epochs": "num_epochs",
    "eval_steps": "eval_steps",
    "eval_batch_size": "eval_batch_size",
    "seed": "seed",
    "max_input_length": "max_input_length",
    "max_target_length": "max_target_length",
    "max_new_tokens": "max_new_tokens",
    "logging_steps": "logging_steps",
    "save_total_limit": "save_total_limit",
    "warmup_steps": "warmup_steps",
    "report_to": "report_to",
    "shared_input": "shared_input",
    "group_by_length": "group_by_length",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    train = subparsers.add_parser(
        "train",
        help="train a student (step-by-step, standard, single-task)",
        description="Train a student on a task and save it, evaluated, to --output.",
    )
    train.add_argument("--task", required=True, help=f"one of {', '.join(TASKS.names())}")
    add_data_dir_option(train, "reference datasets/ folder")
    train.add_argument("--method", default="step-by-step", help=", ".join(METHODS.names()))
    train.add_argument(
        "--student",
        required=True,
        help="preset (smollm2-135m, minilm-encdec), local folder or model name",
    )
    train.add_argument("--output", required=True, type=Path, help="output folder")
    train.add_argument("--train-fraction", type=float, default=1.0, help="share of train used")
    train.add_argument("--data-seed", type=int, default=0, help="seed of the train subsample")
    train.add_argument(
        "--max-valid-examples", type=int, help="validate on the first N validation examples"
    )
    train.add_argument(
        "--teacher-file",
        type=Path,
        help="teacher JSONL from `stepdistill extract`, used in place of the shipped PaLM outputs",
    )
    group = train.add_argument_group("method settings (defaults: the paper's)")
    group.add_argument("--label-source", choices=("gold", "teacher"))
    group.add_argument("--alpha", type=float, help="label-loss weight of step-by-step (0.5)")
    group.add_argument("--label-prefix", help="step-by-step label-task prefix ('predict: ')")
    group.add_argument("--rationale-prefix", help="step-by-step rationale prefix ('explain: ')")
    group.add_argument("--answer-marker", help="single-task text between rationale and label")
    group.add_argument("--lr", type=float, help="learning rate (5e-5)")
    group.add_argument("--batch-size", type=int, help="per-device batch size (64)")
    group.add_argument("--grad-accum", type=int, help="gradient accumulation steps (1)")
    group.add_argument("--max-steps", type=int, help="optimizer steps (10000); 0: use --epochs")
    group.add_argument("--epochs", type=float, help="epochs when --max-steps is 0")
    group.add_argument("--eval-steps", type=int, help="validate every N steps (250)")
    group.add_argument("--eval-batch-size", type=int, help="generation batch size (32)")
    group.add_argument("--seed", type=int, help="training seed (0)")
    group.add_argument("--max-input-length", type=int, help="input tokens kept (1024)")
    group.add_argument("--max-target-length", type=int, help="target tokens kept (256)")
    group.add_argument("--max-new-tokens", type=int, help="tokens generated per prediction")
    group.add_argument("--logging-steps", type=int, help="log every N steps (10)")
    group.add_argument("--save-total-limit", type=int, help="checkpoints kept (2)")
    group.add_argument("--warmup-steps", type=int, help="linear warm-up steps (0)")
    group.add_argument("--report-to", choices=("none", "tensorboard"))
    group.add_argument(
        "--shared-input",
        action="store_const",
        const=True,
        help="step-by-step: task markers on the output side, the input computed once (faster)",
    )
    group.add_argument(
        "--no-group-by-length",
        dest="group_by_length",
        action="store_const",
        const=False,
        help="random batches instead of batches of similar length",
    )
    runs = train.add_mutually_exclusive_group()
    runs.add_argument("--overwrite", action="store_true", help="replace an existing output folder")
    runs.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    train.set_defaults(handler=run_train)

    evaluate = subparsers.add_parser("evaluate", help="accuracy of a trained student on a split")
    evaluate.add_argument("--model", required=True, type=Path, help="folder written by train")
    add_data_dir_option(evaluate, "reference datasets/ folder")
    evaluate.add_argument("--split", default="test", help="train, valid or test (test)")
    evaluate.add_argument("--predictions", type=Path, help="also write predictions (JSONL) here")
    evaluate.add_argument("--batch-size", type=int, help="generation batch size")
    evaluate.add_argument("--json", action="store_true", help="print the result as JSON")
    evaluate.set_defaults(handler=run_evaluate)


def run_train(args: argparse.Namespace) -> int:
    from stepdistill.data.paper import load_paper_task
    from stepdistill.training.methods import make_config
    from stepdistill.training.run import train_student
    from stepdistill.training.students import load_student

    overrides = {
        field: getattr(args, option)
        for option, field in CONFIG_OPTIONS.items()
        if getattr(args, option) is not None
    }
    try:
        config = make_config(args.method, **overrides)
    except ValueError as error:
        raise StepdistillError(str(error)) from None
    data_dir = require_data_dir(args)
    student = load_student(args.student)
    data = load_paper_task(
        args.task,
        data_dir,
        train_fraction=args.train_fraction,
        seed=args.data_seed,
        sep=student.tokenizer.eos_token or "\n",
    )
    if args.teacher_file:
        from stepdistill.extraction import attach_teacher_records, read_teacher_file

        data = attach_teacher_records(data, read_teacher_file(args.teacher_file))
    result = train_student(
        data=data,
        method=args.method,
        config=config,
        student=student,
        output_dir=args.output,
        overwrite=args.overwrite,
        resume=args.resume,
        max_valid_examples=args.max_valid_examples,
        data_info={
            "data_dir": str(data_dir),
            "train_fraction": args.train_fraction,
            "data_seed": args.data_seed,
            "input_separator": student.tokenizer.eos_token or "\n",
            "notes": data.notes,
            "teacher_file": str(args.teacher_file) if args.teacher_file else None,
        },
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
    from stepdistill.data.paper import load_paper_task
    from stepdistill.inference import LabelPredictor, read_info

    info = read_info(args.model)
    predictor = LabelPredictor.from_folder(args.model)
    data_info: dict[str, Any] = info.get("data", {})
    data = load_paper_task(
        predictor.task,
        require_data_dir(args),
        sep=data_info.get("input_separator", "</s>"),
        teacher=False,
    )
    examples = data[args.split]
    if args.batch_size:
        predictor.config.eval_batch_size = args.batch_size
    accuracy, predictions = predictor.accuracy(examples, progress=True)
    if args.predictions:
        write_jsonl(
            args.predictions,
            [
                {"id": e.id, "label": e.label, "prediction": p}
                for e, p in zip(examples, predictions, strict=True)
            ],
        )
    result = {
        "model": str(args.model),
        "task": predictor.task.name,
        "split": args.split,
        "size": len(examples),
        "accuracy": accuracy,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{result['task']} {args.split}: accuracy {accuracy:.4f} on {len(examples)} examples")
    return 0
