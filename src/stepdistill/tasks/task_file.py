"""Task files: a user's task described in YAML, with no Python.

```yaml
name: my-nli
data:                       # per split: a file (.jsonl .json .csv .tsv .parquet), a datasets
  train: data/train.csv     #   folder (save_to_disk) with `split:`, or `hf: NAME` for
  valid: data/valid.csv     #   datasets.load_dataset; valid (and test) are carved from train
  test: data/test.csv       #   when absent (valid_fraction 0.1, test_fraction 0, split_seed 0)
input: "Premise: {premise}\\nHypothesis: {hypothesis}"   # template over columns (or input_column)
label_column: label         # absent: the data is unlabeled (teacher labels only)
label_kind: choice          # choice | text | number | equation
labels: [entailment, neutral, contradiction]            # choice only
label_map: {0: entailment, 1: neutral, 2: contradiction} # optional: raw values -> label text
rationale_column: explanation   # optional: rationales already in the data
group_column: premise           # optional: carved splits keep each group on one side
exemplars: exemplars.jsonl      # optional few-shot (input, rationale, label); else zero-shot CoT
instruction: "Decide whether the hypothesis follows from the premise."
```

Paths are relative to the task file. Every error names the file and the key at fault and says
what would be accepted.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stepdistill.config_file import check_keys
from stepdistill.errors import DataError
from stepdistill.evaluation.metrics import METRICS
from stepdistill.tasks.base import AnswerPattern, Task
from stepdistill.tasks.labels import TASK_FILE_LABEL_KINDS, ClosedSet, LabelKind

SPLITS = ("train", "valid", "test")
TASK_FILE_SUFFIXES = (".yaml", ".yml")
KEYS = {
    "name": "the task's name",
    "description": "one line for listings",
    "data": "where each split's rows are (train, valid, test)",
    "input": "template over the columns, e.g. 'Premise: {premise}'",
    "input_column": "the column that is the input as it is (instead of input)",
    "label_column": "the column of the gold label (absent: unlabeled data)",
    "label_kind": "choice, text, number or equation",
    "labels": "the labels of a choice task",
    "label_map": "raw label values -> label text",
    "metric": "the metric (default: the label kind's)",
    "rationale_column": "a column of rationales already in the data",
    "teacher_label_column": "a column of a teacher's labels that go with those rationales",
    "id_column": "a column of stable example ids",
    "group_column": "a column whose rows stay on one side of carved splits (an NLI pair's "
    "premise, a ticket's customer)",
    "exemplars": "few-shot exemplar file (JSON list or JSON lines of input, rationale, label)",
    "instruction": "what the teacher is asked to do",
}
# besides the splits: valid_fraction and test_fraction of train are carved out where that split
# is missing, with split_seed
DATA_KEYS = (*SPLITS, "valid_fraction", "test_fraction", "split_seed")
SOURCE_KEYS = ("path", "split", "hf", "config")
# the answer marker of every task file's teacher prompt and parser (the paper's wording)
ANSWER_MARKER = "So the answer is"
STOP_MARKERS = ("\nQ:",)


@dataclass(frozen=True)
class SplitSource:
    """Where one split's rows are: a file, a ``save_to_disk`` folder, or a hub dataset.

    Attributes:
        path: A local file or folder (None for a hub dataset).
        hf: A ``datasets.load_dataset`` name (None for local data).
        config: The hub dataset's configuration name, if it has several.
        split: The split inside a folder or hub dataset (``train``, ``validation``, ...).
    """

    path: Path | None = None
    hf: str | None = None
    config: str | None = None
    split: str | None = None

    def describe(self) -> str:
        where = str(self.path) if self.path is not None else f"hf:{self.hf}"
        extra = [f"config {self.config}"] if self.config else []
        extra += [f"split {self.split}"] if self.split else []
        return where + (f" ({', '.join(extra)})" if extra else "")

    def to_dict(self) -> dict[str, Any]:
        values = {"path": str(self.path) if self.path else None, "hf": self.hf}
        values.update(config=self.config, split=self.split)
        return {key: value for key, value in values.items() if value is not None}


@dataclass(frozen=True)
class TaskFile:
    """A parsed task file: the task, where its data is, and which columns hold what.

    Attributes:
        path: The YAML file (relative paths inside it were resolved against its folder).
        contents: The file's contents as read, kept in trained folders.
        task: The task the file describes.
        sources: Split name -> where its rows are.
        label_column, rationale_column, teacher_label_column, id_column: The columns.
        group_column: Rows that share its value are carved into the same split.
        exemplars: Few-shot exemplar file; None: zero-shot chain of thought.
        valid_fraction, test_fraction, split_seed: How missing splits are carved from train.
    """

    path: Path
    contents: dict[str, Any]
    task: Task
    sources: dict[str, SplitSource]
    label_column: str | None = None
    rationale_column: str | None = None
    teacher_label_column: str | None = None
    id_column: str | None = None
    group_column: str | None = None
    exemplars: Path | None = None
    valid_fraction: float = 0.1
    test_fraction: float = 0.0
    split_seed: int = 0
    template_fields: tuple[str, ...] = field(default=())

    @property
    def columns(self) -> dict[str, str]:
        """Role -> column for every column the file names (template fields aside)."""
        roles = {
            "input_column": self.task.input_column,
            "label_column": self.label_column,
            "rationale_column": self.rationale_column,
            "teacher_label_column": self.teacher_label_column,
            "id_column": self.id_column,
            "group_column": self.group_column,
        }
        return {role: column for role, column in roles.items() if column}


def is_task_file(reference: str | Path) -> bool:
    """Whether ``reference`` names a task file (a .yaml / .yml path) rather than a task name."""
    return str(reference).lower().endswith(TASK_FILE_SUFFIXES)


def _fail(path: Path, message: str) -> DataError:
    return DataError(f"task file {path}: {message}")


def _shown(value: Any, limit: int = 80) -> str:
    """A value as an error message quotes it: its repr, cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def _text(path: Path, data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, f"{key!r} must be a non-empty string, got {_shown(value)}")
    return value


def _source(path: Path, split: str, value: Any) -> SplitSource:
    where = path.parent
    if isinstance(value, str):
        return SplitSource(path=(where / value).resolve())
    if not isinstance(value, Mapping):
        raise _fail(
            path, f"data.{split} must be a path or a mapping with path / hf, got {_shown(value)}"
        )
    check_keys(value, SOURCE_KEYS, f"task file {path}: data.{split}")
    for key in SOURCE_KEYS:
        if value.get(key) is not None and not isinstance(value[key], str):
            raise _fail(path, f"data.{split}.{key} must be a string, got {_shown(value[key])}")
    if bool(value.get("path")) == bool(value.get("hf")):
        raise _fail(path, f"data.{split}: give exactly one of 'path' and 'hf'")
    local = (where / str(value["path"])).resolve() if value.get("path") else None
    return SplitSource(
        path=local,
        hf=value.get("hf"),
        config=value.get("config"),
        split=value.get("split"),
    )


def _fraction(path: Path, data: Mapping[str, Any], key: str, default: float) -> float:
    value = data.get(key, default)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < 1:
        raise _fail(path, f"data.{key} must be a number in [0, 1), got {_shown(value)}")
    return float(value)


def template_fields(template: str) -> tuple[str, ...]:
    """The column names a ``str.format`` template reads (``{choices[0]}`` reads ``choices``)."""
    names = []
    for _, name, _, _ in string.Formatter().parse(template):
        if name is not None and name != "":
            base = name.split(".", 1)[0].split("[", 1)[0]
            if base and base not in names:
                names.append(base)
    return tuple(names)


def _label_kind(path: Path, data: Mapping[str, Any]) -> LabelKind:
    key = data.get("label_kind", "text")
    if not isinstance(key, str) or key not in TASK_FILE_LABEL_KINDS:
        known = ", ".join(TASK_FILE_LABEL_KINDS.names())
        raise _fail(path, f"label_kind {_shown(key)} is not one of {known}")
    kind_class = TASK_FILE_LABEL_KINDS.get(key)
    labels = data.get("labels")
    if kind_class is ClosedSet:
        if (
            not isinstance(labels, list)
            or not labels
            or not all(
                isinstance(label, (str, int, float)) and str(label).strip() for label in labels
            )
        ):
            raise _fail(path, "label_kind choice needs 'labels': a list of the label texts")
        if len({str(label) for label in labels}) != len(labels):
            raise _fail(path, f"labels must differ from each other, got {labels}")
        return ClosedSet(tuple(str(label) for label in labels))
    if labels is not None:
        raise _fail(path, f"'labels' is for label_kind choice, not {key}")
    return kind_class()


def _label_map(path: Path, data: Mapping[str, Any], kind: LabelKind) -> dict[str, str] | None:
    value = data.get("label_map")
    if value is None:
        return None
    if not isinstance(value, Mapping) or not value:
        raise _fail(
            path, f"label_map must map raw label values to label texts, got {_shown(value)}"
        )
    mapped = {str(raw).strip(): str(label) for raw, label in value.items()}
    for label in mapped.values():
        if kind.check(label).label is None:
            accepted = f"one of {', '.join(kind.labels)}" if kind.labels else f"a {kind.file_key}"
            raise _fail(path, f"label_map: {_shown(label)} is not {accepted}")
    return mapped


def parse_task_file(path: Path, contents: Any) -> TaskFile:
    """A ``TaskFile`` from a task file's parsed contents (paths resolved against ``path``).

    Raises:
        DataError: an unknown or missing key, or a value that is not accepted, naming the
            file, the key and what would be accepted.
    """
    if not isinstance(contents, Mapping):
        raise _fail(path, f"expected a mapping of keys, got {type(contents).__name__}")
    check_keys(contents, KEYS, f"task file {path}")
    name = _text(path, contents, "name") or path.stem
    data = contents.get("data")
    if not isinstance(data, Mapping) or not any(split in data for split in SPLITS):
        raise _fail(path, "'data' must give at least one split (data: {train: FILE})")
    check_keys(data, DATA_KEYS, f"task file {path}: data")
    sources = {split: _source(path, split, data[split]) for split in SPLITS if split in data}
    template, input_column = _text(path, contents, "input"), _text(path, contents, "input_column")
    if bool(template) == bool(input_column):
        raise _fail(path, "give exactly one of 'input' (a template) and 'input_column'")
    kind = _label_kind(path, contents)
    metric = _text(path, contents, "metric") or kind.default_metric
    if metric not in METRICS:
        raise _fail(path, f"metric {_shown(metric)} is not one of {', '.join(METRICS.names())}")
    label_column = _text(path, contents, "label_column")
    label_map = _label_map(path, contents, kind)
    if label_map is not None and label_column is None:
        raise _fail(path, "label_map needs a label_column to map")
    exemplars = _text(path, contents, "exemplars")
    split_seed = data.get("split_seed", 0)
    if not isinstance(split_seed, int) or isinstance(split_seed, bool):
        raise _fail(path, f"data.split_seed must be an integer, got {_shown(split_seed)}")
    task = Task(
        name=name,
        description=_text(path, contents, "description") or f"task file {path.name}",
        input_template=template or "{" + str(input_column) + "}",
        label_field=label_column or "label",
        label_kind=kind,
        metric_name=metric,
        answer_pattern=AnswerPattern(ANSWER_MARKER, kind.label_regex, STOP_MARKERS),
        id_field=_text(path, contents, "id_column"),
        label_map=label_map,
        input_column=input_column,
        instruction=_text(path, contents, "instruction") or "",
    )
    return TaskFile(
        path=path,
        contents=dict(contents),
        task=task,
        sources=sources,
        label_column=label_column,
        rationale_column=_text(path, contents, "rationale_column"),
        teacher_label_column=_text(path, contents, "teacher_label_column"),
        id_column=_text(path, contents, "id_column"),
        group_column=_text(path, contents, "group_column"),
        exemplars=(path.parent / exemplars).resolve() if exemplars else None,
        valid_fraction=_fraction(path, data, "valid_fraction", 0.1),
        test_fraction=_fraction(path, data, "test_fraction", 0.0),
        split_seed=split_seed,
        template_fields=template_fields(template) if template else (),
    )
