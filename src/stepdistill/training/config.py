"""One config dataclass per training method. Defaults are the paper's (Hsieh et al., 2023)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar

LABEL_SOURCES = ("gold", "teacher")


@dataclass
class TrainConfig:
    """Settings every training method shares.

    Attributes:
        label_source: ``gold`` (human labels: the paper's labeled setting) or ``teacher``
            (the teacher's labels: the unlabeled setting, i.e. distillation).
        learning_rate: AdamW learning rate (paper: 5e-5).
        per_device_batch_size: Training examples per device per step (paper: 64).
        gradient_accumulation_steps: Steps accumulated per optimizer update.
        max_steps: Optimizer updates (paper: 10,000). 0 or less: train ``num_epochs`` instead.
        num_epochs: Epochs, used when ``max_steps`` <= 0.
        eval_steps: Validation accuracy every this many updates; the best checkpoint is kept.
        eval_batch_size: Inputs per generation batch during evaluation.
        seed: Seed of initialisation, shuffling and dropout.
        max_input_length: Input tokens kept (paper: 1024).
        max_target_length: Target tokens kept (reference: 256).
        max_new_tokens: Tokens generated for a prediction; None sizes it from the training
            targets (longest + 8, at most ``max_target_length``).
        logging_steps: Log losses every this many updates.
        save_total_limit: Checkpoints kept on disk (the best one is always kept).
        warmup_steps: Linear warm-up updates.
        weight_decay: AdamW weight decay.
        report_to: ``none`` or ``tensorboard`` (logs under ``<output>/checkpoints/runs``).
        group_by_length: Batch examples of similar length together (with some randomness), so
            that little of each batch is padding.
    """

    method: ClassVar[str] = ""

    label_source: str = "gold"
    learning_rate: float = 5e-5
    per_device_batch_size: int = 64
    gradient_accumulation_steps: int = 1
    max_steps: int = 10_000
    num_epochs: float = 1.0
    eval_steps: int = 250
    eval_batch_size: int = 32
    seed: int = 0
    max_input_length: int = 1024
    max_target_length: int = 256
    max_new_tokens: int | None = None
    logging_steps: int = 10
    save_total_limit: int = 2
    warmup_steps: int = 0
    weight_decay: float = 0.0
    report_to: str = "none"
    group_by_length: bool = True

    def __post_init__(self) -> None:
        if self.label_source not in LABEL_SOURCES:
            raise ValueError(
                f"label_source must be one of {LABEL_SOURCES}, got {self.label_source!r}"
            )
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
        if self.report_to not in ("none", "tensorboard"):
            raise ValueError(f"report_to must be 'none' or 'tensorboard', got {self.report_to!r}")

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, **asdict(self)}

    @classmethod
    def field_names(cls) -> set[str]:
        return {field.name for field in fields(cls)}


@dataclass
class StandardConfig(TrainConfig):
    """Standard fine-tuning (gold labels) or standard distillation (teacher labels):
    input -> label, no rationale."""

    method: ClassVar[str] = "standard"


@dataclass
class StepByStepConfig(TrainConfig):
    """Distilling step-by-step: two tasks told apart by an input prefix.

    ``loss = alpha * label_loss + (1 - alpha) * rationale_loss``.

    Attributes:
        alpha: Weight of the label loss (paper: 0.5).
        label_prefix: Input prefix of the label task (reference: ``predict: ``).
        rationale_prefix: Input prefix of the rationale task (reference: ``explain: ``).
        shared_input: Put the two prefixes on the output side instead, so that the input is
            computed once for both tasks (faster; off by default, the paper's way is the input
            prefix).
    """

    method: ClassVar[str] = "step-by-step"

    alpha: float = 0.5
    label_prefix: str = "predict: "
    rationale_prefix: str = "explain: "
    shared_input: bool = False

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
    """Single-task training: one target, the rationale followed by the label.

    Attributes:
        answer_marker: Text between rationale and label in the target; at inference the label
            is read after its last occurrence.
    """

    method: ClassVar[str] = "single-task"

    answer_marker: str = "So the answer is"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.answer_marker.strip():
            raise ValueError("answer_marker must not be empty")
