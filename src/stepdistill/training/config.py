"""One config dataclass per training method. Defaults are the paper's (Hsieh et al., 2023).

Each field is the only home of its setting: its default, its help text, its command-line flag
(``--`` + the field name, plus a short alias where one is given) and, where it has one, the
``transformers.TrainingArguments`` argument it becomes. The CLI and ``to_training_arguments``
are derived from the fields, never written by hand.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any, ClassVar

from stepdistill.data.label_sources import LABEL_SOURCES
from stepdistill.settings import check_settings, setting

if TYPE_CHECKING:
    from transformers import TrainingArguments

REPORT_TO = ("none", "tensorboard")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
CHECKPOINTS = "checkpoints"


def precision_arguments(precision: str, *, cuda: bool, cuda_bf16: bool) -> dict[str, Any]:
    """The ``TrainingArguments`` of a precision: ``auto`` is bf16 (with TF32 matmuls) on a CUDA
    device that supports it, fp32 elsewhere; bf16 elsewhere is autocast on the CPU.

    Raises:
        ValueError: fp16 without a CUDA device (CPUs have no fp16 autocast to train with).
    """
    if precision == "auto":
        precision = "bf16" if cuda and cuda_bf16 else "fp32"
    if precision == "fp16" and not cuda:
        raise ValueError("precision fp16 needs a CUDA device; use bf16 or fp32 on a CPU")
    return {
        "bf16": precision == "bf16",
        "fp16": precision == "fp16",
        "tf32": True if cuda and precision != "fp32" else None,
    }


def checkpointing_arguments(enabled: bool, arguments_class: type) -> dict[str, Any]:
    """Gradient (activation) checkpointing, non-reentrant, under the name this transformers
    version uses (``activation_checkpointing`` since it renamed ``gradient_checkpointing``)."""
    import inspect

    known = inspect.signature(arguments_class).parameters
    name = (
        "activation_checkpointing"
        if "activation_checkpointing" in known
        else ("gradient_checkpointing")
    )
    if not enabled:
        return {name: False}
    return {name: True, f"{name}_kwargs": {"use_reentrant": False}}


def optimizer_name(optim: str, *, cuda: bool) -> str:
    """``auto``: the fused AdamW kernel on CUDA, the plain (foreach where it can) one elsewhere."""
    if optim != "auto":
        return optim
    return "adamw_torch_fused" if cuda else "adamw_torch"


@dataclass
class TrainConfig:
    """Settings every training method shares (each field's help says what it does)."""

    method: ClassVar[str] = ""

    label_source: str = setting(
        "gold",
        "gold: human labels (the paper's labeled setting); teacher: the teacher's labels "
        "(the unlabeled setting, i.e. distillation)",
        choices=tuple(LABEL_SOURCES.names()),
    )
    learning_rate: float = setting(
        5e-5, "AdamW learning rate", alias="--lr", trainer_argument="learning_rate"
    )
    per_device_batch_size: int = setting(
        64,
        "training examples per device per step",
        alias="--batch-size",
        trainer_argument="per_device_train_batch_size",
    )
    gradient_accumulation_steps: int = setting(
        1,
        "steps accumulated per optimizer update",
        alias="--grad-accum",
        trainer_argument="gradient_accumulation_steps",
    )
    max_steps: int = setting(10_000, "optimizer updates; 0 or less: train --epochs instead")
    num_epochs: float = setting(
        1.0,
        "epochs, used when --max-steps is 0",
        alias="--epochs",
        trainer_argument="num_train_epochs",
    )
    eval_steps: int = setting(
        250, "validation accuracy every N updates; the best checkpoint is kept and restored"
    )
    eval_batch_size: int = setting(32, "inputs per generation batch during evaluation")
    seed: int = setting(0, "seed of initialisation, shuffling and dropout")
    max_input_length: int = setting(1024, "input tokens kept")
    max_target_length: int = setting(256, "target tokens kept")
    max_new_tokens: int | None = setting(
        None,
        "tokens generated per prediction; None sizes it from the training targets "
        "(longest + 8, at most --max-target-length)",
    )
    logging_steps: int = setting(10, "log losses every N updates", trainer_argument="logging_steps")
    save_total_limit: int = setting(
        2,
        "checkpoints kept on disk (the best one is always kept)",
        trainer_argument="save_total_limit",
    )
    warmup_steps: int = setting(0, "linear warm-up updates", trainer_argument="warmup_steps")
    weight_decay: float = setting(0.0, "AdamW weight decay", trainer_argument="weight_decay")
    lr_scheduler_type: str = setting(
        "linear",
        "learning-rate schedule after warm-up (transformers' SchedulerType: linear, cosine, "
        "constant, ...)",
        trainer_argument="lr_scheduler_type",
    )
    optim: str = setting(
        "auto",
        "optimizer: auto (fused AdamW on CUDA, AdamW elsewhere) or one of transformers' "
        "OptimizerNames (adamw_torch, adamw_torch_fused, adafactor, ...)",
    )
    precision: str = setting(
        "auto",
        "auto (bf16 with TF32 matmuls on a CUDA device that has bf16, else fp32), fp32, bf16 "
        "(autocast; on a CPU too) or fp16 (CUDA only)",
        choices=PRECISIONS,
    )
    gradient_checkpointing: bool = setting(
        False, "recompute activations in the backward pass: less memory, about 30% more time"
    )
    lora_r: int = setting(
        0, "rank of LoRA adapters (parameter-efficient student; needs peft); 0: train every weight"
    )
    lora_alpha: float = setting(16.0, "LoRA scaling (the update is scaled by alpha / r)")
    lora_dropout: float = setting(0.05, "dropout on the LoRA adapters' input")
    lora_target_modules: list[str] = setting(
        [],
        "modules that get adapters (repeat for several); none: the attention projections of T5 "
        "and Llama-style students, every linear layer of others",
        repeatable=True,
    )
    dataloader_num_workers: int = setting(
        0,
        "worker processes that collate batches (0: in the training process)",
        trainer_argument="dataloader_num_workers",
    )
    report_to: str = setting(
        "none",
        "none, or tensorboard (logs under <output>/checkpoints/runs)",
        choices=REPORT_TO,
    )
    group_by_length: bool = setting(
        True,
        "batch examples of similar length together (with some randomness), so that little of "
        "each batch is padding; off: random batches",
    )

    def __post_init__(self) -> None:
        check_settings(self)
        if self.learning_rate <= 0:
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate}")
        for name in ("per_device_batch_size", "gradient_accumulation_steps", "eval_steps"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("eval_batch_size", "max_input_length", "max_target_length", "logging_steps"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.max_steps <= 0 and self.num_epochs <= 0:
            raise ValueError(
                f"give max_steps > 0 or num_epochs > 0 (got {self.max_steps}, {self.num_epochs})"
            )
        if self.max_new_tokens is not None and self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be at least 1, got {self.max_new_tokens}")
        if self.lora_r < 0:
            raise ValueError(f"lora_r must be >= 0 (0: no LoRA), got {self.lora_r}")
        if self.lora_alpha <= 0:
            raise ValueError(f"lora_alpha must be above 0, got {self.lora_alpha}")
        if self.num_epochs < 0 or self.weight_decay < 0 or self.warmup_steps < 0:
            raise ValueError("num_epochs, weight_decay and warmup_steps must not be negative")
        if not 0 <= self.lora_dropout < 1:
            raise ValueError(f"lora_dropout must be in [0, 1), got {self.lora_dropout}")
        if self.dataloader_num_workers < 0:
            raise ValueError(
                f"dataloader_num_workers must be >= 0, got {self.dataloader_num_workers}"
            )

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, **asdict(self)}

    @classmethod
    def field_names(cls) -> set[str]:
        return {config_field.name for config_field in fields(cls)}

    def to_training_arguments(
        self, output_dir: str | os.PathLike, *, has_valid: bool
    ) -> TrainingArguments:
        """``transformers.TrainingArguments`` for this config: the fields that name a trainer
        argument pass as they are; the rest is what stepdistill's training loop relies on
        (validation-accuracy model selection, checkpoints at every evaluation, ...)."""
        import torch
        from transformers import TrainingArguments

        cuda = torch.cuda.is_available()
        cuda_bf16 = cuda and torch.cuda.is_bf16_supported()
        world_size = int(os.environ.get("WORLD_SIZE", "1"))
        direct = {
            config_field.metadata["hf"]: getattr(self, config_field.name)
            for config_field in fields(self)
            if config_field.metadata.get("hf")
        }
        return TrainingArguments(
            **direct,
            **precision_arguments(self.precision, cuda=cuda, cuda_bf16=cuda_bf16),
            **checkpointing_arguments(self.gradient_checkpointing, TrainingArguments),
            optim=optimizer_name(self.optim, cuda=cuda),
            output_dir=str(output_dir),
            max_steps=self.max_steps if self.max_steps > 0 else -1,
            eval_strategy="steps" if has_valid else "no",
            eval_steps=self.eval_steps,
            save_strategy="steps",
            save_steps=self.eval_steps,
            load_best_model_at_end=has_valid,
            metric_for_best_model="accuracy" if has_valid else None,
            greater_is_better=True,
            seed=self.seed,
            data_seed=self.seed,
            report_to=[] if self.report_to == "none" else [self.report_to],
            remove_unused_columns=False,
            use_cpu=not cuda,
            ddp_backend="gloo" if world_size > 1 and not cuda else None,
        )


@dataclass
class StandardConfig(TrainConfig):
    """Standard fine-tuning (gold labels) or standard distillation (teacher labels):
    input -> label, no rationale."""

    method: ClassVar[str] = "standard"


@dataclass
class StepByStepConfig(TrainConfig):
    """Distilling step-by-step: two tasks told apart by a task prefix.

    ``loss = alpha * label_loss + (1 - alpha) * rationale_loss``.
    """

    method: ClassVar[str] = "step-by-step"

    alpha: float = setting(0.5, "weight of the label loss; the rationale loss gets 1 - alpha")
    label_prefix: str = setting("predict: ", "prefix (or output marker) of the label task")
    rationale_prefix: str = setting("explain: ", "prefix (or output marker) of the rationale task")
    shared_input: bool = setting(
        False,
        "put the two task prefixes on the output side, so that the input is computed once for "
        "both tasks (faster; off: the paper's input prefixes)",
    )
    rationale_shuffle_seed: int | None = setting(
        None,
        "control: train on each rationale with its words permuted, seeded by this and the "
        "example's id (does the content matter, or only its presence?); None: as written",
    )
    rationale_required: bool = setting(
        False,
        "train only the examples with a usable rationale; off: every labeled example trains the "
        "label objective and the rationale objective trains where a usable rationale exists "
        "(each objective's loss the mean over the examples that have it)",
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 <= self.alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {self.alpha}")
        if self.label_prefix == self.rationale_prefix:
            raise ValueError(
                f"label_prefix and rationale_prefix must differ, both are {self.label_prefix!r}"
            )


@dataclass
class SingleTaskConfig(TrainConfig):
    """Single-task training: one target, the rationale followed by the label."""

    method: ClassVar[str] = "single-task"

    answer_marker: str = setting(
        "So the answer is",
        "text between rationale and label in the target; at inference the label is read after "
        "its last occurrence",
    )
    label_first: bool = setting(
        False,
        "control: the target is the label, a newline, then the rationale (the label is read from "
        "the first line); off: the rationale, the answer marker, then the label",
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.answer_marker.strip():
            raise ValueError("answer_marker must not be empty")


@dataclass(frozen=True)
class RunSettings:
    """Settings of one training run that are not the method's: which data, which folder.

    Declared once here: ``stepdistill train`` derives its flags from these fields, and
    pipelines and recipes fill the same object.
    """

    train_fraction: float = setting(1.0, "share of the training split used")
    data_seed: int = setting(0, "seed of the train subsample")
    max_train_examples: int | None = setting(
        None, "train on the first N training examples, after the fraction (None: all)"
    )
    max_valid_examples: int | None = setting(
        None, "validate on the first N validation examples (None: all)"
    )
    max_test_examples: int | None = setting(None, "test on the first N test examples (None: all)")
    max_input_chars: int = setting(
        1_000_000,
        "refuse, before tokenizing, an example whose input is longer than this many characters "
        "(far above any real input: a row that long is a broken file, and tokenizing it would "
        "take gigabytes)",
    )
    teacher_file: str | None = setting(
        None,
        "teacher JSONL from `stepdistill extract`, used in place of the shipped teacher outputs",
    )
    overwrite: bool = setting(False, "replace an existing output folder")
    resume: bool = setting(False, "continue from the last checkpoint")
    force: bool = setting(
        False, "with --overwrite: replace a folder even if it is not a stepdistill output"
    )

    def __post_init__(self) -> None:
        check_settings(self)
        if not 0 < self.train_fraction <= 1:
            raise ValueError(f"train fraction must be in (0, 1], got {self.train_fraction}")
        for name in (
            "max_train_examples",
            "max_valid_examples",
            "max_test_examples",
            "max_input_chars",
        ):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")
        if self.overwrite and self.resume:
            raise ValueError("overwrite and resume exclude each other: give one")
