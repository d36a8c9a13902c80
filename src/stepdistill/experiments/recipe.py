"""Experiment recipes: a grid of methods x train fractions x seeds (x students) in one YAML."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stepdistill.errors import DataError
from stepdistill.tasks import get_task
from stepdistill.training.methods import get_method, make_config

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
}


@dataclass(frozen=True)
class MethodEntry:
    """One line of the comparison: a label, a training method and its own settings."""

    label: str
    method: str
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Recipe:
    name: str
    task: str
    data_dir: Path
    students: tuple[str, ...]
    methods: tuple[MethodEntry, ...]
    train_fractions: tuple[float, ...]
    seeds: tuple[int, ...]
    settings: dict[str, Any]
    output: Path
    max_valid_examples: int | None = None

    def config(self, entry: MethodEntry, seed: int) -> Any:
        """The resolved training config of one run (validated by its dataclass)."""
        return make_config(entry.method, **{**self.settings, **entry.settings, "seed": seed})


def _path(value: str, base: Path) -> Path:
    path = Path(os.path.expandvars(str(value))).expanduser()
    return path if path.is_absolute() else Path(os.path.normpath(base / path))


def load_recipe(path: str | Path, *, overrides: dict[str, Any] | None = None) -> Recipe:
    """Read and validate a recipe; relative paths are relative to the recipe file.

    Raises:
        DataError: an unknown key, method, task or setting, or an empty grid; the message
            names the recipe file and the value at fault.
    """
    import yaml

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such recipe: {path}")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    data.update(overrides or {})
    unknown = sorted(set(data) - RECIPE_KEYS)
    if unknown:
        raise DataError(f"{path}: unknown keys {unknown}; a recipe takes {sorted(RECIPE_KEYS)}")
    for key in ("task", "data_dir", "students", "methods", "output"):
        if key not in data:
            raise DataError(f"{path}: missing {key!r}")
    try:
        get_task(data["task"])
        methods = []
        for item in data["methods"]:
            item = {"method": item} if isinstance(item, str) else dict(item)
            method = item.pop("method")
            get_method(method)
            label = item.pop("label", method)
            methods.append(MethodEntry(label, method, item.pop("settings", {})))
            if item:
                raise DataError(f"{path}: method entry has unknown keys {sorted(item)}")
        students = data["students"]
        recipe = Recipe(
            name=data.get("name", path.stem),
            task=data["task"],
            data_dir=_path(data["data_dir"], path.parent),
            students=tuple([students] if isinstance(students, str) else students),
            methods=tuple(methods),
            train_fractions=tuple(float(f) for f in data.get("train_fractions", [1.0])),
            seeds=tuple(int(s) for s in data.get("seeds", [0])),
            settings=dict(data.get("settings") or {}),
            output=_path(data["output"], path.parent),
            max_valid_examples=data.get("max_valid_examples"),
        )
        for entry in recipe.methods:  # every setting is checked before anything runs
            recipe.config(entry, recipe.seeds[0] if recipe.seeds else 0)
    except (ValueError, TypeError) as error:
        raise DataError(f"{path}: {error}") from None
    if not (recipe.methods and recipe.train_fractions and recipe.seeds and recipe.students):
        raise DataError(f"{path}: the grid is empty (methods, train_fractions, seeds, students)")
    if any(not 0 < f <= 1 for f in recipe.train_fractions):
        raise DataError(f"{path}: train_fractions must be in (0, 1], got {recipe.train_fractions}")
    return recipe
