"""``Predictor``: a trained student folder, loaded on its own, answering task inputs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from stepdistill.errors import StepdistillError
from stepdistill.models.folder import read_info
from stepdistill.serving.engines import load_label_predictor

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
        folder: A folder written by ``stepdistill train`` (or ``stepdistill export``).
    """

    def __init__(self, folder: str | Path, **model_kwargs: Any) -> None:
        self.folder = Path(folder)
        self.info = read_info(folder)
        self.labels = load_label_predictor(folder, info=self.info, **model_kwargs)
        self.task = self.labels.task
        self.name = self.folder.name
        self.separator = self.info.input_separator

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
                ``score_labels`` for a task without a closed label set or a method whose label
                comes after a rationale.
        """
        texts = [self.format_input(row) for row in inputs]
        outputs: list[tuple[str | None, str | None]]
        if score_labels:
            outputs = [(label, None) for label in self._scored_labels(texts, batch_size)]
        else:
            outputs = self.labels.outputs(texts, batch_size=batch_size, progress=progress)
        rationales: list[str | None] = [why for _, why in outputs]
        if rationale and any(why is None for why in rationales):
            rationales = list(self._rationales(texts, batch_size))
        return [
            Prediction(label, why if rationale else None)
            for (label, _), why in zip(outputs, rationales, strict=True)
        ]

    def _rationales(self, texts: list[str], batch_size: int | None) -> list[str]:
        rationales = self.labels.rationales(
            texts, max_new_tokens=RATIONALE_MAX_NEW_TOKENS, batch_size=batch_size
        )
        if rationales is None:
            method = self.labels.method.name
            raise StepdistillError(f"this model ({method}) was not trained to write rationales")
        return rationales

    def _scored_labels(self, texts: list[str], batch_size: int | None) -> list[str | None]:
        candidates = self.task.label_space
        method, config = self.labels.method, self.labels.config
        if not method.scores_candidate_labels():
            raise StepdistillError(
                f"score_labels: a {method.name} model writes a rationale before its label, so "
                "candidate labels cannot be scored; drop score_labels"
            )
        if not candidates:
            raise StepdistillError(
                f"task {self.task.name!r} has no closed label set to score; drop score_labels"
            )
        pairs = [
            (method.label_source_text(text, config), label)
            for text in texts
            for label in candidates
        ]
        scores = self.labels.engine.score(
            pairs,
            output_prefix=method.label_output_prefix(config),
            batch_size=batch_size or config.eval_batch_size,
        )
        width = len(candidates)
        return [
            candidates[max(range(width), key=lambda j: scores[row * width + j])]
            for row in range(len(texts))
        ]
