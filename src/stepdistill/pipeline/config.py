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
TRAIN_KEYS = ("student", "methods", "settings", *RUN_KEYS)
EXPORT_KEYS = ("quantization",)


@dataclass(frozen=True)
class TrainStage:
    """The students to train: one trained folder per method entry."""

    student: str
    methods: tuple[MethodEntry, ...]
    settings: dict[str, Any] = field(default_factory=dict)
    run: RunSettings = field(default_factory=RunSettings)

    def config(self, entry: MethodEntry) -> TrainConfig:
        """The resolved training config of one method entry."""
        return make_config(entry.method, **{**self.settings, **entry.settings})

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
