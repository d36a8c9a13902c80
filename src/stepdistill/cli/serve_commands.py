"""``stepdistill predict`` and ``stepdistill serve``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from stepdistill.cli.config_options import add_config_options, config_overrides
from stepdistill.errors import StepdistillError
from stepdistill.serving import QUANTIZATIONS, ServeLimits


def register(subparsers: argparse._SubParsersAction) -> None:
    predict = subparsers.add_parser("predict", help="predict labels for a JSONL file")
    predict.add_argument("--model", required=True, type=Path, help="folder written by train")
    predict.add_argument("--input", required=True, type=Path, help="JSONL: `input` or raw fields")
    predict.add_argument("--output", required=True, type=Path, help="JSONL to write")
    predict.add_argument("--rationale", action="store_true", help="also generate the rationale")
    predict.add_argument(
        "--score-labels", action="store_true", help="closed label sets: score every candidate"
    )
    predict.add_argument("--batch-size", type=int, help="inputs per generation batch")
    predict.add_argument("--overwrite", action="store_true", help="replace an existing output")
    predict.set_defaults(handler=run_predict)

    export = subparsers.add_parser(
        "export", help="export a trained student for CPU deployment (CTranslate2, int8)"
    )
    export.add_argument("--model", required=True, type=Path, help="folder written by train")
    export.add_argument("--output", required=True, type=Path, help="folder to write")
    export.add_argument(
        "--quantization", default="int8", choices=QUANTIZATIONS, help="(default: int8)"
    )
    export.add_argument("--overwrite", action="store_true", help="replace an existing output")
    export.add_argument("--data-dir", help="also report the accuracy change on --split")
    export.add_argument("--split", default="test")
    export.set_defaults(handler=run_export)

    serve = subparsers.add_parser("serve", help="serve a trained student over HTTP")
    serve.add_argument("--model", required=True, type=Path, help="folder written by train")
    serve.add_argument("--host", default="127.0.0.1", help="(default: 127.0.0.1)")
    serve.add_argument("--port", type=port_number, default=8000, help="(default: 8000)")
    serve.add_argument(
        "--api-key-env",
        help="environment variable holding a key that every endpoint but /health requires "
        "(Authorization: Bearer KEY); default: no key",
    )
    fields = add_config_options(serve, [("limits", ServeLimits)])
    serve.set_defaults(handler=run_serve, limit_fields=fields)


def run_predict(args: argparse.Namespace) -> int:
    from stepdistill.data.io import numbered_jsonl, write_jsonl
    from stepdistill.serving import Predictor

    if args.output.exists() and not args.overwrite:
        raise StepdistillError(f"{args.output} exists; pass --overwrite to replace it")
    if not args.input.exists():
        raise FileNotFoundError(f"no such input file: {args.input}")
    numbered = numbered_jsonl(args.input)
    rows = [row for _, row in numbered]
    predictor = Predictor(args.model)
    predictions = predictor.predict(
        rows,
        rationale=args.rationale,
        score_labels=args.score_labels,
        batch_size=args.batch_size,
        progress=True,
    )
    write_jsonl(
        args.output,
        (
            # joined back by the row's own id, else its line number in the input file
            {"id": row.get("id", number), **p.to_dict(rationale=args.rationale)}
            for (number, row), p in zip(numbered, predictions, strict=True)
        ),
    )
    print(f"wrote {len(predictions)} predictions to {args.output}")
    return 0


def run_serve(args: argparse.Namespace) -> int:
    import os

    try:
        from stepdistill.serving import (
            Predictor,
            check_api_key,
            create_app,
            http_address,
            serve,
        )
    except ImportError:  # fastapi or uvicorn missing
        raise StepdistillError("serving needs: pip install 'stepdistill[serve]'") from None

    try:
        limits = ServeLimits(**config_overrides(args, args.limit_fields))
    except ValueError as error:
        raise StepdistillError(str(error)) from None
    api_key = None
    if args.api_key_env:
        api_key = os.environ.get(args.api_key_env)
        if not api_key:
            raise StepdistillError(f"--api-key-env {args.api_key_env}: that variable is not set")
        try:
            check_api_key(api_key)
        except StepdistillError as error:
            raise StepdistillError(f"--api-key-env {args.api_key_env}: {error}") from None
    print(
        f"stepdistill: loading {args.model} to serve at {http_address(args.host, args.port)}",
        file=sys.stderr,
        flush=True,
    )
    app = create_app(Predictor(args.model), limits=limits, api_key=api_key)
    serve(app, host=args.host, port=args.port, model=args.model, limits=limits)
    return 0


def run_export(args: argparse.Namespace) -> int:
    import json

    from stepdistill.data.io import write_json
    from stepdistill.serving import export_ctranslate2

    output = export_ctranslate2(
        args.model, args.output, quantization=args.quantization, overwrite=args.overwrite
    )
    report: dict = {
        "model": str(args.model),
        "export": str(output),
        "quantization": args.quantization,
    }
    if args.data_dir:
        from stepdistill.data.paper import load_paper_task
        from stepdistill.models.folder import read_info
        from stepdistill.serving import load_label_predictor

        original = load_label_predictor(args.model)
        exported = load_label_predictor(output)
        separator = read_info(args.model).input_separator
        examples = load_paper_task(original.task, args.data_dir, sep=separator, teacher=False)[
            args.split
        ]
        before, _ = original.accuracy(examples, progress=True)
        after, _ = exported.accuracy(examples, progress=True)
        report.update(
            split=args.split,
            size=len(examples),
            accuracy_pytorch=before,
            accuracy_exported=after,
            accuracy_change=after - before,
        )
        write_json(output / "export_report.json", report)
    print(json.dumps(report, indent=2))
    return 0


def port_number(text: str) -> int:
    """A TCP port, 1 to 65535 (an argparse type: anything else is a usage error)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 1 to 65535, got {port}")
    return port
