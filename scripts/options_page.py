"""Write docs/options.md: every command's ``--help``, generated from the parser itself, so that
the reference of options is never out of date (a test compares the committed page)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

PAGE = Path(__file__).resolve().parent.parent / "docs" / "options.md"
WIDTH = "100"


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def commands(
    parser: argparse.ArgumentParser, words: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every command and subcommand, depth first, in the parser's order."""
    found = []
    for name, child in subcommands(parser).items():
        found.append(((*words, name), child))
        found.extend(commands(child, (*words, name)))
    return found


def page() -> str:
    from stepdistill.cli.main import build_parser

    columns = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = WIDTH  # argparse wraps help to the terminal's width
    try:
        return _page(build_parser())
    finally:
        if columns is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = columns


def _page(parser: argparse.ArgumentParser) -> str:

    parts = [
        "# Every option\n",
        "Each command's `--help`, generated from the parser by `python scripts/options_page.py`"
        " (a test checks that this page is current).\n",
    ]
    for words, command in commands(parser):
        parts.append(f"## `stepdistill {' '.join(words)}`\n")
        parts.append("```\n" + command.format_help().rstrip() + "\n```\n")
    return "\n".join(parts)


if __name__ == "__main__":
    PAGE.write_text(page(), encoding="utf-8")
    sys.stdout.write(f"wrote {PAGE}\n")
