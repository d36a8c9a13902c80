"""``train_student``: one training run from task data to a saved, evaluated student folder."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm.auto import tqdm

from stepdistill.data.io import writing_to
from stepdistill.data.task_data import TaskData
from stepdistill.data.task_source import TaskSource
from stepdistill.errors import DataError, NoUsableExamples, StepdistillError
from stepdistill.evaluation.classes import label_counts
from stepdistill.extraction import attach_teacher_records, read_teacher_file
from stepdistill.models.adapters import add_lora
from stepdistill.models.encoding import CAUSAL_SEPARATOR, PairEncoder
from stepdistill.models.folder import (
    build_info,
    write_model_files,
    write_test_predictions,
)
from stepdistill.models.generation import TorchEngine
from stepdistill.models.loading import Student, load_student, separator_of
from stepdistill.schema import Example
from stepdistill.training.config import CHECKPOINTS, RunSettings, TrainConfig
from stepdistill.training.input_modes import InputMode, ObjectivePairs
from stepdistill.training.label_predictor import LabelPredictor
from stepdistill.training.methods import TrainingMethod, get_method
from stepdistill.training.output import hold_output, is_main_process, prepare_output_dir
from stepdistill.training.sampling import GroupingKey
from stepdistill.training.speed import record_training

if TYPE_CHECKING:  # the trainer imports transformers' Trainer: only when training
    from stepdistill.training.trainer import DistillTrainer

logger = logging.getLogger(__name__)

DEFAULT_RUN = RunSettings()  # frozen: safe to share


@dataclass
class TrainResult:
    output_dir: Path
    metrics: dict[str, Any]


@dataclass
class TrainingItems:
    """Encoded training items, their grouping keys, and the longest label in tokens."""

    items: list[Any]
    lengths: list[GroupingKey]
    longest_label: int


class ValidationAccuracy:
    """The Trainer's evaluator: label accuracy on the validation split, timed so that training
    throughput can leave evaluation out."""

    def __init__(self, predictor: LabelPredictor, examples: Sequence[Example]) -> None:
        self.predictor = predictor
        self.examples = examples
        self.seconds = 0.0
        self.predictions = 0
        self.trainer: Any = None  # set once the trainer exists

    def __call__(self, model: Any) -> dict[str, float]:
        started = time.perf_counter()
        with full_parameters(self.trainer):
            accuracy, _ = self.predictor.accuracy(self.examples)
        self.seconds += time.perf_counter() - started
        self.predictions += len(self.examples)
        return {"accuracy": accuracy}


def full_parameters(trainer: Any) -> Any:
    """A context in which the student's own modules hold full parameters: gathered from their
    shards under FSDP (every process must enter it), nothing to do otherwise."""
    wrapped = getattr(trainer, "model_wrapped", None)
    try:
        from torch.distributed.fsdp import FullyShardedDataParallel
    except ImportError:  # a torch built without distributed support
        return contextlib.nullcontext()
    if isinstance(wrapped, FullyShardedDataParallel):
        return FullyShardedDataParallel.summon_full_params(wrapped, writeback=False)
    return contextlib.nullcontext()


def train_student(
    *,
    data: TaskData,
    method: str,
    config: TrainConfig,
    student: str | Student,
    output_dir: str | Path,
    run: RunSettings = DEFAULT_RUN,
    data_info: dict[str, Any] | None = None,
    inputs: Sequence[str | Path] = (),
    callbacks: Sequence[Any] = (),
) -> TrainResult:
    """Train a student with ``method`` on ``data`` and save it, evaluated, to ``output_dir``.

    Model selection uses validation accuracy (label-only generation) every ``eval_steps``;
    the test split, if there is one, is evaluated once, at the end, with the selected model.

    Writes to ``output_dir`` the trained folder (see ``models.folder``): the model and tokenizer
    in Hugging Face format, ``stepdistill.json``, ``metrics.json``, the model card and
    ``predictions_test.jsonl``; checkpoints go to ``checkpoints/``.

    ``run``: the run-level settings; of them, ``overwrite``, ``resume``, ``force`` and
    ``max_valid_examples`` apply here (``data`` is already chosen: ``train_on_task`` applies
    the others). ``inputs``: the run's input
    files and folders, which ``overwrite`` never deletes (a local student folder is one anyway).
    ``callbacks``: Trainer callbacks (a ``StepClock`` for progress or timing).

    Raises:
        NoUsableExamples: no training example is usable by this method (nothing written).
        StepdistillError: the output folder exists (without ``overwrite``/``resume``) or may
            not be replaced.
    """
    training_method = checked_method(method, config)
    pairs, counts = training_pairs(training_method, data["train"], config)
    student_path = student if isinstance(student, str) else student.name
    output = prepare_output_dir(
        output_dir,
        overwrite=run.overwrite,
        resume=run.resume,
        inputs=[*inputs, student_path] if Path(student_path).exists() else list(inputs),
        force=run.force,
    )
    resumes = "a rerun with --resume continues from the last complete checkpoint"
    with hold_output(output), writing_to(output, resumes=resumes):
        valid = validation_examples(data, run.max_valid_examples)
        if isinstance(student, str):
            student = load_student(student)
        if config.lora_r > 0:
            student = with_lora(student, config)
        mode = training_method.input_mode(config)
        encoder = PairEncoder.for_config(student.tokenizer, student.kind, config)
        encoded = encode_items(mode, encoder, pairs)
        predictor = LabelPredictor(
            engine=TorchEngine(student.model, encoder),
            task=data.task,
            method=training_method,
            config=config,
            max_new_tokens=max_new_tokens(config, encoded.longest_label),
        )
        validation = ValidationAccuracy(predictor, valid)
        trainer = make_trainer(
            training_method,
            config,
            student,
            mode,
            encoded,
            output,
            validation if valid else None,
            callbacks,
        )
        validation.trainer = trainer
        metrics = {
            "task": data.task.name,
            "method": method,
            "label_source": config.label_source,
            "train_examples": counts,
            # a closed label set's classes among the training labels (one class: a useless student)
            "train_labels": label_counts(training_method.used_labels(data["train"], config))
            if data.task.label_space
            else None,
            **run_training(trainer, output / CHECKPOINTS, config, run.resume, validation),
            "validation_size": len(valid),
            "validation_seconds": round(validation.seconds, 2),
            "validation_predictions": validation.predictions,
        }
        # every process takes part: a sharded (FSDP) model is gathered to be saved and to generate
        trainer.save_model(str(output))
        with full_parameters(trainer):
            started = time.perf_counter()
            metrics.update(evaluate_test(predictor, data, output if is_main_process() else None))
            tested = time.perf_counter() - started
        # what the deployed student costs: its size and its label predictions per second here
        metrics["student_parameters"] = sum(p.numel() for p in student.model.parameters())
        metrics["test_seconds"] = round(tested, 2)
        metrics["test_predictions_per_second"] = (
            round(metrics["test_size"] / tested, 3) if metrics.get("test_size") and tested else None
        )
        if not is_main_process():
            return TrainResult(output, metrics)
        save_folder(output, student, training_method, config, predictor, metrics, data_info)
        return TrainResult(output, metrics)


def with_lora(student: Student, config: TrainConfig) -> Student:
    """The student with LoRA adapters (only they train); the base is named as it was given."""
    model = add_lora(
        student.model,
        student.kind,
        base_name=student.name,
        r=config.lora_r,
        alpha=config.lora_alpha,
        dropout=config.lora_dropout,
        modules=config.lora_target_modules,
    )
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    logger.info("LoRA r=%d: %d of %d parameters train", config.lora_r, trainable, total)
    return dataclasses.replace(student, model=model)


def validation_examples(data: TaskData, limit: int | None) -> list[Example]:
    """The first ``limit`` validation examples; none (so no model selection, the last step is
    kept) when the split is absent or unlabeled."""
    valid = list(data.splits.get("valid", []))[: limit or None]
    if valid and any(example.label is None for example in valid):
        logger.warning("the validation split has no labels: no model selection, last step kept")
        return []
    return valid


def checked_method(method: str, config: TrainConfig) -> TrainingMethod:
    """The method of that name, if ``config`` is its config class."""
    training_method = get_method(method)
    if not isinstance(config, training_method.config_class):
        raise StepdistillError(
            f"method {method!r} takes a {training_method.config_class.__name__}, "
            f"got {type(config).__name__}"
        )
    return training_method


def training_pairs(
    method: TrainingMethod, examples: Sequence[Example], config: TrainConfig
) -> tuple[list[ObjectivePairs], dict[str, int]]:
    """The method's task pairs and the counts of what was used; an error when none is usable."""
    pairs, counts = method.build(examples, config)
    if not pairs:
        raise NoUsableExamples(
            f"no usable training example for {method.name} with "
            f"label_source={config.label_source}: {counts}"
        )
    logger.info("training examples: %s", counts)
    return pairs, counts


def encode_items(
    mode: InputMode, encoder: PairEncoder, pairs: list[ObjectivePairs]
) -> TrainingItems:
    """Training items as the input mode encodes them, with their grouping keys."""
    encode = mode.item_encoder(encoder)
    items, lengths, longest_label = [], [], 0
    for item_pairs in tqdm(pairs, desc="tokenizing", disable=len(pairs) < 2000, leave=False):
        item = encode(item_pairs)
        items.append(item)
        lengths.append(mode.grouping_length(item, encoder.kind))
        longest_label = max(longest_label, mode.label_tokens(item))
    return TrainingItems(items, lengths, longest_label)


def max_new_tokens(config: TrainConfig, longest_label: int) -> int:
    """Tokens generated per prediction: the config's, or the longest training label + 8."""
    if config.max_new_tokens is not None:
        return config.max_new_tokens
    return min(config.max_target_length, longest_label + 8)


def make_trainer(
    method: TrainingMethod,
    config: TrainConfig,
    student: Student,
    mode: InputMode,
    encoded: TrainingItems,
    output: Path,
    evaluator: ValidationAccuracy | None,
    callbacks: Sequence[Any] = (),
) -> DistillTrainer:
    """A ``DistillTrainer`` over the encoded items, selecting models on ``evaluator``."""
    from stepdistill.training.trainer import DistillTrainer

    try:
        args = config.to_training_arguments(output / CHECKPOINTS, has_valid=evaluator is not None)
    except ValueError as error:  # a scheduler or optimizer name transformers does not know
        raise StepdistillError(f"training settings: {error}") from None
    logger.info(
        "effective batch = %d (per device %d x processes %d x accumulation %d)",
        effective_batch_size(args),
        args.per_device_train_batch_size,
        args.world_size,
        args.gradient_accumulation_steps,
    )
    return DistillTrainer(
        model=student.model,
        args=args,
        train_dataset=encoded.items,
        eval_dataset=evaluator.examples if evaluator else None,
        data_collator=mode.collator(student.tokenizer, student.model, student.kind),
        processing_class=student.tokenizer,
        loss_weights=method.loss_weights(config),
        input_mode=mode,
        evaluator=evaluator,
        kind=student.kind,
        lengths=encoded.lengths if config.group_by_length else None,
        callbacks=list(callbacks) or None,
    )


def effective_batch_size(args: Any) -> int:
    return args.per_device_train_batch_size * args.world_size * args.gradient_accumulation_steps


def run_training(
    trainer: Any,
    checkpoints: Path,
    config: TrainConfig,
    resume: bool,
    validation: ValidationAccuracy,
) -> dict[str, Any]:
    """Train (or resume, or restore a finished run) and return the training metrics."""
    checkpoint = latest_complete_checkpoint(checkpoints) if resume else None
    if resume and checkpoint is None:
        logger.warning("--resume: no checkpoint in %s, starting from scratch", checkpoints)
    start_step = checkpoint_step(checkpoint)
    started = time.perf_counter()
    if checkpoint is not None and 0 < config.max_steps <= start_step:
        trainer.restore_finished(checkpoint)
        train_loss = None
    else:
        train_loss = trainer.train(resume_from_checkpoint=checkpoint).training_loss
    train_seconds = time.perf_counter() - started - validation.seconds
    state = trainer.state
    batch = effective_batch_size(trainer.args)
    # a resumed run times only the steps it ran itself; none ran if the checkpoint was final
    steps_this_run = state.global_step - start_step
    return {
        "effective_batch_size": batch,
        "world_size": trainer.args.world_size,
        "steps": state.global_step,
        "resumed_from_step": start_step,
        "train_seconds_excluding_eval": round(train_seconds, 2),
        "train_examples_per_second": round(steps_this_run * batch / train_seconds, 4)
        if steps_this_run > 0 and train_seconds > 0
        else None,
        "train_loss": train_loss if steps_this_run > 0 else None,
        "loss_history": [
            {k: v for k, v in entry.items() if k.endswith("loss") or k == "step"}
            for entry in state.log_history
            if "loss" in entry
        ],
        "validation_curve": [
            {"step": entry["step"], "accuracy": entry["eval_accuracy"]}
            for entry in state.log_history
            if "eval_accuracy" in entry
        ],
        "best_validation_accuracy": state.best_metric,
        "best_checkpoint": state.best_model_checkpoint,
    }


WEIGHT_FILES = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "adapter_model.safetensors",
)


def is_complete_checkpoint(folder: Path) -> bool:
    """Whether a ``checkpoint-N`` folder was written to the end: the Trainer writes its state
    last, so a killed save (or a half-deleted old checkpoint) lacks it or some other file."""
    state = folder / "trainer_state.json"
    if not state.is_file() or not any((folder / name).is_file() for name in WEIGHT_FILES):
        return False
    if not (folder / "optimizer.pt").is_file() or not (folder / "scheduler.pt").is_file():
        return False
    try:
        json.loads(state.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return False
    return True


def latest_complete_checkpoint(checkpoints: Path) -> str | None:
    """The newest complete ``checkpoint-N`` in ``checkpoints`` (incomplete ones are skipped,
    with a warning), or None."""
    if not checkpoints.is_dir():
        return None
    found = [
        folder
        for folder in checkpoints.iterdir()
        if folder.is_dir() and re.fullmatch(r"checkpoint-\d+", folder.name)
    ]
    for folder in sorted(found, key=lambda f: checkpoint_step(str(f)), reverse=True):
        if is_complete_checkpoint(folder):
            return str(folder)
        logger.warning("%s is incomplete (a save was interrupted); skipping it", folder)
    return None


def checkpoint_step(checkpoint: str | None) -> int:
    """The step a ``checkpoint-N`` folder was saved at (0 for none)."""
    if checkpoint is None:
        return 0
    return int(Path(checkpoint).name.rsplit("-", 1)[-1])


def evaluate_test(predictor: LabelPredictor, data: TaskData, output: Path | None) -> dict[str, Any]:
    """Test accuracy with the selected model, its predictions written into ``output`` (None:
    not written, on the other processes); or a note that there is no test split."""
    if "test" not in data:
        return {"test_accuracy": None, "test_note": f"no test split: {data.missing.get('test')}"}
    test = data["test"]
    if any(example.label is None for example in test):
        return {"test_accuracy": None, "test_note": "the test split has no labels"}
    accuracy, predictions = predictor.accuracy(test, progress=True)
    metric = data.task.metric
    if output is None:
        return {"test_accuracy": accuracy, "test_size": len(test)}
    write_test_predictions(
        output,
        (
            {"id": e.id, "label": e.label, "prediction": p, "correct": metric.score(p, e.label)}
            for e, p in zip(test, predictions, strict=True)
        ),
    )
    return {"test_accuracy": accuracy, "test_size": len(test)}


def save_folder(
    output: Path,
    student: Student,
    method: TrainingMethod,
    config: TrainConfig,
    predictor: LabelPredictor,
    metrics: dict[str, Any],
    data_info: dict[str, Any] | None,
) -> None:
    """The trained folder's stepdistill files (the Trainer saved model and tokenizer):
    stepdistill.json, model card, metrics.json."""
    info = build_info(
        task=predictor.task,
        method=method.name,
        config={k: v for k, v in config.to_dict().items() if k != "method"},
        prompts={
            "label_source_example": method.label_source_text("<input>", config),
            "label_output_prefix": method.label_output_prefix(config),
            "causal_separator": CAUSAL_SEPARATOR if not student.is_seq2seq else None,
        },
        student={"name": student.name, "kind": student.kind, "adapter": config.lora_r > 0},
        max_new_tokens=predictor.max_new_tokens,
        data_info=data_info,
    )
    write_model_files(
        output, info=info, metrics=metrics, method_description=method.describe(config)
    )


def run_data(source: TaskSource, run: RunSettings, separator: str = "\n") -> TaskData:
    """A task's data as a run trains on it: subsampled and cut as ``run`` says, with the
    records of ``run.teacher_file`` in place of any shipped ones."""
    data = source.load(train_fraction=run.train_fraction, seed=run.data_seed, sep=separator)
    data = data.first({"train": run.max_train_examples, "test": run.max_test_examples})
    check_input_lengths(data, run.max_input_chars)
    if run.teacher_file is not None:
        data = attach_teacher_records(data, read_teacher_file(run.teacher_file))
    return data


def check_input_lengths(data: TaskData, limit: int) -> None:
    """Raise DataError naming the first example whose input is over ``limit`` characters."""
    for split, examples in data.splits.items():
        for example in examples:
            if len(example.input) > limit:
                raise DataError(
                    f"{split} example {example.id}: its input is {len(example.input)} characters, "
                    f"over max_input_chars ({limit}); fix the row, or raise --max-input-chars"
                )


def planned_examples(data: TaskData, method: str, config: TrainConfig) -> dict[str, int]:
    """The training examples of each objective a run on ``data`` (``run_data(source, run)``)
    would have (``metrics.json``'s ``train_examples``), counted without a student or any
    training."""
    _, counts = checked_method(method, config).build(data["train"], config)
    return counts


def train_on_task(
    *,
    source: TaskSource,
    method: str,
    config: TrainConfig,
    student: str | Student,
    output_dir: str | Path,
    run: RunSettings = DEFAULT_RUN,
    callbacks: Sequence[Any] = (),
) -> TrainResult:
    """The training stage's entry: ``train_student`` on a task's own data (a task file, or a
    paper task's folder), subsampled and cut as ``run`` says, with the teacher records of
    ``run.teacher_file`` in place of any shipped ones; the trained folder records where the
    data was, so that it can be evaluated again with nothing repeated.

    The data is read and checked before anything is written. The run's throughput is kept
    for later estimates (``stepdistill.throughput``); ``callbacks`` go to the Trainer.
    """
    started = time.perf_counter()
    if isinstance(student, str):
        student = load_student(student)
    separator = separator_of(student.tokenizer)
    data = run_data(source, run, separator)
    teacher_file = run.teacher_file
    result = train_student(
        data=data,
        method=method,
        config=config,
        student=student,
        output_dir=output_dir,
        run=run,
        data_info={
            **source.to_info(),
            "train_fraction": run.train_fraction,
            "data_seed": run.data_seed,
            "input_separator": separator,
            "notes": data.notes,
            "teacher_file": str(teacher_file) if teacher_file else None,
        },
        inputs=[*source.input_paths(), *([teacher_file] if teacher_file else [])],
        callbacks=callbacks,
    )
    if is_main_process():
        wall = time.perf_counter() - started
        record_training(student.name, method, config, result.metrics, wall)
    return result
