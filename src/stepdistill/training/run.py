"""``train_student``: one training run from task data to a saved, evaluated student folder."""

from __future__ import annotations

import logging
import os
import platform
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from stepdistill.data.io import write_json, write_jsonl
from stepdistill.data.task_data import TaskData
from stepdistill.errors import StepdistillError
from stepdistill.inference import INFO_FILE, LabelPredictor, task_to_info
from stepdistill.training.config import TrainConfig
from stepdistill.training.features import (
    CAUSAL_SEPARATOR,
    IGNORE_INDEX,
    PairEncoder,
    TaskBatchCollator,
)
from stepdistill.training.methods import LABEL_TASK, get_method
from stepdistill.training.model_card import model_card
from stepdistill.training.output import is_main_process, prepare_output_dir
from stepdistill.training.sampling import GroupingKey
from stepdistill.training.shared_input import (
    SharedInputCollator,
    SharedInputEncoder,
    grouping_length,
)
from stepdistill.training.students import Student, load_student

logger = logging.getLogger(__name__)

CHECKPOINTS = "checkpoints"
METRICS_FILE = "metrics.json"


@dataclass
class TrainResult:
    output_dir: Path
    metrics: dict[str, Any]


def _git_hash() -> str | None:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode != 0:
        return None
    return result.stdout.strip() or None


def versions() -> dict[str, str]:
    import datasets
    import transformers

    from stepdistill import __version__

    return {
        "stepdistill": __version__,
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "datasets": datasets.__version__,
        "python": platform.python_version(),
    }


def _encode_all(
    encoder: PairEncoder,
    pairs: list[dict[str, tuple[str, str]]],
    markers: dict[str, str] | None,
) -> tuple[list[Any], list[GroupingKey], int]:
    """Training items, their grouping keys (token counts) and the longest label."""
    items: list[Any] = []
    lengths: list[GroupingKey] = []
    longest_label = 0
    shared = SharedInputEncoder(encoder, markers) if markers else None
    for item in tqdm(pairs, desc="tokenizing", disable=len(pairs) < 2000, leave=False):
        if shared is not None:
            source = next(iter(item.values()))[0]
            encoded = shared.encode(source, {task: target for task, (_, target) in item.items()})
            longest_label = max(longest_label, len(encoded.targets[LABEL_TASK][1]))
        else:
            encoded = {
                task: encoder.encode(source, target) for task, (source, target) in item.items()
            }
            label = encoded[LABEL_TASK].labels
            longest_label = max(longest_label, sum(1 for t in label if t != IGNORE_INDEX))
        items.append(encoded)
        lengths.append(grouping_length(encoded, encoder.kind))
    return items, lengths, longest_label


def _max_new_tokens(config: TrainConfig, longest_label: int) -> int:
    if config.max_new_tokens is not None:
        return config.max_new_tokens
    return min(config.max_target_length, longest_label + 8)


def _training_arguments(config: TrainConfig, output: Path, has_valid: bool) -> Any:
    from transformers import TrainingArguments

    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    cuda = torch.cuda.is_available()
    return TrainingArguments(
        output_dir=str(output / CHECKPOINTS),
        per_device_train_batch_size=config.per_device_batch_size,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        learning_rate=config.learning_rate,
        weight_decay=config.weight_decay,
        warmup_steps=config.warmup_steps,
        lr_scheduler_type="linear",
        optim="adamw_torch",
        max_steps=config.max_steps if config.max_steps > 0 else -1,
        num_train_epochs=config.num_epochs,
        logging_steps=config.logging_steps,
        eval_strategy="steps" if has_valid else "no",
        eval_steps=config.eval_steps,
        save_strategy="steps",
        save_steps=config.eval_steps,
        save_total_limit=config.save_total_limit,
        load_best_model_at_end=has_valid,
        metric_for_best_model="accuracy" if has_valid else None,
        greater_is_better=True,
        seed=config.seed,
        data_seed=config.seed,
        report_to=[] if config.report_to == "none" else [config.report_to],
        remove_unused_columns=False,
        use_cpu=not cuda,
        ddp_backend="gloo" if world_size > 1 and not cuda else None,
        dataloader_num_workers=0,
    )


def train_student(
    *,
    data: TaskData,
    method: str,
    config: TrainConfig,
    student: str | Student,
    output_dir: str | Path,
    overwrite: bool = False,
    resume: bool = False,
    max_valid_examples: int | None = None,
    data_info: dict[str, Any] | None = None,
) -> TrainResult:
    """Train a student with ``method`` on ``data`` and save it, evaluated, to ``output_dir``.

    Model selection uses validation accuracy (label-only generation) every ``eval_steps``;
    the test split, if there is one, is evaluated once, at the end, with the selected model.

    Writes to ``output_dir``: the model and tokenizer (Hugging Face format), ``stepdistill.json``
    (task, method, prompts, resolved config, versions), ``metrics.json`` (validation curve, test
    accuracy, examples/s) and ``predictions_test.jsonl``; checkpoints go to ``checkpoints/``.

    Raises:
        StepdistillError: the output folder exists (without ``overwrite``/``resume``) or no
            training example is usable by this method.
    """
    from transformers.trainer_utils import get_last_checkpoint

    from stepdistill.training.trainer import DistillTrainer

    training_method = get_method(method)
    if not isinstance(config, training_method.config_class):
        raise StepdistillError(
            f"method {method!r} takes a {training_method.config_class.__name__}, "
            f"got {type(config).__name__}"
        )
    output = prepare_output_dir(output_dir, overwrite=overwrite, resume=resume)
    task = data.task
    train_examples = data["train"]
    pairs, counts = training_method.build(train_examples, config)
    if not pairs:
        raise StepdistillError(
            f"no usable training example for {method} with label_source={config.label_source}: "
            f"{counts}"
        )
    logger.info("training examples: %s", counts)
    valid = list(data.splits.get("valid", []))[: max_valid_examples or None]

    if isinstance(student, str):
        student = load_student(student)
    encoder = PairEncoder.for_config(student.tokenizer, student.kind, config)
    markers = training_method.output_markers(config)
    encoded, lengths, longest_label = _encode_all(encoder, pairs, markers)
    predictor = LabelPredictor(
        model=student.model,
        encoder=encoder,
        task=task,
        method=training_method,
        config=config,
        max_new_tokens=_max_new_tokens(config, longest_label),
    )
    eval_seconds = 0.0

    def evaluate_on_valid(model: Any) -> dict[str, float]:
        nonlocal eval_seconds
        start = time.perf_counter()
        accuracy, _ = predictor.accuracy(valid)
        eval_seconds += time.perf_counter() - start
        return {"accuracy": accuracy}

    args = _training_arguments(config, output, has_valid=bool(valid))
    effective_batch = (
        args.per_device_train_batch_size * args.world_size * args.gradient_accumulation_steps
    )
    logger.info(
        "effective batch = %d (per device %d x processes %d x accumulation %d)",
        effective_batch,
        args.per_device_train_batch_size,
        args.world_size,
        args.gradient_accumulation_steps,
    )
    trainer = DistillTrainer(
        model=student.model,
        args=args,
        train_dataset=encoded,
        eval_dataset=valid or None,
        data_collator=SharedInputCollator(
            student.tokenizer.pad_token_id,
            student.kind,
            getattr(student.model.config, "decoder_start_token_id", None),
        )
        if markers
        else TaskBatchCollator(student.tokenizer.pad_token_id, student.kind),
        processing_class=student.tokenizer,
        loss_weights=training_method.loss_weights(config),
        evaluator=evaluate_on_valid if valid else None,
        kind=student.kind,
        lengths=lengths if config.group_by_length else None,
    )
    checkpoint = get_last_checkpoint(str(output / CHECKPOINTS)) if resume else None
    if resume and checkpoint is None:
        logger.warning("--resume: no checkpoint in %s, starting from scratch", output / CHECKPOINTS)
    start_step = _start_step(checkpoint)
    started = time.perf_counter()
    if checkpoint is not None and 0 < config.max_steps <= start_step:
        trainer.restore_finished(checkpoint)
        train_loss = None
    else:
        train_loss = trainer.train(resume_from_checkpoint=checkpoint).training_loss
    train_seconds = time.perf_counter() - started - eval_seconds

    # a resumed run times only the steps it ran itself; none ran if the checkpoint was final
    steps_this_run = trainer.state.global_step - start_step
    metrics: dict[str, Any] = {
        "task": task.name,
        "method": method,
        "label_source": config.label_source,
        "train_examples": counts,
        "effective_batch_size": effective_batch,
        "world_size": args.world_size,
        "steps": trainer.state.global_step,
        "resumed_from_step": start_step,
        "train_seconds_excluding_eval": round(train_seconds, 2),
        "train_examples_per_second": round(steps_this_run * effective_batch / train_seconds, 4)
        if steps_this_run > 0 and train_seconds > 0
        else None,
        "train_loss": train_loss if steps_this_run > 0 else None,
        "loss_history": [
            {k: v for k, v in entry.items() if k.endswith("loss") or k == "step"}
            for entry in trainer.state.log_history
            if "loss" in entry
        ],
        "validation_curve": [
            {"step": entry["step"], "accuracy": entry["eval_accuracy"]}
            for entry in trainer.state.log_history
            if "eval_accuracy" in entry
        ],
        "validation_size": len(valid),
        "best_validation_accuracy": trainer.state.best_metric,
        "best_checkpoint": trainer.state.best_model_checkpoint,
    }
    if not is_main_process():
        return TrainResult(output, metrics)

    if "test" in data:
        test = data["test"]
        accuracy, predictions = predictor.accuracy(test, progress=True)
        metrics.update(test_accuracy=accuracy, test_size=len(test))
        write_jsonl(
            output / "predictions_test.jsonl",
            [
                {
                    "id": e.id,
                    "label": e.label,
                    "prediction": p,
                    "correct": task.metric.score(p, e.label),
                }
                for e, p in zip(test, predictions, strict=True)
            ],
        )
    else:
        metrics.update(test_accuracy=None, test_note=f"no test split: {data.missing.get('test')}")
    student.model.save_pretrained(output)
    student.tokenizer.save_pretrained(output)
    info = {
        "format_version": 1,
        "task": task_to_info(task),
        "method": method,
        "config": {k: v for k, v in config.to_dict().items() if k != "method"},
        "prompts": {
            "label_source_example": training_method.label_source_text("<input>", config),
            "label_output_prefix": training_method.label_output_prefix(config),
            "causal_separator": CAUSAL_SEPARATOR if student.kind != "seq2seq" else None,
        },
        "student": {"name": student.name, "kind": student.kind},
        "label_space": list(task.label_space) if task.label_space else None,
        "generation": {"max_new_tokens": predictor.max_new_tokens},
        "data": data_info or {},
        "versions": versions(),
        "git_commit": _git_hash(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    write_json(output / INFO_FILE, info)
    write_json(output / METRICS_FILE, metrics)
    (output / "README.md").write_text(model_card(info, metrics, output.name), encoding="utf-8")
    return TrainResult(output, metrics)


def _start_step(checkpoint: str | None) -> int:
    if checkpoint is None:
        return 0
    return int(Path(checkpoint).name.rsplit("-", 1)[-1])
