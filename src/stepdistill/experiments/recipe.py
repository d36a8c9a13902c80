"""Experiment recipes: a grid of methods x train fractions x seeds (x students) in one YAML."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from stepdistill.comparisons import default_pairs
from stepdistill.config_file import check_keys, resolve_path, settings_from
from stepdistill.data.io import read_yaml
from stepdistill.data.task_source import TaskSource, task_source
from stepdistill.errors import DataError
from stepdistill.tasks.task_file import is_task_file
from stepdistill.training import RunSettings, TrainConfig, get_method, make_config

RECIPE_KEYS = {
    "name",
    "task",
    "data_dir",
    "students",
    "methods",
    "train_fractions",
    "seeds",
    "settings",
    "output",
    "max_valid_examples",
    "max_test_examples",
    "compare",
    "teacher_file",
}


@dataclass(frozen=True)
class MethodEntry:
    """One line of the comparison: a label, a training method and its own settings."""

    label: str
    method: str
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RecipePair:
    """Two method labels whose verdict the summary gives: at every train fraction, or at the
    two fractions named (step-by-step on 25% against standard on 100%)."""

    treatment: str
    baseline: str
    treatment_fraction: float | None = None
    baseline_fraction: float | None = None

    def fractions(self, grid: tuple[float, ...]) -> list[tuple[float, float]]:
        if self.treatment_fraction is not None and self.baseline_fraction is not None:
            return [(self.treatment_fraction, self.baseline_fraction)]
        return [(fraction, fraction) for fraction in grid]


@dataclass(frozen=True)
class Recipe:
    name: str
    task: str
    data_dir: Path | None
    students: tuple[str, ...]
    methods: tuple[MethodEntry, ...]
    train_fractions: tuple[float, ...]
    seeds: tuple[int, ...]
    settings: dict[str, Any]
    output: Path
    max_valid_examples: int | None = None
    max_test_examples: int | None = None  # a smoke run's cap; a result needs every test example
    compare: tuple[RecipePair, ...] | None = None
    teacher_file: Path | None = None  # teacher records in place of the data's own

    def pairs(self) -> tuple[RecipePair, ...]:
        """The comparisons the summary gives (default: every method against standard)."""
        if self.compare is not None:
            return self.compare
        methods = [(entry.label, entry.method) for entry in self.methods]
        return tuple(RecipePair(a, b) for a, b in default_pairs(methods))

    def only(self, labels: list[str]) -> Recipe:
        """The same recipe restricted to the methods with these labels (so that two processes
        can share one grid: each trains its own methods into the same output folder)."""
        known = [entry.label for entry in self.methods]
        unknown = sorted(set(labels) - set(known))
        if unknown:
            raise DataError(f"{self.name}: no method labelled {unknown}; the recipe has {known}")
        kept = tuple(entry for entry in self.methods if entry.label in labels)
        return replace(self, methods=kept)

    def only_seeds(self, seeds: list[int]) -> Recipe:
        """The same recipe restricted to these seeds (so that a queue can save each seed's runs
        as soon as they finish)."""
        unknown = sorted(set(seeds) - set(self.seeds))
        if unknown:
            raise DataError(f"{self.name}: no seed {unknown}; the recipe has {list(self.seeds)}")
        return replace(self, seeds=tuple(seed for seed in self.seeds if seed in seeds))

    def source(self) -> TaskSource:
        """The recipe's task and where its data is."""
        return task_source(self.task, data_dir=self.data_dir)

    def config(self, entry: MethodEntry, seed: int) -> TrainConfig:
        """The resolved training config of one run (validated by its dataclass)."""
        return make_config(entry.method, **{**self.settings, **entry.settings, "seed": seed})

    def run_settings(self, fraction: float, seed: int, *, resume: bool) -> RunSettings:
        """One grid run's run-level settings: a recipe draws each seed's train subsample with
        that seed (a pipeline keeps the two apart); an interrupted run resumes."""
        return RunSettings(
            train_fraction=fraction,
            data_seed=seed,
            max_valid_examples=self.max_valid_examples,
            max_test_examples=self.max_test_examples,
            resume=resume,
            teacher_file=str(self.teacher_file) if self.teacher_file else None,
        )


LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def parse_method_entries(items: Any, where: str) -> tuple[MethodEntry, ...]:
    """Method entries from a list of names or ``{method, label, settings}`` mappings.

    Labels name output folders, so they are plain names, never paths.

    Raises:
        DataError: an unknown method or key, or a label that is not a plain name.
    """
    if isinstance(items, (str, dict)) or not isinstance(items, list) or not items:
        raise DataError(f"{where}: 'methods' must be a list of methods, got {items!r}")
    entries = []
    for item in items:
        item = {"method": item} if isinstance(item, str) else dict(item)
        if "method" not in item:
            raise DataError(f"{where}: a method entry needs 'method', got {item}")
        method = item.pop("method")
        get_method(method)
        label = str(item.pop("label", method))
        if not LABEL.fullmatch(label):
            raise DataError(
                f"{where}: method label {label!r} must be a plain name (letters, digits, '.', "
                "'_', '-'), not a path"
            )
        settings = item.pop("settings", None) or {}
        if item:
            raise DataError(f"{where}: method entry has unknown keys {sorted(item)}")
        entries.append(MethodEntry(label, method, dict(settings)))
    if len({entry.label for entry in entries}) != len(entries):
        raise DataError(f"{where}: method labels must differ: {[e.label for e in entries]}")
    return tuple(entries)


def load_recipe(path: str | Path, *, overrides: dict[str, Any] | None = None) -> Recipe:
    """Read and validate a recipe; relative paths are relative to the recipe file.

    Raises:
        DataError: an unknown key, method, task or setting, or an empty grid; the message
            names the recipe file and the value at fault.
    """
    path = Path(path)
    data = read_yaml(path, "recipe")
    data.update(overrides or {})
    check_keys(data, RECIPE_KEYS, str(path))
    for key in ("task", "students", "methods", "output"):
        if key not in data:
            raise DataError(f"{path}: missing {key!r}")
    task = str(data["task"])
    if is_task_file(task):  # a task file, relative to the recipe
        task = str(resolve_path(task, path.parent))
    elif "data_dir" not in data:
        raise DataError(f"{path}: missing 'data_dir' (the paper task {task!r} reads it)")
    try:
        task_source(task, data_dir=data.get("data_dir"))
        methods = parse_method_entries(data["methods"], str(path))
        students = data["students"]
        recipe = Recipe(
            name=data.get("name", path.stem),
            task=task,
            data_dir=resolve_path(data["data_dir"], path.parent) if data.get("data_dir") else None,
            students=tuple([students] if isinstance(students, str) else students),
            methods=tuple(methods),
            train_fractions=tuple(float(f) for f in data.get("train_fractions", [1.0])),
            seeds=tuple(int(s) for s in data.get("seeds", [0])),
            settings=dict(data.get("settings") or {}),
            output=resolve_path(data["output"], path.parent),
            max_valid_examples=data.get("max_valid_examples"),
            max_test_examples=data.get("max_test_examples"),
            compare=recipe_pairs(data["compare"], methods, str(path))
            if "compare" in data
            else None,
            teacher_file=resolve_path(data["teacher_file"], path.parent)
            if data.get("teacher_file")
            else None,
        )
        for entry in recipe.methods:  # every setting is checked before anything runs
            recipe.config(entry, recipe.seeds[0] if recipe.seeds else 0)
    except (ValueError, TypeError) as error:
        raise DataError(f"{path}: {error}") from None
    if not (recipe.methods and recipe.train_fractions and recipe.seeds and recipe.students):
        raise DataError(f"{path}: the grid is empty (methods, train_fractions, seeds, students)")
    if recipe.teacher_file is not None and not recipe.teacher_file.is_file():
        raise DataError(f"{path}: teacher_file {recipe.teacher_file} does not exist")
    if any(not 0 < f <= 1 for f in recipe.train_fractions):
        raise DataError(f"{path}: train_fractions must be in (0, 1], got {recipe.train_fractions}")
    return recipe


def recipe_pairs(
    items: Any, methods: tuple[MethodEntry, ...], where: str
) -> tuple[RecipePair, ...]:
    """``compare:`` entries: mappings of treatment and baseline labels (and, together,
    treatment_fraction and baseline_fraction)."""
    labels = {entry.label for entry in methods}
    if not isinstance(items, list):
        raise DataError(f"{where}: 'compare' must be a list of {{treatment, baseline}} mappings")
    pairs = []
    for item in items:
        if not isinstance(item, dict):
            raise DataError(f"{where}: a compare entry must be a mapping, got {item!r}")
        pair = settings_from(RecipePair, item, f"{where}: compare")
        for label in (pair.treatment, pair.baseline):
            if label not in labels:
                raise DataError(
                    f"{where}: compare names {label!r}, which is no method label "
                    f"({', '.join(sorted(labels))})"
                )
        if (pair.treatment_fraction is None) != (pair.baseline_fraction is None):
            raise DataError(f"{where}: give treatment_fraction and baseline_fraction together")
        pairs.append(pair)
    return tuple(pairs)
