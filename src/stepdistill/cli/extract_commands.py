"""``stepdistill extract`` and ``stepdistill prompts show``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from stepdistill.cli.config_options import add_config_options, config_overrides
from stepdistill.cli.data_commands import add_task_options, task_source_of
from stepdistill.errors import StepdistillError
from stepdistill.extraction import TeacherSettings


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
        "--dry-run",
        action="store_true",
        help="count requests, tokens and cost, and estimate the duration on this machine "
        "(from earlier runs' records, else by timing a few requests of a local teacher)",
    )
    extract.add_argument(
        "--no-calibration",
        action="store_true",
        help="with --dry-run: estimate only from earlier runs' records (ask nothing)",
    )
    extract.add_argument("--json", action="store_true", help="print the report as JSON")
    fields = add_config_options(extract, [("teacher settings", TeacherSettings)])
    extract.set_defaults(handler=run_extract, teacher_fields=fields)

    judge = subparsers.add_parser(
        "judge",
        help="rate rationales with a judge model (an existing teacher file, or the paper's)",
        description="Score each rationale of a split (from --teacher-file, or the teacher "
        "outputs that ship with a paper task) with a judge model and a rubric; write them, with "
        "their scores, as a teacher file. Resumable through the SQLite cache.",
    )
    add_task_options(judge)
    judge.add_argument("--teacher-file", type=Path, help="records to judge (default: the data's)")
    judge.add_argument("--output", required=True, type=Path, help="teacher JSONL file to write")
    judge.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    judge.add_argument(
        "--select",
        action="store_true",
        help="judge every agreeing rationale of a self-consistency record and keep the best",
    )
    judge.add_argument("--json", action="store_true", help="print the report as JSON")
    judge_fields = add_config_options(
        judge,
        [("judge settings", TeacherSettings)],
        only=[
            "judge",
            "judge_base_url",
            "judge_prompt",
            "filters",
            "api_key_env",
            "split",
            "limit",
            "concurrency",
            "batch_size",
            "timeout",
            "max_attempts",
            "cache",
        ],
    )
    judge.set_defaults(handler=run_judge, judge_fields=judge_fields)

    prompts = subparsers.add_parser("prompts", help="look at teacher prompts")
    commands = prompts.add_subparsers(dest="prompts_command", metavar="SUBCOMMAND", required=True)
    show = commands.add_parser("show", help="print the rendered teacher prompt of a task")
    add_task_options(show)
    show.add_argument("--zero-shot", action="store_true")
    show.add_argument("--exemplars", type=Path, help="exemplar file instead of the task's own")
    show.add_argument("--chat", action="store_true", help="print chat messages (JSON)")
    show.add_argument("--judge", action="store_true", help="the judge's prompt instead")
    show.add_argument("--judge-prompt", type=Path, help="judge prompt file (default: built-in)")
    show.add_argument(
        "--example", action="store_true", help="a real example of the data, not a placeholder"
    )
    show.add_argument("--split", default="train")
    show.add_argument("--index", type=int, default=0, help="which example of the split")
    show.set_defaults(handler=run_show)


def run_show(args: argparse.Namespace) -> int:
    from stepdistill.extraction import TeacherSettings, prompting
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
        example = source.load(sep="\n", teacher=args.judge)[args.split][args.index]
    else:
        example = Example("placeholder", "<input>", None, _Placeholders())
    if args.judge:
        from stepdistill.prompts import load_judge

        record = example.teacher
        rationale = record.rationale if record and record.rationale else "<rationale>"
        label = (record.teacher_label if record else None) or example.label or "<label>"
        messages = load_judge(args.judge_prompt).messages(example.input, rationale, label)
        print(json.dumps(messages, indent=2, ensure_ascii=False))
        return 0
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
    from stepdistill.extraction import TeacherSettings, extraction_plan, run_extraction
    from stepdistill.throughput import Estimate

    overrides = config_overrides(args, args.teacher_fields)
    settings = TeacherSettings.from_options(overrides, "extract")
    if args.output.exists() and not args.overwrite and not args.dry_run:
        raise StepdistillError(f"{args.output} exists; pass --overwrite to replace it")
    source = task_source_of(args)
    if args.dry_run:
        found = extraction_plan(source, settings, may_calibrate=not args.no_calibration)
        print(json.dumps(found, indent=2))
        duration = Estimate.from_dict(found["duration"]).line()
        print(f"estimated duration: {duration}", file=sys.stderr)
        return 0
    cache = settings.cache or args.output.with_name(args.output.name + ".cache.sqlite")
    report = run_extraction(source, settings, output=args.output, cache=Path(cache)).report
    summary = {"output": str(args.output), "cache": str(cache), **report.to_dict()}
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(format_extraction(report) + f"\nwrote {args.output}")
    return 0


def format_extraction(report: Any) -> str:
    """How the examples ended, what the requests cost, and (batch modes) how they were
    answered."""
    from stepdistill.extraction import batch_text, outcome_text

    text = (
        outcome_text(report.to_dict())
        + "\n"
        + f"{report.requests} requests: {report.cached} from cache, {report.sent} sent, "
        f"{report.failed_requests} failed; tokens {report.usage.prompt_tokens} prompt + "
        f"{report.usage.completion_tokens} completion"
        + (f"; cost {report.cost:.4f}" if report.cost is not None else "")
    )
    return text + ("\n" + batch_text(report.batch) if report.batch else "")


def run_judge(args: argparse.Namespace) -> int:
    import asyncio

    from stepdistill.data.io import write_jsonl
    from stepdistill.extraction import JudgeReport, apply_filters, judge_records, score_agreement
    from stepdistill.schema import TeacherRecord
    from stepdistill.teacher.cache import CompletionCache

    settings = TeacherSettings.from_options(config_overrides(args, args.judge_fields), "judge")
    if args.output.exists() and not args.overwrite:
        raise StepdistillError(f"{args.output} exists; pass --overwrite to replace it")
    source = task_source_of(args)
    data = source.load(sep="\n")
    if args.teacher_file:
        from stepdistill.extraction import attach_teacher_records, read_teacher_file

        data = attach_teacher_records(data, read_teacher_file(args.teacher_file))
    examples = [e for e in data[settings.split][: settings.limit] if e.teacher is not None]
    if not examples:
        raise StepdistillError(f"no teacher record to judge in the {settings.split} split")
    judge, prompt = settings.make_judge()  # no --judge: the default teacher model judges
    cache = CompletionCache(
        settings.cache or args.output.with_name(args.output.name + ".cache.sqlite")
    )

    async def main() -> tuple[list[TeacherRecord], JudgeReport]:
        try:
            return await judge_records(
                examples,
                [e.teacher for e in examples if e.teacher is not None],
                judge,
                prompt,
                cache=cache,
                concurrency=settings.concurrency,
                select=args.select,
            )
        finally:
            await judge.aclose()

    try:
        records, report = asyncio.run(main())
    finally:
        cache.close()
    records = apply_filters(examples, records, settings.filters, source.task)
    write_jsonl(args.output, (record.to_dict() for record in records))
    summary = {
        "output": str(args.output),
        "judge": judge.name,
        "prompt": prompt.to_dict(),
        **report.to_dict(),
        "filtered": sum(record.filtered is not None for record in records),
        "scores_and_label_correctness": score_agreement(examples, records, source.task),
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(
            f"{report.records} records: {report.judged} judged, {report.unreadable} unreadable "
            f"answers {report.unreadable_reasons or ''}; scores {report.scores}\n"
            f"{summary['scores_and_label_correctness']}\nwrote {args.output}"
        )
    return 0
