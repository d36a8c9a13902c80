"""``stepdistill demo``: the whole method, offline, on a CPU, in minutes.

A small arithmetic task generated here (deterministic), rationales from the embedded local
teacher (SmolLM2-135M-Instruct, few-shot chain of thought, label-agreement filter), then a
standard fine-tuning student and a step-by-step student trained and evaluated side by side, and
a short report (table, plot, and what the filter set aside). It is a built-in pipeline
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
from stepdistill.pipeline import (
    PipelineConfig,
    TrainStage,
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


def generate_task(
    *, n_train: int = 64, n_valid: int = 16, n_test: int = 48, seed: int = 0
) -> TaskData:
    """One-step word problems labelled SVAMP-style (``( 7.0 + 5.0 )``), the same every time."""
    rng = random.Random(seed)
    seen: set[str] = set()
    rows: list[Example] = []
    while len(rows) < n_train + n_valid + n_test:
        a, b = rng.randint(2, 40), rng.randint(2, 20)
        name, thing = rng.choice(NAMES), rng.choice(THINGS)
        kind = rng.choice(["add", "subtract", "multiply"])
        if kind == "add":
            body, label = (
                f"{name} has {a} {thing}. {name} gets {b} more {thing}.",
                f"( {a}.0 + {b}.0 )",
            )
        elif kind == "subtract":
            a = a + b
            body, label = (
                f"{name} has {a} {thing}. {name} gives away {b} {thing}.",
                f"( {a}.0 - {b}.0 )",
            )
        else:
            a = a % 9 + 2
            body, label = (
                f"{name} has {a} boxes with {b} {thing} in each box.",
                f"( {a}.0 * {b}.0 )",
            )
        text = f"{body}\nHow many {thing} does {name} have now?"
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
        notes=[f"generated arithmetic task, seed {seed}"],
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
    """The demo as a pipeline made in code: the label-agreement filter over a short prompt for
    a small teacher, then a standard and a step-by-step (shared input) student, each on the
    first examples of every split."""
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
        f"{extraction['examples']} training problems: {extraction['ok']} kept, "
        f"{extraction['filtered']} filtered (label disagrees with the gold answer), "
        f"{extraction['unparsable']} unparsable, {extraction['failed']} failed "
        f"({report['teacher_seconds']:.0f} s).",
        "",
    ]
    lines += samples_table(report["examples"])
    lines += ["", "## Students", ""]
    students = [
        [label, row["train_examples"]["used"], row["steps"], row["test_accuracy"]]
        for label, row in report["students"].items()
    ]
    students += [
        [label, 0, "-", f"not trained: {why}"]
        for label, why in report.get("skipped_students", {}).items()
    ]
    lines += table(["method", "training examples", "steps", "test accuracy"], students)
    lines += ["", "Step-by-step trains only on problems whose teacher rationale was kept."]
    lines += [*verdict_lines(report), ""]
    return lines


__all__ = ["demo_pipeline", "generate_task", "run_demo"]
