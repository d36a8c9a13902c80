"""Where a task and its data come from: a registered paper task with the reference
``datasets/`` folder, or a task file. Every command resolves ``--task`` through here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stepdistill.data.io import read_yaml
from stepdistill.data.paper import load_paper_task
from stepdistill.data.task_data import TaskData
from stepdistill.data.task_file_data import load_task_file_data
from stepdistill.errors import StepdistillError
from stepdistill.tasks import Task, get_task
from stepdistill.tasks.task_file import TaskFile, is_task_file, parse_task_file

DATA_DIR_ENV = "STEPDISTILL_DATA_DIR"


@dataclass(frozen=True)
class TaskSource:
    """A task and how to load its data.

    Attributes:
        task: The task.
        task_file: The task file it came from (its data named inside), or None.
        data_dir: The reference ``datasets/`` folder of a registered paper task, or None.
    """

    task: Task
    task_file: TaskFile | None = None
    data_dir: Path | None = None

    def load(
        self,
        *,
        train_fraction: float = 1.0,
        seed: int = 0,
        sep: str = "</s>",
        teacher: bool = True,
    ) -> TaskData:
        """The task's splits (``teacher``: join the paper's teacher outputs, where shipped).

        Raises:
            StepdistillError: a paper task without a data folder.
            DataError / MissingSplitError: data that is absent or not as the task says.
        """
        if not 0 < train_fraction <= 1:
            raise StepdistillError(f"train fraction must be in (0, 1], got {train_fraction}")
        if self.task_file is not None:
            return load_task_file_data(
                self.task_file, train_fraction=train_fraction, seed=seed, sep=sep
            )
        if self.data_dir is None:
            raise StepdistillError(
                f"task {self.task.name!r} reads the reference datasets/ folder: give --data-dir "
                f"or set ${DATA_DIR_ENV} (or give a task file)"
            )
        return load_paper_task(
            self.task,
            self.data_dir,
            train_fraction=train_fraction,
            seed=seed,
            sep=sep,
            teacher=teacher,
        )

    def input_paths(self) -> list[Path]:
        """The files and folders the task reads (never to be deleted by an output)."""
        if self.task_file is not None:
            data = [s.path for s in self.task_file.sources.values() if s.path is not None]
            exemplars = [self.task_file.exemplars] if self.task_file.exemplars else []
            return [self.task_file.path, *data, *exemplars]
        return [self.data_dir] if self.data_dir else []

    def to_info(self) -> dict[str, Any]:
        """Where the data is, for a trained folder's ``stepdistill.json``: the task file's
        path and contents, or the data folder."""
        if self.task_file is not None:
            return {
                "task_file": {"path": str(self.task_file.path), "contents": self.task_file.contents}
            }
        return {"data_dir": str(self.data_dir) if self.data_dir else None}


def load_task_file(path: str | Path) -> TaskFile:
    """Read and check a task file (paths inside it are relative to it).

    Raises:
        FileNotFoundError: no such file.
        DataError: malformed YAML or a bad key, naming the file and the key.
    """
    path = Path(path)
    return parse_task_file(path.resolve(), read_yaml(path, "task file"))


def task_source(reference: str | Path | Task, *, data_dir: str | Path | None = None) -> TaskSource:
    """A registered task name (with ``data_dir``, the reference layout) or a task file path.

    Raises:
        UnknownNameError: neither a task file nor a registered task (the closest name is named).
        FileNotFoundError / DataError: a task file that is absent or malformed.
    """
    if isinstance(reference, Task):
        return TaskSource(reference, data_dir=Path(data_dir) if data_dir else None)
    if is_task_file(reference):
        task_file = load_task_file(reference)
        return TaskSource(task_file.task, task_file=task_file)
    return TaskSource(get_task(str(reference)), data_dir=Path(data_dir) if data_dir else None)


def task_source_from_info(task: Task, data_info: dict[str, Any]) -> TaskSource:
    """The task source a trained folder was trained from (its ``stepdistill.json`` data)."""
    stored = data_info.get("task_file")
    if stored:
        task_file = parse_task_file(Path(stored["path"]), stored["contents"])
        return TaskSource(task_file.task, task_file=task_file)
    data_dir = data_info.get("data_dir")
    return TaskSource(task, data_dir=Path(data_dir) if data_dir else None)
