"""Label-only prediction with a student in memory: the one task run at inference, used for
validation and test accuracy during training and, from a folder, by ``serving``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from stepdistill.evaluation.metrics import Metric
from stepdistill.models.encoding import PairEncoder
from stepdistill.schema import Example
from stepdistill.tasks import Task
from stepdistill.training.config import TrainConfig
from stepdistill.training.methods import TrainingMethod


class Engine(Protocol):
    """What generates text for a predictor: a PyTorch model (``TorchEngine``) or an exported
    one (``serving.export.CTranslate2Engine``)."""

    encoder: PairEncoder

    def generate(
        self,
        sources: Sequence[str],
        *,
        max_new_tokens: int,
        batch_size: int,
        output_prefix: str = "",
        progress: bool = False,
        temperature: float = 0.0,
        seed: int = 0,
    ) -> list[str]: ...

    def score(
        self, pairs: Sequence[tuple[str, str]], *, output_prefix: str = "", batch_size: int = 32
    ) -> list[float]: ...


@dataclass
class LabelPredictor:
    """Runs only the label task: no rationale is generated unless the method needs one."""

    engine: Engine
    task: Task
    method: TrainingMethod
    config: TrainConfig
    max_new_tokens: int

    @property
    def encoder(self) -> PairEncoder:
        return self.engine.encoder

    @property
    def model(self) -> Any:
        """The PyTorch model, or None for an exported engine."""
        return getattr(self.engine, "model", None)

    def outputs(
        self,
        inputs: Sequence[str],
        *,
        batch_size: int | None = None,
        progress: bool = False,
        temperature: float = 0.0,
        seed: int = 0,
    ) -> list[tuple[str | None, str | None]]:
        """(label, rationale) of each formatted task input, as the label request gives them
        (a rationale only where the method writes one before its label); sampled at a
        ``temperature`` above 0."""
        texts = self.engine.generate(
            [self.method.label_source_text(text, self.config) for text in inputs],
            max_new_tokens=self.max_new_tokens,
            batch_size=batch_size or self.config.eval_batch_size,
            output_prefix=self.method.label_output_prefix(self.config),
            progress=progress,
            temperature=temperature,
            seed=seed,
        )
        return [self.method.read_output(text, self.task, self.config) for text in texts]

    def rationales(
        self, inputs: Sequence[str], *, max_new_tokens: int, batch_size: int | None = None
    ) -> list[str] | None:
        """A greedy rationale for each input from the method's rationale task, or None when
        the method has none (its rationale comes with the label, or it never learned one)."""
        asked = [self.method.rationale_request(text, self.config) for text in inputs]
        requests = [request for request in asked if request is not None]
        if not requests or len(requests) != len(asked):
            return None
        return self.engine.generate(
            [source for source, _ in requests],
            max_new_tokens=max_new_tokens,
            batch_size=batch_size or self.config.eval_batch_size,
            output_prefix=requests[0][1],
        )

    def predict(
        self, inputs: Sequence[str], *, batch_size: int | None = None, progress: bool = False
    ) -> list[str | None]:
        """Predicted labels of formatted task inputs (None where none could be read)."""
        outputs = self.outputs(inputs, batch_size=batch_size, progress=progress)
        return [label for label, _ in outputs]

    def accuracy(
        self, examples: Sequence[Example], *, progress: bool = False
    ) -> tuple[float, list[str | None]]:
        """Accuracy against gold labels with the task's metric, and the predictions."""
        predictions = self.predict([e.input for e in examples], progress=progress)
        metric: Metric = self.task.metric
        return metric.accuracy(predictions, [e.label for e in examples]), predictions
