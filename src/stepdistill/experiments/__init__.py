"""Experiments: recipe grids, resumable runs, tables and plots."""

from stepdistill.experiments.recipe import MethodEntry, Recipe, load_recipe
from stepdistill.experiments.runner import grid, run_recipe, summarise, write_reports

__all__ = [
    "MethodEntry",
    "Recipe",
    "grid",
    "load_recipe",
    "run_recipe",
    "summarise",
    "write_reports",
]
