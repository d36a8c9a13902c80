"""The trained folder's format: the one place that writes and reads ``stepdistill.json``,
``metrics.json`` and the model card, and stamps their provenance.

A trained folder is a plain Hugging Face model folder (weights, config, tokenizer) plus:

- ``stepdistill.json``: task, method, prompts, label space, resolved config, student, data
  provenance, versions and git commit (``ModelInfo`` reads it back);
- ``metrics.json``: validation curve, test accuracy, losses, throughput;
- ``README.md``: the model card;
- ``predictions_test.jsonl``: the test predictions, when there is a test split.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stepdistill.data.io import read_json, read_jsonl, write_json, write_jsonl
from stepdistill.errors import StepdistillError
from stepdistill.models.model_card import model_card
from stepdistill.provenance import provenance
from stepdistill.tasks import TASKS, AnswerPattern, Task
from stepdistill.tasks.labels import label_kind_from_dict, label_kind_to_dict

INFO_FILE = "stepdistill.json"
METRICS_FILE = "metrics.json"
CARD_FILE = "README.md"
TEST_PREDICTIONS_FILE = "predictions_test.jsonl"
FORMAT_VERSION = 1
# What joined premise and hypothesis when a folder does not say (load_paper_task's default).
DEFAULT_INPUT_SEPARATOR = "</s>"


def task_to_info(task: Task) -> dict[str, Any]:
    """The task as saved in ``stepdistill.json``: enough to rebuild it without its registry."""
    return {
        "name": task.name,
        "label_kind": label_kind_to_dict(task.label_kind),
        "metric": task.metric_name,
        "input_template": task.input_template,
        "answer_pattern": {
            "answer_marker": task.answer_pattern.answer_marker,
            "label_regex": task.answer_pattern.label_regex,
            "stop_markers": list(task.answer_pattern.stop_markers),
        },
        "label_map": dict(task.label_map) if task.label_map else None,
        "input_column": task.input_column,
        "instruction": task.instruction,
    }


def task_from_info(info: dict[str, Any]) -> Task:
    """The registered task of that name, or one rebuilt from the saved spec."""
    if info["name"] in TASKS:
        return TASKS.get(info["name"])
    pattern = info["answer_pattern"]
    return Task(
        name=info["name"],
        description="(from a model folder)",
        input_template=info["input_template"],
        label_field="label",
        label_kind=label_kind_from_dict(info["label_kind"]),
        metric_name=info["metric"],
        answer_pattern=AnswerPattern(
            pattern["answer_marker"], pattern["label_regex"], tuple(pattern["stop_markers"])
        ),
        label_map=info.get("label_map"),
        input_column=info.get("input_column"),
        instruction=info.get("instruction", ""),
    )


@dataclass(frozen=True)
class ModelInfo:
    """A trained (or exported) folder's ``stepdistill.json``, with typed access to its parts."""

    folder: Path
    data: dict[str, Any]

    @property
    def task(self) -> Task:
        return task_from_info(self.data["task"])

    @property
    def method(self) -> str:
        return self.data["method"]

    @property
    def config(self) -> dict[str, Any]:
        """The resolved training config (field -> value), without the method name."""
        return dict(self.data["config"])

    @property
    def student_kind(self) -> str:
        return self.data["student"]["kind"]

    @property
    def max_new_tokens(self) -> int:
        return int(self.data["generation"]["max_new_tokens"])

    @property
    def data_info(self) -> dict[str, Any]:
        """Where the training data came from (data folder, fraction, teacher file, ...)."""
        return dict(self.data.get("data") or {})

    @property
    def input_separator(self) -> str:
        """What joined a task's input fields (premise and hypothesis) in training."""
        return self.data_info.get("input_separator") or DEFAULT_INPUT_SEPARATOR

    @property
    def export(self) -> dict[str, Any] | None:
        """How the folder was exported (backend, quantization, source), or None if it was not."""
        return self.data.get("export")


def is_model_folder(folder: str | Path) -> bool:
    return (Path(folder) / INFO_FILE).is_file()


def read_info(folder: str | Path) -> ModelInfo:
    """``stepdistill.json`` of a trained or exported folder.

    Raises:
        StepdistillError: the folder holds no ``stepdistill.json``, or one that is not JSON.
    """
    path = Path(folder) / INFO_FILE
    if not path.exists():
        raise StepdistillError(f"{folder} is not a stepdistill model folder: no {INFO_FILE}")
    return ModelInfo(Path(folder), read_json(path, INFO_FILE))


def read_metrics(folder: str | Path) -> dict[str, Any]:
    """``metrics.json`` of a trained folder. Raises StepdistillError when it is absent."""
    path = Path(folder) / METRICS_FILE
    if not path.exists():
        raise StepdistillError(f"{folder} has no {METRICS_FILE}: its run did not finish")
    return read_json(path, METRICS_FILE)


def read_test_predictions(folder: str | Path) -> list[dict[str, Any]]:
    """``predictions_test.jsonl`` of a trained folder: id, label, prediction, correct.

    Raises:
        StepdistillError: the folder has no test predictions (no test split, or not finished).
    """
    path = Path(folder) / TEST_PREDICTIONS_FILE
    if not path.is_file():
        raise StepdistillError(
            f"{folder} has no {TEST_PREDICTIONS_FILE}: its run had no labeled test split or did "
            "not finish"
        )
    return read_jsonl(path)


def has_metrics(folder: str | Path) -> bool:
    """Whether a run finished in ``folder`` (its metrics are written last)."""
    return (Path(folder) / METRICS_FILE).is_file()


def build_info(
    *,
    task: Task,
    method: str,
    config: dict[str, Any],
    prompts: dict[str, Any],
    student: dict[str, Any],
    max_new_tokens: int,
    data_info: dict[str, Any] | None,
) -> dict[str, Any]:
    """The contents of ``stepdistill.json`` for a freshly trained folder, provenance included."""
    stamp = provenance()
    return {
        "format_version": FORMAT_VERSION,
        "task": task_to_info(task),
        "method": method,
        "config": config,
        "prompts": prompts,
        "student": student,
        "label_space": list(task.label_space) if task.label_space else None,
        "generation": {"max_new_tokens": max_new_tokens},
        "data": data_info or {},
        "versions": stamp["versions"],
        "machine": stamp["machine"],
        "git_commit": stamp["git_commit"],
        "created": stamp["created"],
    }


def write_test_predictions(folder: Path, rows: Iterable[dict[str, Any]]) -> None:
    write_jsonl(folder / TEST_PREDICTIONS_FILE, rows)


def write_model_files(
    folder: Path, *, info: dict[str, Any], metrics: dict[str, Any], method_description: str
) -> None:
    """``stepdistill.json``, ``metrics.json`` and the model card. Metrics go last: their
    presence marks a finished run."""
    write_json(folder / INFO_FILE, info)
    (folder / CARD_FILE).write_text(
        model_card(info, metrics, folder.name, method_description), encoding="utf-8"
    )
    write_json(folder / METRICS_FILE, metrics)


def write_export_info(source: ModelInfo, output: Path, export: dict[str, Any]) -> None:
    """An exported folder's ``stepdistill.json``: the source's, with how it was exported."""
    write_json(output / INFO_FILE, {**source.data, "export": export})
