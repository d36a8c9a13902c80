"""The one report writer: every run's report (pipeline, demo, experiment, self-training) is a
JSON file beside a Markdown file whose tables are drawn the same way."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from stepdistill.data.io import write_json


def cell(value: Any) -> str:
    """A table cell: ``-`` for nothing, four decimals for a number with a fraction."""
    if value is None:
        return "-"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    """A Markdown table's lines (rows of already formatted or plain values)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return lines


def write_report(
    output: Path,
    report: dict[str, Any],
    markdown: Sequence[str],
    *,
    json_name: str = "report.json",
    markdown_name: str = "report.md",
) -> dict[str, str]:
    """Write ``report`` as JSON and ``markdown`` (lines) beside it; returns their paths."""
    files = {"markdown": str(output / markdown_name), "json": str(output / json_name)}
    write_json(output / json_name, report)
    text = "\n".join(markdown)
    (output / markdown_name).write_text(text if text.endswith("\n") else text + "\n", "utf-8")
    return files
