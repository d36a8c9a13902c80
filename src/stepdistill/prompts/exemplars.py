"""Few-shot chain-of-thought exemplars: (input, rationale, label) triplets.

The built-in ones under ``exemplars/`` were written for this project (the paper's prompts were
never released). A user file is a JSON list or JSON lines of objects with ``rationale`` and
``label`` plus either ``input`` or the raw fields of the task's input template.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from stepdistill.data.io import read_jsonl
from stepdistill.errors import DataError
from stepdistill.tasks.base import Task


@dataclass(frozen=True)
class Exemplar:
    """One worked example: ``fields`` holds ``input`` and the raw fields prompts refer to."""

    fields: dict[str, Any]
    rationale: str
    label: str


def _exemplar(task: Task, row: dict[str, Any], where: str) -> Exemplar:
    for key in ("rationale", "label"):
        if not str(row.get(key) or "").strip():
            raise DataError(f"{where}: exemplar has no {key!r}; fields present: {', '.join(row)}")
    raw = {k: v for k, v in row.items() if k not in ("rationale", "label")}
    if "input" not in raw:
        raw["input"] = task.format_input(raw, sep="\n")
    checked = task.label_kind.check(str(row["label"]))
    if checked.label is None:
        raise DataError(
            f"{where}: exemplar label {row['label']!r} is not {task.label_kind.answer_format()} "
            f"({checked.error})"
        )
    return Exemplar(fields=raw, rationale=str(row["rationale"]).strip(), label=str(row["label"]))


def builtin_exemplars(task: Task) -> list[Exemplar]:
    """The exemplars shipped for a paper task. Raises DataError for tasks without any."""
    resource = resources.files("stepdistill.prompts").joinpath("exemplars", f"{task.name}.json")
    if not resource.is_file():
        raise DataError(
            f"no built-in exemplars for task {task.name!r}: give an exemplar file "
            "(--exemplars) or use zero-shot chain of thought (--zero-shot)"
        )
    rows = json.loads(resource.read_text(encoding="utf-8"))
    return [_exemplar(task, row, f"{task.name}.json[{i}]") for i, row in enumerate(rows)]


def load_exemplars(task: Task, path: str | Path) -> list[Exemplar]:
    """Exemplars from a user's JSON list or JSON-lines file."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such exemplar file: {path}")
    text = path.read_text(encoding="utf-8")
    rows = json.loads(text) if text.lstrip().startswith("[") else read_jsonl(path)
    if not rows:
        raise DataError(f"{path}: no exemplars")
    return [_exemplar(task, row, f"{path}:{i + 1}") for i, row in enumerate(rows)]
