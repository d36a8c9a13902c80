"""``stepdistill demo``: the whole method, offline, on a CPU, in minutes.

A small two-step arithmetic task generated here (deterministic), rationales from the embedded
local teacher (SmolLM2-135M-Instruct, few-shot chain of thought, asked again with the gold
answer in view where its own answer was wrong, label-agreement filter), then a standard
fine-tuning student and a step-by-step student trained on the same problems and evaluated side
by side, and a short report (table, plot, and what the filter set aside). It is a built-in pipeline
(``demo_pipeline``) run by the pipeline runner, its report told by ``demo_view``.
"""

from __future__ import annotations

import logging
import random
from pathlib import Path
from typing import Any

from stepdistill.data.task_data import TaskData
from stepdistill.data.task_source import TaskSource
from stepdistill.errors import StepdistillError
from stepdistill.extraction import outcome_text
from stepdistill.pipeline import (
    EXAMPLES_HEADER,
    PipelineConfig,
    TrainStage,
    examples_cell,
    samples_table,
    verdict_lines,
    warning_lines,
)
from stepdistill.reports import table
from stepdistill.schema import Example
from stepdistill.tasks import get_task
from stepdistill.teacher import DEFAULT_TEACHER

logger = logging.getLogger(__name__)

NAMES = ["Tom", "Ann", "Lia", "Sam", "Max", "Eve", "Ben", "Zoe"]
THINGS = ["apples", "pencils", "stickers", "books", "marbles", "cookies"]
GENERATED_DATA = "data"  # the generated task's folder inside the demo's output


GAINS = ("gets", "buys", "finds", "wins")
LOSSES = ("gives away", "loses", "sells", "uses")


def _now(name: str, thing: str) -> str:
    return f"How many {thing} does {name} have now?"


def _gain_then_loss(rng: random.Random, name: str, thing: str) -> tuple[str, str]:
    a, b = rng.randint(5, 30), rng.randint(2, 15)
    c = rng.randint(2, a + b - 1)
    gain, loss = rng.choice(GAINS), rng.choice(LOSSES)
    return (
        f"{name} has {a} {thing}. {name} {gain} {b} more {thing}, then {loss} {c} {thing}.\n"
        + _now(name, thing),
        f"( ( {a}.0 + {b}.0 ) - {c}.0 )",
    )


def _loss_then_gain(rng: random.Random, name: str, thing: str) -> tuple[str, str]:
    a = rng.randint(10, 40)
    b, c = rng.randint(2, a - 1), rng.randint(2, 15)
    gain, loss = rng.choice(GAINS), rng.choice(LOSSES)
    return (
        f"{name} has {a} {thing}. {name} {loss} {b} {thing}, then {gain} {c} more {thing}.\n"
        + _now(name, thing),
        f"( ( {a}.0 - {b}.0 ) + {c}.0 )",
    )


def _two_gains(rng: random.Random, name: str, thing: str) -> tuple[str, str]:
    a, b, c = rng.randint(2, 30), rng.randint(2, 15), rng.randint(2, 15)
    first, then = rng.sample(GAINS, 2)
    return (
        f"{name} has {a} {thing}. {name} {first} {b} {thing} and then {then} {c} more.\n"
        + _now(name, thing),
        f"( ( {a}.0 + {b}.0 ) + {c}.0 )",
    )


def _boxes_and_more(rng: random.Random, name: str, thing: str) -> tuple[str, str]:
    a, b, c = rng.randint(2, 9), rng.randint(2, 12), rng.randint(2, 15)
    return (
        f"{name} has {a} boxes with {b} {thing} in each box, and {c} more {thing} outside them.\n"
        + _now(name, thing),
        f"( ( {a}.0 * {b}.0 ) + {c}.0 )",
    )


def _boxes_minus_some(rng: random.Random, name: str, thing: str) -> tuple[str, str]:
    a, b = rng.randint(2, 9), rng.randint(2, 12)
    c = rng.randint(1, a * b - 1)
    return (
        f"{name} has {a} boxes with {b} {thing} in each box. {name} {rng.choice(LOSSES)} "
        f"{c} {thing}.\n" + _now(name, thing),
        f"( ( {a}.0 * {b}.0 ) - {c}.0 )",
    )


def _boxes_minus_boxes(rng: random.Random, name: str, thing: str) -> tuple[str, str]:
    a, b = rng.randint(3, 9), rng.randint(2, 12)
    c = rng.randint(1, a - 1)
    return (
        f"{name} has {a} boxes with {b} {thing} in each box. {name} {rng.choice(LOSSES)} "
        f"{c} of the boxes.\n" + _now(name, thing),
        f"( ( {a}.0 - {c}.0 ) * {b}.0 )",
    )


def _boxes_plus_boxes(rng: random.Random, name: str, thing: str) -> tuple[str, str]:
    a, b, c = rng.randint(2, 9), rng.randint(2, 12), rng.randint(1, 6)
    return (
        f"{name} has {a} boxes with {b} {thing} in each box. {name} {rng.choice(GAINS)} "
        f"{c} more boxes like them.\n" + _now(name, thing),
        f"( ( {a}.0 + {c}.0 ) * {b}.0 )",
    )


def _at_first(rng: random.Random, name: str, thing: str) -> tuple[str, str]:
    b, c = rng.randint(2, 20), rng.randint(2, 30)
    return (
        f"{name} {rng.choice(LOSSES)} {b} {thing} and has {c} {thing} left.\n"
        f"How many {thing} did {name} have at first?",
        f"( {c}.0 + {b}.0 )",
    )


def _shared_out(rng: random.Random, name: str, thing: str) -> tuple[str, str]:
    b, k = rng.randint(2, 9), rng.randint(2, 9)
    extra = rng.randint(2, 15)
    return (
        f"{name} is {extra} years old and has {b * k} {thing}. {name} puts them into {b} bags, "
        f"the same number in each bag.\nHow many {thing} are in each bag?",
        f"( {b * k}.0 / {b}.0 )",
    )


def _more_than(rng: random.Random, name: str, thing: str) -> tuple[str, str]:
    other = rng.choice([n for n in NAMES if n != name])
    b = rng.randint(2, 20)
    a = b + rng.randint(2, 20)
    return (
        f"{name} has {a} {thing} and {other} has {b} {thing}.\n"
        f"How many more {thing} does {name} have than {other}?",
        f"( {a}.0 - {b}.0 )",
    )


def _other_things(rng: random.Random, name: str, thing: str) -> tuple[str, str]:
    other = rng.choice([t for t in THINGS if t != thing])
    a, b, c = rng.randint(2, 30), rng.randint(2, 30), rng.randint(2, 15)
    return (
        f"{name} has {a} {thing} and {b} {other}. {name} {rng.choice(GAINS)} {c} more "
        f"{thing}.\n" + _now(name, thing),
        f"( {a}.0 + {c}.0 )",
    )


# two-step problems (some that differ in one phrase: "4 more stickers" or "4 more boxes"),
# inverse and comparison questions and distractor numbers, so that neither student saturates at
# the demo's budget
PROBLEMS = (
    _gain_then_loss,
    _loss_then_gain,
    _two_gains,
    _boxes_and_more,
    _boxes_minus_some,
    _boxes_minus_boxes,
    _boxes_plus_boxes,
    _at_first,
    _shared_out,
    _more_than,
    _other_things,
)


def generate_task(
    *, n_train: int = 64, n_valid: int = 16, n_test: int = 48, seed: int = 0
) -> TaskData:
    """Word problems of one or two steps labelled SVAMP-style (``( ( 7.0 + 5.0 ) - 3.0 )``),
    the same every time."""
    rng = random.Random(seed)
    seen: set[str] = set()
    rows: list[Example] = []
    while len(rows) < n_train + n_valid + n_test:
        name, thing = rng.choice(NAMES), rng.choice(THINGS)
        text, label = rng.choice(PROBLEMS)(rng, name, thing)
        if text in seen:
            continue
        seen.add(text)
        rows.append(Example(f"demo-{len(rows)}", text, label, {"input": text}))
    return TaskData(
        task=get_task("svamp"),
        splits={
            "train": rows[:n_train],
            "valid": rows[n_train : n_train + n_valid],
            "test": rows[n_train + n_valid :],
        },
        notes=[f"generated arithmetic task (one and two steps), seed {seed}"],
    )


def demo_pipeline(
    output: Path,
    *,
    task: str,
    data_dir: Path | None,
    teacher: str,
    student: str,
    sizes: dict[str, int],
    steps: int,
    base_url: str | None = None,
    seeds: tuple[int, ...] | None = None,
) -> PipelineConfig:
    """The demo as a pipeline made in code: a short prompt for a small teacher, two-pass
    rationalization and the label-agreement filter, then a standard and a step-by-step (shared
    input, every problem's label, the kept rationales) student, each on the first examples of
    every split."""
    from stepdistill.experiments import MethodEntry
    from stepdistill.extraction import TeacherSettings
    from stepdistill.training import RunSettings

    return PipelineConfig(
        path=None,
        task=task,
        data_dir=data_dir,
        output=output,
        teacher=TeacherSettings(
            teacher=teacher,
            base_url=base_url,
            limit=sizes["train"],
            max_tokens=64,
            max_exemplars=3,  # three worked examples: a short prompt for a small teacher
            rationalization="two-pass",
            filters=["agree-with-gold"],
        ),
        train=TrainStage(
            student=student,
            methods=(
                MethodEntry("standard", "standard"),
                MethodEntry("step-by-step", "step-by-step", {"shared_input": True}),
            ),
            settings={
                "per_device_batch_size": 8,
                "max_steps": steps,
                "eval_steps": steps,
                "learning_rate": 1e-4,
            },
            run=RunSettings(
                max_train_examples=sizes["train"],
                max_valid_examples=sizes["valid"],
                max_test_examples=sizes["test"],
            ),
            seeds=seeds,
        ),
    )


def labeled_sizes(source: TaskSource, wanted: dict[str, int]) -> dict[str, int]:
    """How many examples of each split the demo uses (the first ``wanted``, where there are
    that many); an error for a task without labels."""
    data = source.load(teacher=False).first(wanted)
    if any(e.label is None for examples in data.splits.values() for e in examples):
        raise StepdistillError(f"the demo needs a labeled task; {source.task.name} has no labels")
    return {split: len(data[split]) for split in wanted}


def run_demo(
    output: str | Path,
    *,
    task: str | None = None,
    data_dir: str | Path | None = None,
    teacher: str = DEFAULT_TEACHER,
    student: str = "smollm2-135m",
    n_train: int = 64,
    n_valid: int = 16,
    n_test: int = 48,
    steps: int = 40,
    overwrite: bool = False,
    base_url: str | None = None,
    seeds: tuple[int, ...] | None = None,
) -> dict[str, Any]:
    """Run the demo into ``output`` and return its report (also written as report.json/.md).
    ``seeds``: train each student once per seed (``LABEL/seedN``), for a verdict that covers
    the seeds too.

    The task: ``task`` (a task file, or a paper task with ``data_dir``); the paper's SVAMP with
    only ``data_dir``; else a generated arithmetic task, written under ``output/data``.
    """
    from stepdistill.data import write_paper_task
    from stepdistill.data.task_source import task_source
    from stepdistill.pipeline import clear_output, run_pipeline
    from stepdistill.teacher import teacher_backend

    teacher_backend(teacher)  # a mistyped teacher fails before any work
    output = Path(output)
    wanted = {"train": n_train, "valid": n_valid, "test": n_test}
    generated = output / GENERATED_DATA if task is None and data_dir is None else None
    task = task or "svamp"
    data_dir = generated or (Path(data_dir) if data_dir else None)
    source = task_source(task, data_dir=data_dir)
    if overwrite:
        clear_output(output, inputs=[] if generated else source.input_paths())
    elif output.exists() and any(output.iterdir()):
        raise StepdistillError(f"{output} exists and is not empty; pass --overwrite to replace it")
    if generated:
        write_paper_task(generate_task(n_train=n_train, n_valid=n_valid, n_test=n_test), generated)
    sizes = labeled_sizes(source, wanted)
    config = demo_pipeline(
        output,
        task=task,
        data_dir=data_dir,
        teacher=teacher,
        student=student,
        sizes=sizes,
        steps=steps,
        base_url=base_url,
        seeds=seeds,
    )
    name = "generated arithmetic" if generated else source.task.name
    return run_pipeline(config, view=lambda run, _: demo_view(run, name, sizes))


def demo_view(
    run: dict[str, Any], task: str, sizes: dict[str, int]
) -> tuple[dict[str, Any], list[str]]:
    """The demo's report, from its pipeline run's report: the teacher's counts and a few of
    its records, then the two students side by side."""
    extraction = {key: value for key, value in run["extract"].items() if key != "samples"}
    report = {
        "task": task,
        "sizes": sizes,
        "teacher": run["teacher"],
        "student": run["student"],
        "extraction": extraction,
        "teacher_seconds": extraction["seconds"],
        "students": {
            label: {
                "test_accuracy": metrics["test_accuracy"],
                "train_examples": metrics["train_examples"],
                "steps": metrics["steps"],
                "train_examples_per_second": metrics["train_examples_per_second"],
            }
            for label, metrics in run["students"].items()
        },
        "skipped_students": run["skipped_students"],
        "accuracy": run["accuracy"],
        "comparisons": run["comparisons"],
        "comparison_notes": run["comparison_notes"],
        "classes": run["classes"],
        "warnings": run["warnings"],
        "plot": run["plot"],
        "examples": run["extract"]["samples"],
        "seconds": run["seconds"],
    }
    return report, demo_markdown(report)


def demo_markdown(report: dict[str, Any]) -> list[str]:
    """The lines of the demo's ``report.md``."""
    extraction = report["extraction"]
    lines = [
        "# stepdistill demo",
        "",
        f"Task: {report['task']} ({report['sizes']}). Teacher: `{report['teacher']}`. "
        f"Student: `{report['student']}`. Total time {report['seconds']:.0f} s.",
        "",
        *warning_lines(report),
        "## Teacher rationales",
        "",
        f"Training {outcome_text(extraction)} ({report['teacher_seconds']:.0f} s). The teacher "
        "was asked again, with the gold answer in view, where its first answer was wrong or "
        "unreadable; a rationale is kept where its answer agrees with the gold one.",
        "",
    ]
    lines += samples_table(report["examples"])
    lines += ["", "## Students", ""]
    students = [
        [label, examples_cell(row["train_examples"]), row["steps"], row["test_accuracy"]]
        for label, row in report["students"].items()
    ]
    students += [
        [label, 0, "-", f"not trained: {why}"]
        for label, why in report.get("skipped_students", {}).items()
    ]
    lines += table(["method", EXAMPLES_HEADER, "steps", "test accuracy"], students)
    lines += [
        "",
        "Both students learn the label of every training problem; step-by-step also learns "
        "the kept rationales.",
    ]
    lines += [*verdict_lines(report), ""]
    return lines


__all__ = ["demo_pipeline", "generate_task", "run_demo"]
