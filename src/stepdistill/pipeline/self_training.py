"""Bootstrapped self-training: a step-by-step student writes rationales and labels for a pool of
unlabeled inputs; the inputs it is confident about (the majority label of ``samples`` sampled
labels holds at least ``threshold`` of them, and its rationale is not empty) join its training
data, and it is trained again, for ``rounds`` rounds, without calling the teacher.

Each round is a normal trained folder (``round-N``) beside its pseudo-labels (``round-N.jsonl``);
a round whose folder has its metrics is done, one whose pseudo-labels are written resumes from
its checkpoints, so a crashed run started again continues. ``self_training.json`` and
``report.md`` give, per round: test accuracy, pool size, how many inputs were kept and how
accurate their pseudo-labels are (where gold labels exist).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from stepdistill.data.io import read_jsonl, write_jsonl
from stepdistill.data.task_data import TaskData
from stepdistill.data.task_source import TaskSource, task_source_from_info
from stepdistill.errors import StepdistillError
from stepdistill.extraction import attach_teacher_records, majority_vote, read_teacher_file
from stepdistill.models.folder import has_metrics, read_info, read_metrics
from stepdistill.reports import table, write_report
from stepdistill.schema import Example, ParseResult, TeacherRecord
from stepdistill.serving import load_label_predictor
from stepdistill.settings import check_settings, setting
from stepdistill.training import RunSettings, get_method, make_config, train_student

logger = logging.getLogger(__name__)

INITS = ("base", "previous")
RATIONALE_TOKENS = 128
RESULT_FILE = "self_training.json"


@dataclass(frozen=True)
class SelfTrainingConfig:
    """How pseudo-labels are made and kept, and where each round starts from."""

    rounds: int = setting(2, "rounds of pseudo-labelling and training")
    samples: int = setting(5, "labels sampled per unlabeled input")
    temperature: float = setting(0.7, "sampling temperature of those labels")
    threshold: float = setting(
        0.6, "an input is kept when its majority label holds at least this share of the samples"
    )
    init: str = setting(
        "base",
        "each round trains from the base student (base) or continues from the previous "
        "round's weights (previous)",
        choices=INITS,
    )
    seed: int = setting(0, "seed of the sampling")
    max_pool: int | None = setting(None, "use only the first N unlabeled inputs")

    def __post_init__(self) -> None:
        check_settings(self)
        if self.rounds < 1 or self.samples < 1:
            raise ValueError("rounds and samples must be at least 1")
        if not 0 < self.threshold <= 1:
            raise ValueError(f"threshold must be in (0, 1], got {self.threshold}")
        if self.temperature <= 0 and self.samples > 1:
            raise ValueError("several samples need a temperature above 0")


def _labeled_data(source: TaskSource, data_info: dict[str, Any], separator: str) -> TaskData:
    """The data the starting model was trained on (its fraction, seed and teacher file)."""
    data = source.load(
        train_fraction=data_info.get("train_fraction", 1.0),
        seed=data_info.get("data_seed", 0),
        sep=separator,
    )
    if data_info.get("teacher_file"):
        data = attach_teacher_records(data, read_teacher_file(data_info["teacher_file"]))
    return data


def unlabeled_pool(
    source: TaskSource, labeled: TaskData, unlabeled: str, separator: str
) -> list[Example]:
    """The pool: a split of the task without the examples the model trained on (``train``: the
    rest of the training split), or a data file with the task's columns. Gold labels, where
    the pool has them, are kept to measure the pseudo-labels and never trained on."""
    path = Path(unlabeled)
    if path.suffix:
        from stepdistill.data.sources import read_file_rows

        task = labeled.task
        rows = read_file_rows(path)
        examples = []
        for number, row in enumerate(rows):
            text = (
                row["input"]
                if isinstance(row.get("input"), str)
                else task.format_input(row, sep=separator)
            )
            gold = task.gold_label(row) if task.label_field in row else None
            examples.append(Example(f"pool-{number}", text, gold, {}))
        return examples
    full = source.load(sep=separator, teacher=False)
    trained = {example.id for example in labeled.splits.get("train", [])}
    return [example for example in full[unlabeled] if example.id not in trained]


def pseudo_label(
    model: Path, pool: list[Example], config: SelfTrainingConfig, round_number: int
) -> list[dict[str, Any]]:
    """One row per pool input: the majority of ``samples`` sampled labels, its share, a greedy
    rationale, and whether it is kept (share at least ``threshold``, a rationale)."""
    predictor = load_label_predictor(model)
    kind = predictor.task.label_kind
    texts = [example.input for example in pool]
    repeated = [text for text in texts for _ in range(config.samples)]
    sampled = predictor.outputs(
        repeated, temperature=config.temperature, seed=config.seed * 1000 + round_number
    )
    rationales = predictor.rationales(texts, max_new_tokens=RATIONALE_TOKENS)
    rows = []
    for position, example in enumerate(pool):
        outputs = sampled[position * config.samples : (position + 1) * config.samples]
        samples = [
            ParseResult(why or "", label, bool(label and kind.check(label).label))
            for label, why in outputs
        ]
        label, agreeing = majority_vote(samples, kind)
        count = len(agreeing)
        why = samples[agreeing[0]].rationale if agreeing else None
        rationale = (rationales[position] if rationales is not None else why) or ""
        share = count / config.samples
        rows.append(
            {
                "id": example.id,
                "input": example.input,
                "label": label,
                "rationale": rationale.strip(),
                "agreement": share,
                "round": round_number,
                "kept": label is not None and share >= config.threshold and bool(rationale.strip()),
                "gold": example.label,
                "gold_correct": (
                    predictor.task.metric.score(label, example.label)
                    if example.label is not None
                    else None
                ),
            }
        )
    return rows


def _pseudo_examples(rows: list[dict[str, Any]], teacher: str) -> list[Example]:
    examples = []
    for row in rows:
        if not row["kept"]:
            continue
        meta = {"self_training": {"round": row["round"], "agreement": row["agreement"]}}
        record = TeacherRecord(
            row["id"], row["rationale"], row["label"], True, teacher=teacher, meta=meta
        )
        examples.append(Example(row["id"], row["input"], row["label"], meta, record))
    return examples


def _round_summary(folder: Path, rows: list[dict[str, Any]] | None, number: int) -> dict:
    metrics = read_metrics(folder)
    summary = {
        "round": number,
        "model": str(folder),
        "test_accuracy": metrics.get("test_accuracy"),
        "best_validation_accuracy": metrics.get("best_validation_accuracy"),
        "train_examples": metrics.get("train_examples", {}).get("used"),
    }
    if rows is not None:
        kept = [row for row in rows if row["kept"]]
        judged = [row for row in kept if row["gold_correct"] is not None]
        summary.update(
            pool=len(rows),
            kept=len(kept),
            kept_share=round(len(kept) / len(rows), 4) if rows else None,
            pseudo_label_accuracy=(
                round(sum(row["gold_correct"] for row in judged) / len(judged), 4)
                if judged
                else None
            ),
        )
    return summary


def run_self_training(
    model: str | Path, unlabeled: str, output: str | Path, config: SelfTrainingConfig
) -> dict[str, Any]:
    """Rounds of self-training from the trained folder ``model``; see the module docstring.

    Raises:
        StepdistillError: a model whose method writes no rationale, an output folder that is
            not this run's, a pool with no input.
    """
    model, output = Path(model), Path(output)
    info = read_info(model)
    method = get_method(info.method)
    if not method.needs_rationale:
        raise StepdistillError(
            f"self-training writes rationales: {model} was trained with {info.method}; "
            "start from a step-by-step (or single-task) student"
        )
    if config.init == "previous" and info.data.get("student", {}).get("adapter"):
        raise StepdistillError("init previous continues full weights; a LoRA student restarts")
    state_file = output / RESULT_FILE
    if output.exists() and any(output.iterdir()) and not state_file.exists():
        raise StepdistillError(f"{output} exists and is not a self-training run; choose another")
    output.mkdir(parents=True, exist_ok=True)
    separator = info.input_separator
    source = task_source_from_info(info.task, info.data_info)
    labeled = _labeled_data(source, info.data_info, separator)
    pool = unlabeled_pool(source, labeled, unlabeled, separator)[: config.max_pool]
    if not pool:
        raise StepdistillError(f"the unlabeled pool {unlabeled!r} holds no input")
    train_config = make_config(info.method, **info.config)
    base_student = info.data["student"]["name"]
    rounds = [_round_summary(model, None, 0)]
    # written before the first round and after each one: the folder is known as this run's
    # from the start (a run killed in round 1 resumes), and the report shows finished rounds
    result = _write_result(output, model, unlabeled, config, rounds)
    previous = model
    for number in range(1, config.rounds + 1):
        folder = output / f"round-{number}"
        labels_file = output / f"round-{number}.jsonl"
        if labels_file.exists():
            rows = read_jsonl(labels_file)
        else:
            logger.info("round %d: pseudo-labelling %d inputs with %s", number, len(pool), previous)
            rows = pseudo_label(previous, pool, config, number)
            write_jsonl(labels_file, rows)
        if not has_metrics(folder):
            pseudo = _pseudo_examples(rows, teacher=f"self-training round {number}")
            splits = {**labeled.splits, "train": [*labeled["train"], *pseudo]}
            logger.info(
                "round %d: training on %d labeled + %d pseudo",
                number,
                len(labeled["train"]),
                len(pseudo),
            )
            train_student(
                data=replace(labeled, splits=splits),
                method=info.method,
                config=train_config,
                student=base_student if config.init == "base" else str(previous),
                output_dir=folder,
                run=RunSettings(resume=folder.exists()),
                data_info={
                    **info.data_info,
                    "self_training": {
                        "round": number,
                        "pseudo_examples": len(pseudo),
                        "from": str(model),
                    },
                },
            )
        rounds.append(_round_summary(folder, rows, number))
        result = _write_result(output, model, unlabeled, config, rounds)
        previous = folder
    return result


def _write_result(
    output: Path, model: Path, unlabeled: str, config: SelfTrainingConfig, rounds: list[dict]
) -> dict[str, Any]:
    result = {
        "model": str(model),
        "unlabeled": unlabeled,
        "config": asdict(config),
        "rounds": rounds,
    }
    write_report(output, result, self_training_markdown(result), json_name=RESULT_FILE)
    return result


def self_training_markdown(result: dict[str, Any]) -> list[str]:
    """The lines of a self-training run's ``report.md``."""
    lines = [
        f"# Self-training from `{result['model']}`",
        "",
        f"Pool: `{result['unlabeled']}`; settings: {json.dumps(result['config'])}.",
        "",
    ]
    keys = [
        "round",
        "train_examples",
        "pool",
        "kept",
        "pseudo_label_accuracy",
        "best_validation_accuracy",
        "test_accuracy",
    ]
    header = [
        "round",
        "training examples",
        "pool",
        "kept",
        "pseudo-label accuracy",
        "valid accuracy",
        "test accuracy",
    ]
    return [*lines, *table(header, [[row.get(key) for key in keys] for row in result["rounds"]])]


__all__ = ["SelfTrainingConfig", "run_self_training"]
