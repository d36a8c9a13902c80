"""``report.md`` and ``report.json`` of a pipeline run: what each stage did."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stepdistill.data.io import write_json


def _accuracy(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def report_markdown(report: dict[str, Any], config: Any) -> str:
    lines = [
        f"# stepdistill run: {report['task']}",
        "",
        f"Pipeline `{report['pipeline']}`; output `{config.output}`.",
        "",
    ]
    extraction = report.get("extract")
    if extraction is None:
        lines += ["## Teacher", "", "No teacher stage: rationales come from the data.", ""]
    else:
        cost = extraction.get("cost")
        lines += [
            "## Teacher",
            "",
            f"`{config.teacher.teacher}`, "
            + ("zero-shot chain of thought" if extraction["zero_shot"] else "few-shot")
            + (f" ({extraction['exemplars']} exemplars)" if extraction["exemplars"] else "")
            + (" (done earlier; skipped)" if extraction.get("skipped") else "")
            + ".",
            "",
            f"{extraction['examples']} examples: {extraction['ok']} kept, "
            f"{extraction['filtered']} filtered, {extraction['unparsable']} unparsable, "
            f"{extraction['failed']} failed. {extraction['requests']} requests: "
            f"{extraction['cached']} from the cache, {extraction['sent']} sent; tokens "
            f"{extraction['usage']['prompt_tokens']} prompt + "
            f"{extraction['usage']['completion_tokens']} completion"
            + (f"; cost {cost:.4f}" if cost is not None else "")
            + f"; {extraction['seconds']:.0f} s.",
            "",
        ]
    lines += [
        "## Students",
        "",
        f"Student `{config.train.student}`.",
        "",
        "| method | training examples | steps | best valid accuracy | test accuracy | folder |",
        "|---|---|---|---|---|---|",
    ]
    for label, metrics in report["students"].items():
        used = metrics.get("train_examples", {}).get("used", "-")
        folder = config.output / label
        note = " (done earlier)" if metrics.get("skipped") else ""
        lines.append(
            f"| {label}{note} | {used} | {metrics.get('steps')} "
            f"| {_accuracy(metrics.get('best_validation_accuracy'))} "
            f"| {_accuracy(metrics.get('test_accuracy'))} | `{folder}` |"
        )
    exports = {label: m["export"] for label, m in report["students"].items() if "export" in m}
    if exports:
        lines += ["", "## Export", ""]
        lines += [
            f"- {label}: `{export['folder']}` (CTranslate2 {config.export_quantization})"
            for label, export in exports.items()
        ]
    lines.append("")
    return "\n".join(lines)


def write_report(output: Path, report: dict[str, Any], config: Any) -> dict[str, str]:
    """Write the report files; returns their paths."""
    files = {"markdown": str(output / "report.md"), "json": str(output / "report.json")}
    write_json(output / "report.json", report)
    (output / "report.md").write_text(report_markdown(report, config), encoding="utf-8")
    return files
