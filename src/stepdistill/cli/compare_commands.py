"""``stepdistill compare DIR... --baseline DIR...``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    compare = subparsers.add_parser(
        "compare",
        help="did one method beat another beyond the noise? (a verdict with an interval)",
        description="Compare trained folders on their test predictions, seed by seed (the i-th "
        "folder of each side is one seed): the mean accuracy difference with a 95% interval "
        "over test examples and seeds, McNemar's exact test per seed, the smallest detectable "
        "difference, and a verdict: helped, hurt or inside the noise.",
    )
    compare.add_argument("folders", nargs="+", type=Path, help="trained folders, one per seed")
    compare.add_argument(
        "--baseline", nargs="+", type=Path, required=True, help="the baseline's folders, same seeds"
    )
    compare.add_argument(
        "--by-class",
        action="store_true",
        help="also compare on each gold class's test examples alone (closed label sets)",
    )
    compare.add_argument("--json", action="store_true", help="print the comparison as JSON")
    compare.set_defaults(handler=run_compare)


def run_compare(args: argparse.Namespace) -> int:
    from stepdistill.comparisons import read_paired

    paired = read_paired(args.folders, args.baseline)
    comparison = paired.compare()
    by_class = paired.by_class() if args.by_class else {}
    if args.by_class and not by_class:
        print(
            "stepdistill: --by-class: this task has no closed label set, so no per-class lines",
            file=sys.stderr,
        )
    if args.json:
        result = comparison.to_dict()
        if args.by_class:
            result["by_class"] = {label: each.to_dict() for label, each in by_class.items()}
        print(json.dumps(result))
        return 0
    print(comparison.line())
    for label, each in by_class.items():
        print(f"  gold {label!r}: {each.line()}")
    return 0
