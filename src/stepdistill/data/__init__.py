"""Loaders that all yield ``Example``: the paper's data, user files, ``datasets`` objects."""

from stepdistill.data.hf import dataset_to_examples, examples_to_dataset
from stepdistill.data.inspect import inspect_task
from stepdistill.data.paper import load_paper_task, write_paper_task
from stepdistill.data.splits import seeded_split, subsample
from stepdistill.data.task_data import TaskData
from stepdistill.data.user import ColumnMap, load_user_examples, rows_to_examples

__all__ = [
    "ColumnMap",
    "TaskData",
    "dataset_to_examples",
    "examples_to_dataset",
    "inspect_task",
    "load_paper_task",
    "load_user_examples",
    "rows_to_examples",
    "seeded_split",
    "subsample",
    "write_paper_task",
]
