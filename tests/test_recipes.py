"""Every shipped recipe loads and validates, and its header says how to run it."""

from __future__ import annotations

from pathlib import Path

import pytest

from stepdistill.experiments import grid, load_recipe

# experiment recipes; recipes/accelerate/ holds launcher configs (tests/test_accelerate_configs.py)
RECIPES = sorted(
    path
    for path in (Path(__file__).resolve().parent.parent / "recipes").rglob("*.yaml")
    if path.parent.name != "accelerate"
)


def test_recipes_are_shipped():
    assert len(RECIPES) >= 10
    assert {path.parent.name for path in RECIPES} == {"paper", "cpu"}


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_recipe_is_valid(path):
    recipe = load_recipe(path)
    assert len(grid(recipe)) >= 4
    header = path.read_text().splitlines()[:12]
    assert any(
        line.startswith("#   ")
        and "stepdistill experiment " + str(path.relative_to(path.parents[1].parent)) in line
        for line in header
    )
    if path.parent.name == "paper":
        settings = recipe.settings
        assert (
            settings["learning_rate"],
            settings["per_device_batch_size"],
            settings["max_steps"],
        ) == (5e-5, 64, 10000)
        assert settings["max_input_length"] == 1024
    else:
        assert (
            recipe.data_dir.resolve()
            == (path.parents[2].parent / "shared" / "data" / "paper").resolve()
        )
