"""Reader for the reference implementation's ``datasets/`` folder: task rows joined, row by row,
with the teacher's (PaLM-540B's) chain-of-thought completions."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

from stepdistill.data.io import read_json_list, read_jsonl, write_jsonl
from stepdistill.data.splits import carve_and_subsample
from stepdistill.data.task_data import TaskData
from stepdistill.errors import DataError, MissingSplitError
from stepdistill.schema import Example, TeacherRecord
from stepdistill.tasks import Task, get_task
from stepdistill.tasks.base import PaperLayout
from stepdistill.tasks.parsing import parse_completion

logger = logging.getLogger(__name__)

PAPER_SPLITS = ("train", "valid", "test")
VALID_FRACTION = 0.1  # the reference carves 10% of train, seed 0, where no valid file ships
VALID_SEED = 0


def _layout(task: Task) -> PaperLayout:
    if task.paper is None:
        raise DataError(f"task {task.name!r} has no layout in the reference datasets/ folder")
    return task.paper


def split_path(data_dir: Path, task: Task, split: str) -> Path:
    """Where the reference layout keeps the rows of ``split``."""
    folder = _layout(task).folder
    return Path(data_dir) / folder / f"{folder}_{split}.json"


def cot_path(data_dir: Path, task: Task, split: str, batch: int) -> Path:
    """Where the reference layout keeps CoT batch ``batch`` of ``split``."""
    return Path(data_dir) / _layout(task).folder / "llm" / f"{split}_CoT_{batch}.json"


def read_teacher_completions(
    data_dir: Path, task: Task, split: str, n_rows: int
) -> list[str] | None:
    """The raw completions for ``split``, in row order, or None when the split has none.

    Raises:
        DataError: some batches are there and others not, or the counts do not add up.
    """
    layout = _layout(task)
    n_batches = math.ceil(n_rows / layout.cot_batch_size)
    paths = [cot_path(data_dir, task, split, i) for i in range(n_batches)]
    present = [path.exists() for path in paths]
    if not any(present):
        return None
    if not all(present):
        absent = [str(path) for path, ok in zip(paths, present, strict=True) if not ok]
        raise DataError(f"teacher outputs for {task.name}/{split} are incomplete: missing {absent}")
    completions: list[str] = []
    for path in paths:
        completions.extend(read_json_list(path))
    if len(completions) != n_rows:
        raise DataError(
            f"{task.name}/{split}: {n_rows} task rows but {len(completions)} teacher completions "
            f"in {paths[0].parent} (expected {layout.cot_batch_size} per batch file)"
        )
    return completions


def _example(task: Task, split: str, index: int, row: dict[str, Any], sep: str) -> Example:
    example_id = str(row[task.id_field]) if task.id_field and task.id_field in row else None
    meta = {key: value for key, value in row.items() if key != task.label_field}
    return Example(
        id=example_id or f"{task.name}-{split}-{index}",
        input=task.format_input(row, sep=sep),
        label=task.gold_label(row),
        meta=meta,
    )


def _teacher_record(
    task: Task, example: Example, raw: str, source: str, index: int
) -> TeacherRecord:
    parsed = parse_completion(raw, task.answer_pattern, task.label_kind)
    return TeacherRecord(
        example_id=example.id,
        rationale=parsed.rationale,
        teacher_label=parsed.label,
        parse_ok=parsed.ok,
        error=parsed.error,
        reason=parsed.reason,
        raw=raw,
        teacher=_layout(task).teacher,
        meta={"source": source, "index": index},
    )


def load_split(data_dir: Path, task: Task, split: str, *, sep: str, teacher: bool) -> list[Example]:
    """Rows of one split as Examples, each joined with its parsed teacher completion."""
    path = split_path(data_dir, task, split)
    if not path.exists():
        raise MissingSplitError(f"split {split!r} of task {task.name!r}: expected {path}")
    rows = read_jsonl(path)
    if not rows:
        raise DataError(f"{path}: no rows (the {split} split of task {task.name!r})")
    examples = [_example(task, split, i, row, sep) for i, row in enumerate(rows)]
    completions = read_teacher_completions(data_dir, task, split, len(rows)) if teacher else None
    if completions is None:
        return examples
    source = f"{_layout(task).folder}/llm/{split}_CoT_*.json"
    return [
        Example(ex.id, ex.input, ex.label, ex.meta, _teacher_record(task, ex, raw, source, i))
        for i, (ex, raw) in enumerate(zip(examples, completions, strict=True))
    ]


def load_paper_task(
    task: str | Task,
    data_dir: str | Path,
    *,
    train_fraction: float = 1.0,
    seed: int = 0,
    sep: str = "</s>",
    teacher: bool = True,
) -> TaskData:
    """Load a paper task from the reference ``datasets/`` layout.

    Args:
        task: Task name or spec (``cqa``, ``svamp``, ``esnli``, ``anli1``).
        data_dir: The folder holding ``<task>/<task>_<split>.json`` and ``<task>/llm/``.
        train_fraction: Share of the training split to keep, drawn with ``seed``.
        seed: Seed of the train subsample (the validation carve always uses seed 0).
        sep: What joins premise and hypothesis for NLI tasks; pass the student tokenizer's
            end-of-sequence token to format inputs as the reference does (T5's is ``</s>``).
        teacher: Join each row with its parsed teacher completion when the files are there.

    Returns:
        TaskData whose ``missing`` names the files of absent splits. Where no validation file
        ships but train does, 10% of train (seed 0) becomes validation, as in the reference.

    Raises:
        MissingSplitError: none of the task's split files is there.
        DataError: a file is malformed or teacher outputs do not match the rows.
    """
    task = get_task(task)
    data_dir = Path(data_dir)
    splits: dict[str, list[Example]] = {}
    missing: dict[str, Path] = {}
    notes: list[str] = []
    for split in PAPER_SPLITS:
        path = split_path(data_dir, task, split)
        if path.exists():
            splits[split] = load_split(data_dir, task, split, sep=sep, teacher=teacher)
            if teacher and splits[split] and splits[split][0].teacher is None:
                notes.append(
                    f"{split}: no teacher outputs (expected {cot_path(data_dir, task, split, 0)})"
                )
        else:
            missing[split] = path
    if not splits:
        expected = ", ".join(str(path) for path in missing.values())
        raise MissingSplitError(
            f"no data for task {task.name!r} under {data_dir}: "
            f"expected at least one of {expected}. "
            f"--data-dir should be the folder that holds {_layout(task).folder}/"
        )
    carve = (
        "valid",
        VALID_FRACTION,
        VALID_SEED,
        ", as the reference does (no validation file ships)",
    )
    carve_and_subsample(splits, notes, carves=[carve], train_fraction=train_fraction, seed=seed)
    missing = {split: path for split, path in missing.items() if split not in splits}
    for split, path in missing.items():
        logger.debug("%s: split %r not available (expected %s)", task.name, split, path)
    ordered = {name: splits[name] for name in PAPER_SPLITS if name in splits}
    return TaskData(task=task, splits=ordered, missing=missing, notes=notes)


def write_paper_task(data: TaskData, data_dir: str | Path) -> Path:
    """Write ``data``'s splits in the reference layout under ``data_dir`` (each example's row
    is its ``meta`` with the label put back), so that ``load_paper_task`` reads them again;
    returns ``data_dir``."""
    task = data.task
    for split, examples in data.splits.items():
        rows = [{**example.meta, task.label_field: example.label} for example in examples]
        path = split_path(Path(data_dir), task, split)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_jsonl(path, rows)
    return Path(data_dir)
