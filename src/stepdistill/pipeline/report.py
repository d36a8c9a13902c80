"""``report.md`` and ``report.json`` of a pipeline run: what each stage did."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stepdistill.reports import table, write_report


def pipeline_markdown(report: dict[str, Any], config: Any) -> list[str]:
    """The lines of a pipeline run's ``report.md``."""
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
    ]
    lines += table(
        ["method", "training examples", "steps", "best valid accuracy", "test accuracy", "folder"],
        [
            [
                label + (" (done earlier)" if metrics.get("skipped") else ""),
                metrics.get("train_examples", {}).get("used"),
                metrics.get("steps"),
                metrics.get("best_validation_accuracy"),
                metrics.get("test_accuracy"),
                f"`{config.output / label}`",
            ]
            for label, metrics in report["students"].items()
        ],
    )
    exports = {label: m["export"] for label, m in report["students"].items() if "export" in m}
    if exports:
        lines += ["", "## Export", ""]
        lines += [
            f"- {label}: `{export['folder']}` (CTranslate2 {config.export_quantization})"
            for label, export in exports.items()
        ]
    lines.append("")
    return lines


def write_pipeline_report(output: Path, report: dict[str, Any], config: Any) -> dict[str, str]:
    """``report.json`` and ``report.md`` of a pipeline run; returns their paths."""
    return write_report(output, report, pipeline_markdown(report, config))
