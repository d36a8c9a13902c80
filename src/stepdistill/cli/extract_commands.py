"""``stepdistill extract`` and ``stepdistill prompts show``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from stepdistill.cli.data_commands import add_data_dir_option, require_data_dir
from stepdistill.errors import StepdistillError
from stepdistill.extraction.filters import FILTERS
from stepdistill.tasks import TASKS
from stepdistill.teacher import DEFAULT_TEACHER
from stepdistill.teacher.openai_backend import ENDPOINTS

CHARS_PER_TOKEN = 4  # rough English average, for --dry-run estimates only


class _Placeholders(dict):
    def __missing__(self, key: str) -> str:
        return f"<{key}>"


def register(subparsers: argparse._SubParsersAction) -> None:
    extract = subparsers.add_parser(
        "extract",
        help="rationales and labels from a teacher LLM (few-shot or zero-shot CoT)",
        description="Ask a teacher LLM for a rationale and a label for every example of a split.",
    )
    extract.add_argument("--task", required=True, help=f"one of {', '.join(TASKS.names())}")
    add_data_dir_option(extract, "reference datasets/ folder")
    extract.add_argument("--split", default="train", help="split to extract (train)")
    extract.add_argument("--limit", type=int, help="only the first N examples of the split")
    extract.add_argument(
        "--teacher",
        default=DEFAULT_TEACHER,
        help=f"backend:model, e.g. openai:gpt-4o-mini or {DEFAULT_TEACHER} (default)",
    )
    extract.add_argument(
        "--base-url", help="OpenAI-compatible API root, e.g. http://127.0.0.1:8080/v1"
    )
    extract.add_argument("--endpoint", choices=ENDPOINTS, default="chat", help="(default: chat)")
    extract.add_argument(
        "--api-key-env",
        default="OPENAI_API_KEY",
        help="variable holding the API key (never logged)",
    )
    extract.add_argument("--output", required=True, type=Path, help="teacher JSONL file to write")
    extract.add_argument("--cache", type=Path, help="SQLite cache (default: OUTPUT.cache.sqlite)")
    extract.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    extract.add_argument("--n", type=int, default=1, help="samples per example (self-consistency)")
    extract.add_argument("--temperature", type=float, help="0 for n=1, else 0.7")
    extract.add_argument("--top-p", type=float, default=1.0)
    extract.add_argument("--max-tokens", type=int, default=256, help="tokens per rationale")
    extract.add_argument("--zero-shot", action="store_true", help="zero-shot chain of thought")
    extract.add_argument("--exemplars", type=Path, help="few-shot exemplar file (JSON or JSONL)")
    extract.add_argument(
        "--filter", action="append", default=[], help=f"one of {', '.join(FILTERS.names())}"
    )
    extract.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    extract.add_argument("--timeout", type=float, default=120.0, help="seconds per attempt")
    extract.add_argument("--max-attempts", type=int, default=6, help="attempts per request")
    extract.add_argument("--price-per-1k-prompt", type=float, help="price of 1k prompt tokens")
    extract.add_argument(
        "--price-per-1k-completion", type=float, help="price of 1k completion tokens"
    )
    extract.add_argument(
        "--dry-run", action="store_true", help="count requests, tokens and cost only"
    )
    extract.add_argument("--json", action="store_true", help="print the report as JSON")
    extract.set_defaults(handler=run_extract)

    prompts = subparsers.add_parser("prompts", help="look at teacher prompts")
    commands = prompts.add_subparsers(dest="prompts_command", metavar="SUBCOMMAND", required=True)
    show = commands.add_parser("show", help="print the rendered teacher prompt of a task")
    show.add_argument("--task", required=True)
    show.add_argument("--zero-shot", action="store_true")
    show.add_argument("--exemplars", type=Path, help="exemplar file instead of the built-in ones")
    show.add_argument("--chat", action="store_true", help="print chat messages (JSON)")
    add_data_dir_option(show, "show the prompt of a real example from this folder")
    show.add_argument("--split", default="train")
    show.add_argument("--index", type=int, default=0, help="which example of the split")
    show.set_defaults(handler=run_show)


def _exemplars(task: Any, path: Path | None, zero_shot: bool) -> list:
    from stepdistill.prompts import builtin_exemplars, load_exemplars

    if zero_shot:
        return []
    return load_exemplars(task, path) if path else builtin_exemplars(task)


def run_show(args: argparse.Namespace) -> int:
    from stepdistill.prompts import (
        few_shot_messages,
        few_shot_text,
        style_for,
        zero_shot_messages,
        zero_shot_text,
    )
    from stepdistill.schema import Example
    from stepdistill.tasks import get_task

    task = get_task(args.task)
    style = style_for(task.name)
    exemplars = _exemplars(task, args.exemplars, args.zero_shot)
    if args.data_dir:
        from stepdistill.data.paper import load_paper_task

        example = load_paper_task(task, args.data_dir, sep="\n", teacher=False)[args.split][
            args.index
        ]
    else:
        example = Example("placeholder", "<input>", None, _Placeholders())
    if args.chat:
        messages = (
            zero_shot_messages(style, example)
            if args.zero_shot
            else few_shot_messages(style, exemplars, example)
        )
        print(json.dumps(messages, indent=2, ensure_ascii=False))
    else:
        print(
            zero_shot_text(style, example)
            if args.zero_shot
            else few_shot_text(style, exemplars, example)
        )
    return 0


def _settings(args: argparse.Namespace, style: Any) -> Any:
    from stepdistill.teacher import GenerationSettings

    temperature = (
        args.temperature if args.temperature is not None else (0.0 if args.n == 1 else 0.7)
    )
    return GenerationSettings(
        max_tokens=args.max_tokens, temperature=temperature, top_p=args.top_p, stop=style.stop
    )


def _cost(args: argparse.Namespace, prompt_tokens: int, completion_tokens: int) -> float | None:
    if args.price_per_1k_prompt is None and args.price_per_1k_completion is None:
        return None
    return (prompt_tokens / 1000) * (args.price_per_1k_prompt or 0.0) + (
        completion_tokens / 1000
    ) * (args.price_per_1k_completion or 0.0)


def run_extract(args: argparse.Namespace) -> int:
    from stepdistill.data.paper import load_paper_task
    from stepdistill.extraction import ExtractionConfig, extract
    from stepdistill.extraction.extract import ANSWER_STAGE_MAX_TOKENS, reasoning_requests
    from stepdistill.prompts import style_for
    from stepdistill.tasks import get_task
    from stepdistill.teacher import RetryPolicy, make_teacher, teacher_backend

    data_dir = require_data_dir(args)
    if args.output.exists() and not args.overwrite and not args.dry_run:
        raise StepdistillError(f"{args.output} exists; pass --overwrite to replace it")
    task = get_task(args.task)
    style = style_for(task.name)
    examples = load_paper_task(task, data_dir, sep="\n", teacher=False)[args.split]
    if args.limit is not None:
        examples = examples[: args.limit]
    backend, _model = teacher_backend(args.teacher)
    try:
        config = ExtractionConfig(
            n=args.n,
            settings=_settings(args, style),
            zero_shot=args.zero_shot,
            chat=backend.chat_only or args.endpoint == "chat",
            filters=tuple(args.filter),
            concurrency=backend.concurrency(args.concurrency),
        )
    except ValueError as error:
        raise StepdistillError(str(error)) from None
    exemplars = _exemplars(task, args.exemplars, args.zero_shot)
    if args.dry_run:
        requests = reasoning_requests(examples, style, exemplars, config)
        prompt_chars = sum(
            len(r.prompt or "") + sum(len(m["content"]) for m in r.message_list) for r in requests
        )
        answer_stage = len(requests) if config.zero_shot else 0
        prompt_tokens = prompt_chars // CHARS_PER_TOKEN * (2 if config.zero_shot else 1)
        completion_tokens = len(requests) * args.max_tokens + answer_stage * ANSWER_STAGE_MAX_TOKENS
        estimate = {
            "examples": len(examples),
            "requests": len(requests) + answer_stage,
            "estimated_prompt_tokens": prompt_tokens,
            "max_completion_tokens": completion_tokens,
            "estimated_max_cost": _cost(args, prompt_tokens, completion_tokens),
        }
        print(json.dumps(estimate, indent=2))
        return 0
    options = {
        "base_url": args.base_url,
        "endpoint": args.endpoint,
        "api_key_env": args.api_key_env,
        "retry": RetryPolicy(max_attempts=args.max_attempts, timeout=args.timeout),
    }
    # the command's options are for HTTP teachers; each backend gets the ones it takes
    teacher = make_teacher(
        args.teacher, **{k: v for k, v in options.items() if k in backend.options}
    )
    cache = args.cache or args.output.with_name(args.output.name + ".cache.sqlite")
    _records, report = extract(
        task,
        examples,
        teacher,
        style=style,
        exemplars=exemplars,
        config=config,
        cache_path=cache,
        output=args.output,
    )
    report.cost = _cost(args, report.usage.prompt_tokens, report.usage.completion_tokens)
    summary = {"output": str(args.output), "cache": str(cache), **report.to_dict()}
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(
            f"{report.examples} examples: {report.ok} ok, {report.unparsable} unparsable, "
            f"{report.failed} failed, {report.filtered} filtered\n"
            f"{report.requests} requests: {report.cached} from cache, {report.sent} sent, "
            f"{report.failed_requests} failed; tokens {report.usage.prompt_tokens} prompt + "
            f"{report.usage.completion_tokens} completion"
            + (f"; cost {report.cost:.4f}" if report.cost is not None else "")
            + f"\nwrote {args.output}"
        )
    return 0
