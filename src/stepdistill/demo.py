"""``stepdistill demo``: the whole method, offline, on a CPU, in minutes.

A small arithmetic task generated here (deterministic), rationales from the embedded local
teacher (SmolLM2-135M-Instruct, few-shot chain of thought, label-agreement filter), then a
standard fine-tuning student and a step-by-step student trained and evaluated side by side, and
a short report (table, plot, and what the filter set aside).
"""

from __future__ import annotations

import logging
import random
import time
from pathlib import Path
from typing import Any

from stepdistill.data.task_data import TaskData
from stepdistill.errors import StepdistillError
from stepdistill.reports import table, write_report
from stepdistill.schema import Example
from stepdistill.tasks import get_task
from stepdistill.teacher import DEFAULT_TEACHER

logger = logging.getLogger(__name__)

NAMES = ["Tom", "Ann", "Lia", "Sam", "Max", "Eve", "Ben", "Zoe"]
THINGS = ["apples", "pencils", "stickers", "books", "marbles", "cookies"]


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


def task_subset(
    task: str, data_dir: str | Path | None, *, n_train: int, n_valid: int, n_test: int, sep: str
) -> TaskData:
    """The first examples of a task's splits (a task file, or a paper task's folder), without
    any teacher outputs that ship with it."""
    from stepdistill.data.task_source import task_source

    data = task_source(task, data_dir=data_dir).load(teacher=False, sep=sep)
    splits = {"train": n_train, "valid": n_valid, "test": n_test}
    subset = {name: data[name][:n] for name, n in splits.items()}
    if any(example.label is None for examples in subset.values() for example in examples):
        raise StepdistillError(f"the demo needs a labeled task; {task} has no labels")
    return TaskData(data.task, subset, notes=data.notes)


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
) -> dict[str, Any]:
    """Run the demo into ``output`` and return its report (also written as report.json/.md).

    The task: ``task`` (a task file, or a paper task with ``data_dir``); the paper's SVAMP with
    only ``data_dir``; else a generated arithmetic task.
    """
    from stepdistill.data.task_source import task_source
    from stepdistill.extraction import TeacherSettings, attach_teacher_records, run_extraction
    from stepdistill.models import load_student
    from stepdistill.models.loading import input_separator
    from stepdistill.teacher import teacher_backend
    from stepdistill.training import RunSettings, get_method, make_config, train_student

    teacher_backend(teacher)  # a mistyped teacher fails before any work
    output = Path(output)
    if output.exists() and any(output.iterdir()) and not overwrite:
        raise StepdistillError(f"{output} exists and is not empty; pass --overwrite to replace it")
    output.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    sizes = {"n_train": n_train, "n_valid": n_valid, "n_test": n_test}
    if task is None and data_dir is None:
        data = generate_task(**sizes)
        source = task_source("svamp")
    else:
        task = task or "svamp"
        data = task_subset(task, data_dir, sep=input_separator(student), **sizes)
        source = task_source(task, data_dir=data_dir)
    logger.info("1/3 teacher %s: rationales for %d training problems", teacher, len(data["train"]))
    teacher_settings = TeacherSettings(
        teacher=teacher,
        base_url=base_url,
        max_tokens=64,
        max_exemplars=3,  # three worked examples: a short prompt for a small teacher
        filters=["agree-with-gold"],
    )
    extracted = run_extraction(
        source,
        teacher_settings,
        output=output / "teacher.jsonl",
        cache=output / "teacher.cache.sqlite",
        examples=data["train"],
    )
    records, extraction = extracted.records, extracted.report
    teacher_seconds = time.perf_counter() - started
    data = attach_teacher_records(data, {record.example_id: record for record in records})
    shown = [
        {
            "input": e.input,
            "gold": e.label,
            "teacher": record.teacher_label,
            "rationale": record.rationale,
            "kept": record.usable,
            "why_not": record.filtered or record.error,
        }
        for e in data["train"][:6]
        if (record := e.teacher) is not None
    ]
    results = {}
    skipped = {}
    for label, method, extra in (
        ("standard", "standard", {}),
        ("step-by-step", "step-by-step", {"shared_input": True}),
    ):
        if get_method(method).needs_rationale and not any(
            e.teacher and e.teacher.usable for e in data["train"]
        ):
            skipped[label] = "no teacher rationale was kept, so there is nothing to learn from"
            logger.warning("skipping the %s student: %s", label, skipped[label])
            continue
        logger.info("2/3 training the %s student (%d steps)", label, steps)
        settings = dict(
            per_device_batch_size=8, max_steps=steps, eval_steps=steps, learning_rate=1e-4, **extra
        )
        loaded = load_student(student)
        result = train_student(
            data=data,
            method=method,
            config=make_config(method, **settings),
            student=loaded,
            output_dir=output / label,
            run=RunSettings(overwrite=True),
            data_info={
                "input_separator": loaded.tokenizer.eos_token,
                "teacher_file": str(output / "teacher.jsonl"),
            },
        )
        results[label] = result.metrics
    logger.info("3/3 report")
    report = {
        "task": data.task.name if task else "generated arithmetic",
        "sizes": {name: len(examples) for name, examples in data.splits.items()},
        "teacher": teacher,
        "student": student,
        "extraction": extraction.to_dict(),
        "teacher_seconds": round(teacher_seconds, 1),
        "students": {
            label: {
                "test_accuracy": metrics["test_accuracy"],
                "train_examples": metrics["train_examples"],
                "steps": metrics["steps"],
                "train_examples_per_second": metrics["train_examples_per_second"],
            }
            for label, metrics in results.items()
        },
        "skipped_students": skipped,
        "examples": shown,
        "seconds": round(time.perf_counter() - started, 1),
    }
    write_report(output, report, demo_markdown(report))
    plot_report(report, output / "report.png")
    return report


def demo_markdown(report: dict[str, Any]) -> list[str]:
    """The lines of the demo's ``report.md``."""
    extraction = report["extraction"]
    lines = [
        "# stepdistill demo",
        "",
        f"Task: {report['task']} ({report['sizes']}). Teacher: `{report['teacher']}`. "
        f"Student: `{report['student']}`. Total time {report['seconds']:.0f} s.",
        "",
        "## Teacher rationales",
        "",
        f"{extraction['examples']} training problems: {extraction['ok']} kept, "
        f"{extraction['filtered']} filtered (label disagrees with the gold answer), "
        f"{extraction['unparsable']} unparsable, {extraction['failed']} failed "
        f"({report['teacher_seconds']:.0f} s).",
        "",
    ]
    lines += table(
        ["problem", "gold", "teacher", "kept", "rationale"],
        [
            [
                row["input"].replace("\n", " "),
                row["gold"],
                row["teacher"],
                "yes" if row["kept"] else f"no: {row['why_not']}",
                (row["rationale"] or "").replace("\n", " ")[:120],
            ]
            for row in report["examples"]
        ],
    )
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
    lines += ["", "Step-by-step trains only on problems whose teacher rationale was kept.", ""]
    return lines


def plot_report(report: dict[str, Any], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = list(report["students"])
    values = [100 * report["students"][label]["test_accuracy"] for label in labels]
    figure, axes = plt.subplots(figsize=(5, 3.5), dpi=120)
    bars = axes.bar(labels, values, color=["#8c8c8c", "#1f77b4"][: len(labels)])
    axes.bar_label(bars, fmt="%.1f%%")
    axes.set_ylabel("test accuracy (%)")
    axes.set_ylim(0, 112)  # room for the value labels above a 100% bar
    axes.set_title(f"stepdistill demo: {report['task']}")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


__all__ = ["generate_task", "run_demo", "task_subset"]
