"""``Predictor``: a trained student folder, loaded on its own, answering task inputs."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from stepdistill.errors import StepdistillError
from stepdistill.inference import LabelPredictor, read_info
from stepdistill.parsing import parse_completion
from stepdistill.tasks import AnswerPattern
from stepdistill.training.generation import score_targets
from stepdistill.training.methods import SingleTask

RATIONALE_MAX_NEW_TOKENS = 128


@dataclass
class Prediction:
    label: str | None
    rationale: str | None = None

    def to_dict(self, *, rationale: bool) -> dict[str, Any]:
        data = asdict(self)
        if not rationale:
            data.pop("rationale")
        return data


class Predictor:
    """Label-only prediction by default (the point of distilling: no rationale, no LLM);
    the rationale on request; candidate scoring for closed label sets.

    Args:
        folder: A folder written by ``stepdistill train``.
    """

    def __init__(self, folder: str | Path, **model_kwargs: Any) -> None:
        self.folder = Path(folder)
        self.info = read_info(folder)
        self.labels = LabelPredictor.from_folder(folder, **model_kwargs)
        self.task = self.labels.task
        self.name = self.folder.name
        self.separator = self.info.get("data", {}).get("input_separator") or "\n"

    def format_input(self, row: str | Mapping[str, Any]) -> str:
        """An input as the model saw it in training: ``input`` text, or the task's raw fields
        (``question`` and ``choices``, ``premise`` and ``hypothesis``, ...)."""
        if isinstance(row, str):
            return row
        if "input" in row and isinstance(row["input"], str):
            return row["input"]
        return self.task.format_input(row, sep=self.separator)

    def predict(
        self,
        inputs: Sequence[str | Mapping[str, Any]],
        *,
        rationale: bool = False,
        score_labels: bool = False,
        batch_size: int | None = None,
        progress: bool = False,
    ) -> list[Prediction]:
        """Predictions for ``inputs`` (formatted text or raw task fields), in order.

        Raises:
            StepdistillError: ``rationale`` for a model that never learned rationales, or
                ``score_labels`` for a task without a closed label set.
        """
        texts = [self.format_input(row) for row in inputs]
        method, config = self.labels.method, self.labels.config
        if isinstance(method, SingleTask):
            return self._single_task(texts, rationale, batch_size, progress)
        if score_labels:
            labels = self._scored_labels(texts, batch_size)
        else:
            labels = self.labels.predict(texts, batch_size=batch_size, progress=progress)
        rationales: list[str | None] = [None] * len(texts)
        if rationale:
            requests = [method.rationale_request(text, config) for text in texts]
            if any(request is None for request in requests):
                raise StepdistillError(
                    f"this model ({method.name}) was not trained to write rationales"
                )
            prefix = requests[0][1]
            rationales = list(
                self.labels.generate(
                    [source for source, _ in requests],
                    max_new_tokens=RATIONALE_MAX_NEW_TOKENS,
                    batch_size=batch_size or config.eval_batch_size,
                    output_prefix=prefix,
                )
            )
        return [Prediction(label, why) for label, why in zip(labels, rationales, strict=True)]

    def _scored_labels(self, texts: list[str], batch_size: int | None) -> list[str | None]:
        candidates = self.task.label_space
        if self.labels.engine is not None:
            raise StepdistillError("score_labels needs the PyTorch model; this one is exported")
        if not candidates:
            raise StepdistillError(
                f"task {self.task.name!r} has no closed label set to score; drop score_labels"
            )
        method, config = self.labels.method, self.labels.config
        pairs = [
            (method.label_source_text(text, config), label)
            for text in texts
            for label in candidates
        ]
        scores = score_targets(
            self.labels.model,
            self.labels.encoder,
            pairs,
            output_prefix=method.label_output_prefix(config),
            batch_size=batch_size or config.eval_batch_size,
        )
        width = len(candidates)
        return [
            candidates[max(range(width), key=lambda j, i=i: scores[i * width + j])]
            for i in range(len(texts))
        ]

    def _single_task(
        self, texts: list[str], rationale: bool, batch_size: int | None, progress: bool
    ) -> list[Prediction]:
        config = self.labels.config
        generated = self.labels.generate(
            texts,
            max_new_tokens=self.labels.max_new_tokens,
            batch_size=batch_size or config.eval_batch_size,
            progress=progress,
        )
        pattern = AnswerPattern(answer_marker=re.escape(config.answer_marker))
        parsed = [parse_completion(text, pattern, self.task.label_kind) for text in generated]
        return [Prediction(p.label, p.rationale if rationale else None) for p in parsed]
