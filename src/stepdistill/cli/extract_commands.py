"""``stepdistill extract`` and ``stepdistill prompts show``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from stepdistill.cli.config_options import add_config_options, config_overrides
from stepdistill.cli.data_commands import add_task_options, task_source_of
from stepdistill.errors import StepdistillError
from stepdistill.extraction.settings import TeacherSettings


class _Placeholders(dict):
    def __missing__(self, key: str) -> str:
        return f"<{key}>"


def register(subparsers: argparse._SubParsersAction) -> None:
    extract = subparsers.add_parser(
        "extract",
        help="rationales and labels from a teacher LLM (few-shot or zero-shot CoT)",
        description="Ask a teacher LLM for a rationale and a label for every example of a split.",
    )
    add_task_options(extract)
    extract.add_argument("--output", required=True, type=Path, help="teacher JSONL file to write")
    extract.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    extract.add_argument(
        "--dry-run", action="store_true", help="count requests, tokens and cost only"
    )
    extract.add_argument("--json", action="store_true", help="print the report as JSON")
    fields = add_config_options(extract, [("teacher settings", TeacherSettings)])
    extract.set_defaults(handler=run_extract, teacher_fields=fields)

    prompts = subparsers.add_parser("prompts", help="look at teacher prompts")
    commands = prompts.add_subparsers(dest="prompts_command", metavar="SUBCOMMAND", required=True)
    show = commands.add_parser("show", help="print the rendered teacher prompt of a task")
    add_task_options(show)
    show.add_argument("--zero-shot", action="store_true")
    show.add_argument("--exemplars", type=Path, help="exemplar file instead of the task's own")
    show.add_argument("--chat", action="store_true", help="print chat messages (JSON)")
    show.add_argument(
        "--example", action="store_true", help="a real example of the data, not a placeholder"
    )
    show.add_argument("--split", default="train")
    show.add_argument("--index", type=int, default=0, help="which example of the split")
    show.set_defaults(handler=run_show)


def run_show(args: argparse.Namespace) -> int:
    from stepdistill.extraction.settings import TeacherSettings, prompting
    from stepdistill.prompts import (
        few_shot_messages,
        few_shot_text,
        zero_shot_messages,
        zero_shot_text,
    )
    from stepdistill.schema import Example

    source = task_source_of(args)
    settings = TeacherSettings(
        zero_shot=args.zero_shot, exemplars=str(args.exemplars) if args.exemplars else None
    )
    style, exemplars, zero_shot = prompting(source, settings)
    # a paper task's --data-dir, or a task file, shows a real example (--example)
    if args.example or (source.task_file is None and args.data_dir):
        example = source.load(sep="\n", teacher=False)[args.split][args.index]
    else:
        example = Example("placeholder", "<input>", None, _Placeholders())
    if args.chat:
        messages = (
            zero_shot_messages(style, example)
            if zero_shot
            else few_shot_messages(style, exemplars, example)
        )
        print(json.dumps(messages, indent=2, ensure_ascii=False))
    else:
        print(
            zero_shot_text(style, example)
            if zero_shot
            else few_shot_text(style, exemplars, example)
        )
    return 0


def run_extract(args: argparse.Namespace) -> int:
    from stepdistill.extraction import extract
    from stepdistill.extraction.extract import reasoning_requests
    from stepdistill.extraction.settings import TeacherSettings, estimate, prompting

    overrides = config_overrides(args, args.teacher_fields)
    settings = TeacherSettings.from_options(overrides, "extract")
    if args.output.exists() and not args.overwrite and not args.dry_run:
        raise StepdistillError(f"{args.output} exists; pass --overwrite to replace it")
    source = task_source_of(args)
    examples = source.load(sep="\n", teacher=False)[settings.split][: settings.limit]
    style, exemplars, zero_shot = prompting(source, settings)
    config = settings.extraction_config(style, zero_shot)
    if args.dry_run:
        requests = reasoning_requests(examples, style, exemplars, config)
        print(
            json.dumps(
                {"examples": len(examples), **estimate(requests, settings, zero_shot)}, indent=2
            )
        )
        return 0
    cache = settings.cache or args.output.with_name(args.output.name + ".cache.sqlite")
    _records, report = extract(
        source.task,
        examples,
        settings.make_teacher(),
        style=style,
        exemplars=exemplars,
        config=config,
        cache_path=cache,
        output=args.output,
        budget=settings.budget(),
    )
    report.cost = settings.cost(report.usage.prompt_tokens, report.usage.completion_tokens)
    summary = {"output": str(args.output), "cache": str(cache), **report.to_dict()}
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(format_extraction(report) + f"\nwrote {args.output}")
    return 0


def format_extraction(report: Any) -> str:
    """Two lines: how the examples ended, and what the requests cost."""
    return (
        f"{report.examples} examples: {report.ok} ok, {report.unparsable} unparsable, "
        f"{report.failed} failed, {report.filtered} filtered\n"
        f"{report.requests} requests: {report.cached} from cache, {report.sent} sent, "
        f"{report.failed_requests} failed; tokens {report.usage.prompt_tokens} prompt + "
        f"{report.usage.completion_tokens} completion"
        + (f"; cost {report.cost:.4f}" if report.cost is not None else "")
    )
