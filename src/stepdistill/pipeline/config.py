"""The pipeline file.

```yaml
task: task.yaml              # a task file (relative to this file) or a registered task
data_dir: null               # the reference datasets/ folder, for a registered task only
output: runs/my-task         # every stage's artifact goes here
teacher:                     # `stepdistill extract`'s settings; omit when the data has rationales
  teacher: openai:gpt-4o-mini
  base_url: http://127.0.0.1:8080/v1
  filters: [agree-with-gold]
  max_cost: 5.0
  price_per_1k_prompt: 0.00015
  price_per_1k_completion: 0.0006
train:
  student: smollm2-135m
  methods: [standard, {method: step-by-step, settings: {shared_input: true}}]
  settings: {max_steps: 300, per_device_batch_size: 8}   # `stepdistill train`'s settings
  train_fraction: 1.0        # and every other run setting of `stepdistill train` but the
  data_seed: 0               #   teacher file and resume / overwrite / force, which the
  max_valid_examples: null   #   pipeline manages itself
export: {quantization: int8}   # optional: a CTranslate2 export of every student
```
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from stepdistill.comparisons import default_pairs
from stepdistill.config_file import (
    apply_overrides,
    check_keys,
    resolve_path,
    section,
    settings_from,
)
from stepdistill.data.io import read_yaml
from stepdistill.data.task_source import TaskSource, task_source
from stepdistill.errors import DataError
from stepdistill.experiments import MethodEntry, parse_method_entries
from stepdistill.extraction import TeacherSettings
from stepdistill.serving import QUANTIZATIONS
from stepdistill.tasks.task_file import is_task_file
from stepdistill.training import RunSettings, TrainConfig, make_config

KEYS = ("task", "data_dir", "output", "teacher", "train", "export")
# the run settings a pipeline takes: every one but those it manages itself
MANAGED_RUN_KEYS = ("teacher_file", "overwrite", "resume", "force")
RUN_KEYS = tuple(f.name for f in fields(RunSettings) if f.name not in MANAGED_RUN_KEYS)
TRAIN_KEYS = ("student", "methods", "settings", "seeds", "compare", *RUN_KEYS)
EXPORT_KEYS = ("quantization",)


@dataclass(frozen=True)
class StudentRun:
    """One student of the stage: a method entry trained with one seed (None: the settings'
    seed, in a folder named by the label alone)."""

    entry: MethodEntry
    seed: int | None = None

    @property
    def name(self) -> str:
        """Its folder, relative to the output: ``LABEL`` or ``LABEL/seedN``."""
        return self.entry.label if self.seed is None else f"{self.entry.label}/seed{self.seed}"


@dataclass(frozen=True)
class TrainStage:
    """The students to train: one trained folder per method entry and seed, and which
    methods are compared with which (default: every one with standard fine-tuning)."""

    student: str
    methods: tuple[MethodEntry, ...]
    settings: dict[str, Any] = field(default_factory=dict)
    run: RunSettings = field(default_factory=RunSettings)
    seeds: tuple[int, ...] | None = None
    compare: tuple[tuple[str, str], ...] | None = None

    def students(self) -> list[StudentRun]:
        """Every student to train, method by method, seed by seed."""
        seeds: tuple[int | None, ...] = self.seeds if self.seeds is not None else (None,)
        return [StudentRun(entry, seed) for entry in self.methods for seed in seeds]

    def pairs(self) -> list[tuple[str, str]]:
        """The (treatment, baseline) labels whose verdicts the report gives."""
        if self.compare is not None:
            return list(self.compare)
        return default_pairs([(entry.label, entry.method) for entry in self.methods])

    def config(self, entry: MethodEntry, seed: int | None = None) -> TrainConfig:
        """The resolved training config of one method entry (and seed)."""
        chosen = {} if seed is None else {"seed": seed}
        return make_config(entry.method, **{**self.settings, **entry.settings, **chosen})

    def run_settings(self, teacher_file: Path | None, *, resume: bool) -> RunSettings:
        """The run-level settings of every student of the stage."""
        return replace(
            self.run, teacher_file=str(teacher_file) if teacher_file else None, resume=resume
        )


@dataclass(frozen=True)
class PipelineConfig:
    """A parsed pipeline file (relative paths resolved against its folder)."""

    path: Path | None  # None: a pipeline made in code (the demo's)
    task: str
    data_dir: Path | None
    output: Path
    teacher: TeacherSettings | None
    train: TrainStage
    export_quantization: str | None = None

    @property
    def origin(self) -> str:
        """The pipeline file, or ``built-in`` for a pipeline made in code."""
        return str(self.path) if self.path is not None else "built-in"

    def source(self) -> TaskSource:
        return task_source(self.task, data_dir=self.data_dir)


def load_pipeline(
    path: str | Path, *, output: str | Path | None = None, overrides: list[str] | None = None
) -> PipelineConfig:
    """Read and check a pipeline file before anything runs.

    Raises:
        FileNotFoundError: no such file.
        DataError: an unknown key, task, method or setting, naming the file and the key.
    """
    path = Path(path)
    where = f"pipeline {path}"
    data = apply_overrides(read_yaml(path, "pipeline"), overrides or [])
    check_keys(data, KEYS, where)
    for key in ("task", "train"):
        if key not in data:
            raise DataError(f"{where}: missing {key!r}")
    if output is None and "output" not in data:
        raise DataError(f"{where}: missing 'output' (or give --output)")
    if output is None and not str(data["output"] or "").strip():
        raise DataError(f"{where}: 'output' is empty; give the run's folder (or --output)")
    task = str(data["task"])
    if is_task_file(task):
        task = str(resolve_path(task, path.parent))
    train = section(data, "train", TRAIN_KEYS, where)
    if "student" not in train or "methods" not in train:
        raise DataError(f"{where}: train needs 'student' and 'methods'")
    teacher = None
    if data.get("teacher") is not None:
        if not isinstance(data["teacher"], dict):
            raise DataError(f"{where}: 'teacher' must be a mapping of extract settings")
        teacher = TeacherSettings.from_options(dict(data["teacher"]), f"{where}: teacher")
    export = section(data, "export", EXPORT_KEYS, where) if "export" in data else None
    quantization = None
    if export is not None:
        quantization = export.get("quantization", "int8")
        if quantization not in QUANTIZATIONS:
            raise DataError(f"{where}: export.quantization must be one of {QUANTIZATIONS}")
    student = str(train["student"])
    if Path(student).expanduser().exists() or student.startswith((".", "/", "~")):
        student = str(resolve_path(student, path.parent))  # a local folder, relative to the file
    try:
        stage = TrainStage(
            student=student,
            methods=parse_method_entries(train["methods"], where),
            settings=dict(train.get("settings") or {}),
            run=run_settings(train, where),
            seeds=seeds_of(train, where),
            compare=pairs_of(train, where),
        )
        for entry in stage.methods:  # every setting is checked before anything runs
            stage.config(entry)
        config = PipelineConfig(
            path=path.resolve(),
            task=task,
            data_dir=resolve_path(data["data_dir"], path.parent) if data.get("data_dir") else None,
            output=Path(output)
            if output is not None
            else resolve_path(data["output"], path.parent),
            teacher=teacher,
            train=stage,
            export_quantization=quantization,
        )
        config.source()  # the task (file) is read and checked now
    except DataError:
        raise
    except (ValueError, TypeError) as error:
        raise DataError(f"{where}: {error}") from None
    return config


def run_settings(train: dict[str, Any], where: str) -> RunSettings:
    """The run settings of a pipeline's ``train`` section (each checked by ``RunSettings``)."""
    values = {key: train[key] for key in RUN_KEYS if key in train}
    return settings_from(RunSettings, values, f"{where}: train")


def seeds_of(train: dict[str, Any], where: str) -> tuple[int, ...] | None:
    """``train.seeds``: each method is trained once per seed on the same data."""
    if "seeds" not in train:
        return None
    seeds = train["seeds"]
    if not isinstance(seeds, list) or not seeds or not all(type(s) is int for s in seeds):
        raise DataError(f"{where}: train.seeds must be a non-empty list of integers, got {seeds!r}")
    if len(set(seeds)) != len(seeds):
        raise DataError(f"{where}: train.seeds repeats a seed: {seeds}")
    return tuple(seeds)


def pairs_of(train: dict[str, Any], where: str) -> tuple[tuple[str, str], ...] | None:
    """``train.compare``: [[treatment label, baseline label], ...], each label a method's."""
    if "compare" not in train:
        return None
    labels = {
        entry if isinstance(entry, str) else entry.get("label", entry.get("method"))
        for entry in train["methods"]
    }
    pairs = train["compare"]
    if not isinstance(pairs, list) or not all(
        isinstance(pair, list) and len(pair) == 2 for pair in pairs
    ):
        raise DataError(f"{where}: train.compare must be a list of [method label, baseline label]")
    for pair in pairs:
        unknown = [label for label in pair if label not in labels]
        if unknown:
            raise DataError(
                f"{where}: train.compare names {unknown[0]!r}, which is no method label "
                f"({', '.join(sorted(map(str, labels)))})"
            )
    return tuple((str(a), str(b)) for a, b in pairs)
