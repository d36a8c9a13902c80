"""Experiments: recipe grids (``load_recipe``), resumable runs (``run_recipe``), tables and
plots. Everything outside this package imports from here, never from its modules."""

from stepdistill.experiments.recipe import MethodEntry, Recipe, load_recipe, parse_method_entries
from stepdistill.experiments.runner import grid, run_recipe, summarise, write_reports

__all__ = [
    "MethodEntry",
    "Recipe",
    "grid",
    "load_recipe",
    "parse_method_entries",
    "run_recipe",
    "summarise",
    "write_reports",
]
