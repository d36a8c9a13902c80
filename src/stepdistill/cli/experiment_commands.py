"""``stepdistill experiment RECIPE.yaml``."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    experiment = subparsers.add_parser(
        "experiment",
        help="run a recipe's grid (methods x train fractions x seeds), then tabulate and plot",
        description="Finished runs are skipped and interrupted ones resumed, so the same "
        "command continues a grid that was stopped.",
    )
    experiment.add_argument("recipe", type=Path, help="recipe YAML (see recipes/)")
    experiment.add_argument("--output", type=Path, help="override the recipe's output folder")
    experiment.add_argument("--data-dir", type=Path, help="override the recipe's data_dir")
    experiment.add_argument(
        "--method",
        action="append",
        metavar="LABEL",
        help="run only the method with this label (repeatable); two processes given different "
        "methods can share one grid's output folder",
    )
    experiment.add_argument(
        "--seed",
        action="append",
        type=int,
        metavar="N",
        help="run only this seed of the recipe (repeatable); its summary then covers only the "
        "seeds given",
    )
    experiment.add_argument("--dry-run", action="store_true", help="list the runs, train nothing")
    experiment.set_defaults(handler=run_experiment)


def run_experiment(args: argparse.Namespace) -> int:
    from stepdistill.experiments import load_recipe, run_recipe, write_reports

    overrides = {}
    if args.output:
        overrides["output"] = str(args.output.resolve())
    if args.data_dir:
        overrides["data_dir"] = str(args.data_dir.resolve())
    recipe = load_recipe(args.recipe, overrides=overrides)
    if args.method:
        recipe = recipe.only(args.method)
    if args.seed:
        recipe = recipe.only_seeds(args.seed)
    rows = run_recipe(recipe, dry_run=args.dry_run)
    if args.dry_run:
        for row in rows:
            print(("todo " if row["todo"] else "done ") + row["folder"])
        return 0
    files = write_reports(recipe, rows)
    print(files["table"].read_text(encoding="utf-8"))
    print("\n".join(f"wrote {path}" for path in files.values()))
    return 0
