"""The documentation site builds without a warning, and every command the README and the docs
show exists: it exits 0 on ``--help``."""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from stepdistill.cli.main import build_parser, main

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# a line of code that starts with a command: `stepdistill WORD [WORD]` (after `$ `,
# `.venv/bin/` or `usage: `), the command and perhaps a subcommand
COMMAND = re.compile(
    r"^\s*(?:\$ |usage: )?(?:\.venv/bin/)?stepdistill ([a-z][a-z-]*)(?: ([a-z][a-z-]*)\b(?![./]))?"
)


def code_lines(text: str) -> list[str]:
    """The lines of the fenced blocks and the inline code spans of a Markdown page."""
    fenced = re.findall(r"^```[^\n]*\n(.*?)^```", text, flags=re.M | re.S)
    prose = re.sub(r"^```[^\n]*\n.*?^```", "", text, flags=re.M | re.S)
    lines = [line for block in fenced for line in block.splitlines()]
    return lines + re.findall(r"`([^`\n]+)`", prose)


def shown_commands() -> set[tuple[str, ...]]:
    found = set()
    for page in PAGES:
        for line in code_lines(page.read_text(encoding="utf-8")):
            if match := COMMAND.match(line):
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
    if len(words) == 2:
        assert words[1] in nested, f"stepdistill {' '.join(words)}: no such subcommand"
    with pytest.raises(SystemExit) as exit_:
        main([*words, "--help"])
    assert exit_.value.code == 0, capsys.readouterr().err
    assert "usage: stepdistill" in capsys.readouterr().out


def test_the_quickstarts_files_exist_and_its_pipeline_plans(tmp_path, capsys):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"\b(examples/[\w./-]+\.(?:yaml|jsonl|csv))", readme))
    assert "examples/quickstart/pipeline.yaml" in named
    assert all((ROOT / path).is_file() for path in named), named
    pipeline = str(ROOT / "examples" / "quickstart" / "pipeline.yaml")
    args = ["run", pipeline, "--dry-run", "--no-calibration", "--output", str(tmp_path / "q")]
    assert main(args) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["stages"]["extract"]["requests"] == 48
    assert set(plan["stages"]) == {"extract", "train standard", "train step-by-step", "report"}


def test_the_options_page_is_current():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from options_page import PAGE, page
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    assert PAGE.read_text(encoding="utf-8") == page(), "run: python scripts/options_page.py"


def all_parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """The parser and every subcommand's below it."""
    return [parser] + [
        nested for sub in subcommands(parser).values() for nested in all_parsers(sub)
    ]


def test_no_help_shows_a_percent_escape():
    # argparse formats help strings with %, not descriptions: a "%%" there shows as typed
    shown = {parser.prog: parser.format_help() for parser in all_parsers(build_parser())}
    assert len(shown) >= 15
    assert not [prog for prog, text in shown.items() if "%%" in text]
