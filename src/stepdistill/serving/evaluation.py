"""The evaluation entry: a trained or exported folder and a split in, its accuracy out, with the
majority-class baseline, the confusion matrix and warnings for a closed label set."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stepdistill.data.task_source import task_source, task_source_from_info
from stepdistill.errors import StepdistillError
from stepdistill.evaluation.classes import class_report
from stepdistill.models.folder import read_info
from stepdistill.schema import Example
from stepdistill.serving.engines import load_label_predictor


@dataclass
class Evaluation:
    """One folder's accuracy on one split, its predictions, and (closed label sets) what the
    accuracy means against always answering the most frequent class."""

    model: str
    task: str
    split: str
    examples: list[Example]
    predictions: list[str | None]
    accuracy: float
    classes: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "task": self.task,
            "split": self.split,
            "size": len(self.examples),
            "accuracy": self.accuracy,
            "classes": self.classes,
            "warnings": self.warnings,
        }

    def prediction_rows(self) -> list[dict[str, Any]]:
        return [
            {"id": e.id, "label": e.label, "prediction": p}
            for e, p in zip(self.examples, self.predictions, strict=True)
        ]


def evaluate_folder(
    folder: str | Path,
    *,
    split: str = "test",
    data_dir: str | Path | None = None,
    batch_size: int | None = None,
) -> Evaluation:
    """Accuracy of the folder's student on ``split`` of the data it was trained from (or of a
    paper task's ``data_dir``).

    Raises:
        StepdistillError: the split has no labels, or the folder is not a stepdistill folder.
    """
    info = read_info(folder)
    predictor = load_label_predictor(folder, info=info)
    source = task_source_from_info(predictor.task, info.data_info)
    if data_dir:
        source = task_source(predictor.task, data_dir=data_dir)
    examples = source.load(sep=info.input_separator, teacher=False)[split]
    if any(example.label is None for example in examples):
        raise StepdistillError(
            f"split {split!r} of task {predictor.task.name!r} has no labels (the task file has "
            "no label_column): evaluation needs a labeled split"
        )
    if batch_size:
        predictor.config.eval_batch_size = batch_size
    accuracy, predictions = predictor.accuracy(examples, progress=True)
    evaluation = Evaluation(
        str(folder), predictor.task.name, split, list(examples), list(predictions), accuracy
    )
    labels = predictor.task.label_space
    if labels:
        add_classes(evaluation, list(labels), predictor.task.metric.score)
    return evaluation


def add_classes(evaluation: Evaluation, labels: list[str], score: Any) -> None:
    """The majority baseline (with a verdict against it), the confusion matrix and warnings
    (``evaluation.classes.class_report``)."""
    gold = [str(example.label) for example in evaluation.examples]
    right = [bool(score(p, g)) for p, g in zip(evaluation.predictions, gold, strict=True)]
    found = class_report("the student", gold, [evaluation.predictions], [right], labels)
    evaluation.classes = found.to_dict()
    evaluation.warnings.extend(found.warnings)
