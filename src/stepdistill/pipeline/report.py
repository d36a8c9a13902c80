"""``report.md`` and ``report.json`` of a pipeline run: what each stage did.

A view turns the run's report into what is written (its JSON and its Markdown lines): the
pipeline's own here, the demo's in ``stepdistill.demo``; ``reports.write_report`` writes both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from stepdistill.evaluation.classes import confusion_rows
from stepdistill.extraction import outcome_text
from stepdistill.reports import table

if TYPE_CHECKING:
    from stepdistill.pipeline.config import PipelineConfig

ReportView = Callable[[dict[str, Any], "PipelineConfig"], tuple[dict[str, Any], list[str]]]


def pipeline_view(
    report: dict[str, Any], config: PipelineConfig
) -> tuple[dict[str, Any], list[str]]:
    """The pipeline's report as it is, with its Markdown."""
    return report, pipeline_markdown(report, config)


EXAMPLES_HEADER = "training examples (label / rationale)"


def examples_cell(counts: dict[str, int]) -> str:
    """A student's training examples per objective: the label objective's, and the rationale
    objective's where the method has one (``720 / 688``)."""
    if "rationale" not in counts:
        return str(counts.get("used", "-"))
    return f"{counts.get('used')} / {counts['rationale']}"


def samples_table(samples: list[dict[str, Any]]) -> list[str]:
    """The first few teacher records beside their examples, as a Markdown table."""
    return table(
        ["problem", "gold", "teacher", "kept", "rationale"],
        [
            [
                row["input"].replace("\n", " "),
                row["gold"],
                row["teacher"],
                "yes" if row["kept"] else f"no: {row['why_not']}",
                (row["rationale"] or "").replace("\n", " ")[:120],
            ]
            for row in samples
        ],
    )


def verdict_lines(report: dict[str, Any]) -> list[str]:
    """The report's verdicts: each method's accuracy with its 95% interval, then one line per
    comparison (see ``evaluation.paired`` for what the interval covers)."""
    if not report.get("accuracy"):
        return []
    lines = ["", "## Verdicts", ""]
    lines += table(
        ["method", "test accuracy", "95% interval"],
        [
            [label, row["mean"], f"[{row['low']:.4f}, {row['high']:.4f}]"]
            for label, row in report["accuracy"].items()
        ],
    )
    lines.append("")
    lines += [f"- {comparison['line']}" for comparison in report.get("comparisons", [])]
    lines += [f"- {note}" for note in report.get("comparison_notes", [])]
    for label, found in report.get("classes", {}).items():
        matrix = found["confusion"]
        columns = list(next(iter(matrix.values()))) if matrix else []
        lines += [
            "",
            f"### {label}: classes",
            "",
            f"Always answering {found['majority_label']!r} scores "
            f"{found['majority_accuracy']:.4f}; {found['versus_majority']['line']}.",
            "",
            "Confusion matrix (rows: gold, columns: predicted; summed over seeds):",
            "",
        ]
        lines += table(["gold", *columns], confusion_rows(matrix))
    if report.get("plot"):
        lines += ["", "![test accuracy and verdicts](report.png)"]
    return lines


def cost_lines(report: dict[str, Any]) -> list[str]:
    """What the teacher cost against what the student costs at inference, and each stage's
    time: the trade the method makes."""
    rows = []
    extraction = report.get("extract")
    if extraction is not None:
        sent = extraction.get("sent") or 0
        per_request = extraction["seconds"] / sent if sent else None
        usage = extraction["usage"]
        cost = extraction.get("cost")
        rows.append(
            [
                "teacher",
                f"{extraction['seconds']:.0f} s"
                + (" (done earlier)" if extraction.get("skipped") else ""),
                f"{extraction['requests']} requests, {usage['prompt_tokens']} + "
                f"{usage['completion_tokens']} tokens"
                + (f", cost {cost:.4f}" if cost is not None else ""),
                f"{per_request:.2f} s a request" if per_request else "-",
            ]
        )
    for label, metrics in report["students"].items():
        speed = metrics.get("test_predictions_per_second")
        size = metrics.get("student_parameters")
        rows.append(
            [
                label,
                f"{metrics.get('train_seconds_excluding_eval') or 0:.0f} s training"
                + (" (done earlier)" if metrics.get("skipped") else ""),
                f"{size / 1e6:.1f} M parameters" if size else "-",
                f"{speed:.2f} predictions/s" if speed else "-",
            ]
        )
    if not rows:
        return []
    return [
        "",
        "## Cost and benefit",
        "",
        *table(["stage", "time", "size or spend", "speed on this machine"], rows),
    ]


def warning_lines(report: dict[str, Any]) -> list[str]:
    """The report's warnings (results that may mean nothing), first thing after the title."""
    if not report.get("warnings"):
        return []
    return ["## Warnings", "", *[f"- **{warning}**" for warning in report["warnings"]], ""]


def pipeline_markdown(report: dict[str, Any], config: PipelineConfig) -> list[str]:
    """The lines of a pipeline run's ``report.md``."""
    lines = [
        f"# stepdistill run: {report['task']}",
        "",
        f"Pipeline `{report['pipeline']}`; output `{config.output}`.",
        "",
        *warning_lines(report),
    ]
    extraction = report.get("extract")
    if extraction is None:
        lines += ["## Teacher", "", "No teacher stage: rationales come from the data.", ""]
    else:
        cost = extraction.get("cost")
        lines += [
            "## Teacher",
            "",
            f"`{report['teacher']}`, "
            + ("zero-shot chain of thought" if extraction["zero_shot"] else "few-shot")
            + (f" ({extraction['exemplars']} exemplars)" if extraction["exemplars"] else "")
            + (" (done earlier; skipped)" if extraction.get("skipped") else "")
            + ".",
            "",
            outcome_text(extraction) + f". {extraction['requests']} requests: "
            f"{extraction['cached']} from the cache, {extraction['sent']} sent; tokens "
            f"{extraction['usage']['prompt_tokens']} prompt + "
            f"{extraction['usage']['completion_tokens']} completion"
            + (f"; cost {cost:.4f}" if cost is not None else "")
            + f"; {extraction['seconds']:.0f} s.",
            "",
        ]
        if extraction.get("samples"):
            lines += [*samples_table(extraction["samples"]), ""]
    lines += [
        "## Students",
        "",
        f"Student `{config.train.student}`.",
        "",
    ]
    lines += table(
        ["method", EXAMPLES_HEADER, "steps", "best valid accuracy", "test accuracy", "folder"],
        [
            [
                label + (" (done earlier)" if metrics.get("skipped") else ""),
                examples_cell(metrics.get("train_examples", {})),
                metrics.get("steps"),
                metrics.get("best_validation_accuracy"),
                metrics.get("test_accuracy"),
                f"`{config.output / label}`",
            ]
            for label, metrics in report["students"].items()
        ]
        + [
            [label, 0, "-", "-", f"not trained: {why}", "-"]
            for label, why in report.get("skipped_students", {}).items()
        ],
    )
    lines += verdict_lines(report)
    lines += cost_lines(report)
    exports = {label: m["export"] for label, m in report["students"].items() if "export" in m}
    if exports:
        lines += ["", "## Export", ""]
        lines += [
            f"- {label}: `{export['folder']}` (CTranslate2 {config.export_quantization})"
            for label, export in exports.items()
        ]
    lines.append("")
    return lines
