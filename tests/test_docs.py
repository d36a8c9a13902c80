"""The documentation site builds without a warning, and every command the README and the docs
show exists: it exits 0 on ``--help``."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import pytest

from stepdistill.cli.main import build_parser, main

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# `stepdistill WORD [WORD]`, in a code block or inline code: the command and a subcommand
COMMAND = re.compile(r"(?:^|[\s`(/])stepdistill ([a-z][a-z-]*)(?: ([a-z][a-z-]*)\b(?![./]))?")


def code_of(text: str) -> str:
    """The fenced blocks and the inline code spans of a Markdown page."""
    fenced = re.findall(r"^```[^\n]*\n(.*?)^```", text, flags=re.M | re.S)
    prose = re.sub(r"^```[^\n]*\n.*?^```", "", text, flags=re.M | re.S)
    return "\n".join([*fenced, *re.findall(r"`([^`\n]+)`", prose)])


def shown_commands() -> set[tuple[str, ...]]:
    found = set()
    for page in PAGES:
        for match in COMMAND.finditer(code_of(page.read_text(encoding="utf-8"))):
            found.add(tuple(word for word in match.groups() if word))
    return found


def test_the_docs_build_strictly(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "commands" / "index.html").is_file()


def test_the_readme_is_a_quickstart_and_the_reference_is_in_the_docs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 150
    assert "bash scripts/setup.sh && .venv/bin/stepdistill demo" in readme
    assert "bash scripts/setup.sh && .venv/bin/python -m pytest" in readme


def test_the_pages_show_the_commands_they_should():
    shown = shown_commands()
    assert {("run",), ("serve",), ("predict",), ("data", "inspect"), ("demo",)} <= shown
    assert len(shown) >= 15


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    return next(
        (
            dict(action.choices)
            for action in parser._actions
            if isinstance(action, argparse._SubParsersAction)
        ),
        {},
    )


@pytest.mark.parametrize("words", sorted(shown_commands()), ids=" ".join)
def test_every_command_shown_exits_0_on_help(words, capsys):
    command = subcommands(build_parser())
    assert words[0] in command, f"stepdistill {words[0]}: no such command"
    nested = subcommands(command[words[0]])
    # a second word is a subcommand where the command has them, else an argument
    words = words if nested else words[:1]
    if nested:
        assert len(words) == 2 and words[1] in nested, f"stepdistill {' '.join(words)}"
    with pytest.raises(SystemExit) as exit_:
        main([*words, "--help"])
    assert exit_.value.code == 0, capsys.readouterr().err
    assert "usage: stepdistill" in capsys.readouterr().out
