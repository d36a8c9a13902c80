"""The Hugging Face Trainer, taught to train several objectives at once and to select models on
validation accuracy. Only ``compute_loss``, ``evaluate``, ``log`` and the check after loading the
best checkpoint are overridden."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from transformers import Trainer, TrainerState

from stepdistill.models.kinds import SEQ2SEQ
from stepdistill.training.input_modes import InputMode, InputPrefixes
from stepdistill.training.sampling import GroupingKey, length_grouped_sampler


class DistillTrainer(Trainer):
    """Trainer of several objectives at once; loss = sum of weight * objective loss.

    Each objective's loss is the mean over its target tokens in the whole optimizer step (every
    accumulated micro-batch, every process), so that ``--grad-accum 2 --batch-size 4`` gives
    the gradients of ``--batch-size 8``: ``get_batch_samples`` counts the tokens per objective and
    ``compute_loss`` scales each micro-batch's mean by its share of them.

    Args:
        loss_weights: Objective name -> weight (step-by-step: label alpha, rationale 1 - alpha).
        input_mode: How the objectives' inputs reach the model: it collated the batches and computes
            each objective's loss from one (the paper's input prefixes by default).
        evaluator: Called with the model, returns metrics such as ``{"accuracy": 0.4}``;
            used for validation instead of the Trainer's loss-only evaluation loop.
        kind: ``seq2seq`` or ``causal``.
        lengths: Grouping key of every training item (token count, or target and input token
            counts for seq2seq); given, batches group similar lengths.
    """

    def __init__(
        self,
        *args: Any,
        loss_weights: dict[str, float],
        input_mode: InputMode | None = None,
        evaluator: Callable[[Any], dict[str, float]] | None = None,
        kind: str = SEQ2SEQ,
        lengths: list[GroupingKey] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        # compute_loss normalizes by the step's token counts itself: the Trainer must not
        # divide by the accumulation steps again (nor decide that from the model's signature)
        self.loss_is_scaled_for_ga = True
        self.loss_weights = loss_weights
        self.input_mode = input_mode or InputPrefixes()
        self.evaluator = evaluator
        self.kind = kind
        self.lengths = lengths
        self._objective_loss_sums: dict[str, float] = {}
        self._objective_loss_counts: dict[str, int] = {}

    def _issue_warnings_after_load(self, load_result: Any) -> None:
        """The Trainer's check after loading a checkpoint, without the false alarm of a tied
        student: its output layer is the embedding, never saved on its own, so "missing keys
        ['lm_head.weight']" means nothing; the weights are tied again instead."""
        # {tied: source} as the model's config ties them (empty for an untied one)
        model: Any = self.model
        tied = set(getattr(model, "all_tied_weights_keys", None) or ())
        missing = [key for key in load_result.missing_keys if key not in tied]
        if tied & set(load_result.missing_keys):
            model.tie_weights()
        super()._issue_warnings_after_load(load_result._replace(missing_keys=missing))

    def objective_losses(self, model: Any, inputs: Any) -> dict[str, Any]:
        """Mean token cross-entropy of each objective in a batch."""
        return self.input_mode.objective_losses(model, inputs, self.kind)

    def restore_finished(self, checkpoint: str) -> None:
        """Take state and best weights from a checkpoint that already reached the last step.

        ``train(resume_from_checkpoint=...)`` would run one more optimizer step when the final
        step falls mid-epoch, so a finished run is restored instead of resumed.
        """
        self.state = TrainerState.load_from_json(str(Path(checkpoint) / "trainer_state.json"))
        best = self.state.best_model_checkpoint
        chosen = best if best and Path(best).is_dir() else checkpoint
        self._load_from_checkpoint(chosen)

    def _get_train_sampler(self, train_dataset: Any = None) -> Any:
        if self.lengths is None:
            return super()._get_train_sampler(train_dataset)
        generator = torch.Generator()
        generator.manual_seed(
            self.args.data_seed if self.args.data_seed is not None else self.args.seed
        )
        return length_grouped_sampler(
            self.args.train_batch_size * self.args.gradient_accumulation_steps,
            self.lengths,
            generator,
        )

    # the counts are per objective, so num_items_in_batch is a dict here, not the Trainer's number
    def get_batch_samples(  # type: ignore[override]
        self, epoch_iterator: Any, num_batches: int, device: Any
    ) -> tuple[list[Any], dict[str, float] | None]:
        """The step's micro-batches and each objective's target tokens over all of them (summed over
        processes), which ``compute_loss`` receives as ``num_items_in_batch``."""
        # the Trainer's own count finds no top-level "labels" in these batches: nothing to count
        batches, _ = super().get_batch_samples(epoch_iterator, num_batches, device)
        counts: dict[str, float] = dict.fromkeys(sorted(self.loss_weights), 0.0)
        for batch in batches:
            for objective, count in self.input_mode.objective_token_counts(
                batch, self.kind
            ).items():
                counts[objective] = counts.get(objective, 0.0) + count
        if self.args.world_size > 1:
            local = torch.tensor([counts[objective] for objective in counts], device=device)
            total = self.accelerator.gather(local).reshape(-1, len(counts)).sum(dim=0)
            counts = dict(zip(counts, total.tolist(), strict=True))
        return batches, counts

    def compute_loss(  # type: ignore[override]
        self,
        model: Any,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: dict[str, float] | None = None,
    ) -> Any:
        """Weighted sum of the objective losses: each objective's mean over the batch, or, in
        training (``num_items_in_batch`` given), its token sum over the step's token count,
        times the processes (whose gradients are averaged)."""
        losses = self.objective_losses(model, inputs)
        shares = self._step_shares(inputs, num_items_in_batch)
        loss = sum(
            self.loss_weights[objective] * value * shares.get(objective, 1.0)
            for objective, value in losses.items()
        )
        if model.training:
            for objective, value in losses.items():
                self._objective_loss_sums[objective] = (
                    self._objective_loss_sums.get(objective, 0.0) + value.item()
                )
                self._objective_loss_counts[objective] = (
                    self._objective_loss_counts.get(objective, 0) + 1
                )
        return (loss, losses) if return_outputs else loss

    def _step_shares(self, batch: Any, step_counts: dict[str, float] | None) -> dict[str, float]:
        """What turns a micro-batch's mean loss of each objective into its part of the step's
        mean (none without the step's counts: the batch's own mean stands)."""
        if step_counts is None:
            return {}
        here = self.input_mode.objective_token_counts(batch, self.kind)
        return {
            objective: count * self.args.world_size / step_counts[objective]
            if step_counts[objective]
            else 0.0
            for objective, count in here.items()
        }

    def floating_point_ops(self, inputs: Any) -> int:
        return self.input_mode.floating_point_ops(inputs, super().floating_point_ops)

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        if "loss" in logs and self._objective_loss_counts:
            for objective, total in self._objective_loss_sums.items():
                logs[f"{objective}_loss"] = round(total / self._objective_loss_counts[objective], 4)
            self._objective_loss_sums.clear()
            self._objective_loss_counts.clear()
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
