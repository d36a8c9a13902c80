"""The Hugging Face Trainer, taught to train several tasks at once and to select models on
validation accuracy. Only ``compute_loss``, ``evaluate`` and ``log`` are overridden."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from transformers import Trainer


class DistillTrainer(Trainer):
    """Trainer whose batches are ``{task: model inputs}``; loss = sum of weight * task loss.

    Args:
        loss_weights: Task name -> weight (step-by-step: label alpha, rationale 1 - alpha).
        evaluator: Called with the model, returns metrics such as ``{"accuracy": 0.4}``;
            used for validation instead of the Trainer's loss-only evaluation loop.
    """

    def __init__(
        self,
        *args: Any,
        loss_weights: dict[str, float],
        evaluator: Callable[[Any], dict[str, float]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.loss_weights = loss_weights
        self.evaluator = evaluator
        self._task_loss_sums: dict[str, float] = {}
        self._task_loss_counts: dict[str, int] = {}

    def task_losses(self, model: Any, inputs: dict[str, dict[str, torch.Tensor]]) -> dict[str, Any]:
        """Mean token cross-entropy of each task's batch (one forward pass per task)."""
        return {task: model(**inputs[task]).loss for task in self.loss_weights}

    def compute_loss(
        self,
        model: Any,
        inputs: dict[str, dict[str, torch.Tensor]],
        return_outputs: bool = False,
        num_items_in_batch: Any = None,
    ) -> Any:
        losses = self.task_losses(model, inputs)
        loss = sum(self.loss_weights[task] * value for task, value in losses.items())
        if model.training:
            for task, value in losses.items():
                self._task_loss_sums[task] = self._task_loss_sums.get(task, 0.0) + value.item()
                self._task_loss_counts[task] = self._task_loss_counts.get(task, 0) + 1
        return (loss, losses) if return_outputs else loss

    def floating_point_ops(self, inputs: dict[str, Any]) -> int:
        return sum(
            super(DistillTrainer, self).floating_point_ops(batch) for batch in inputs.values()
        )

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        if "loss" in logs and self._task_loss_counts:
            for task, total in self._task_loss_sums.items():
                logs[f"{task}_loss"] = round(total / self._task_loss_counts[task], 4)
            self._task_loss_sums.clear()
            self._task_loss_counts.clear()
        super().log(logs, start_time)

    def evaluate(
        self,
        eval_dataset: Any = None,
        ignore_keys: list[str] | None = None,
        metric_key_prefix: str = "eval",
    ) -> dict[str, float]:
        if self.evaluator is None:
            return super().evaluate(eval_dataset, ignore_keys, metric_key_prefix)
        metrics = {f"{metric_key_prefix}_{k}": v for k, v in self.evaluator(self.model).items()}
        self.log(dict(metrics))
        self.control = self.callback_handler.on_evaluate(
            self.args, self.state, self.control, metrics
        )
        return metrics
