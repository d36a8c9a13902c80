"""Label prediction with a trained student, from memory or from its output folder."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stepdistill.errors import StepdistillError
from stepdistill.evaluation.metrics import Metric
from stepdistill.schema import Example
from stepdistill.tasks import TASKS, AnswerPattern, Task
from stepdistill.tasks.labels import label_kind_from_dict
from stepdistill.training.config import TrainConfig
from stepdistill.training.features import PairEncoder
from stepdistill.training.generation import generate_texts
from stepdistill.training.methods import TrainingMethod, get_method, make_config

INFO_FILE = "stepdistill.json"


@dataclass
class LabelPredictor:
    """Runs only the label task: no rationale is generated unless the method needs one."""

    model: Any
    encoder: PairEncoder
    task: Task
    method: TrainingMethod
    config: TrainConfig
    max_new_tokens: int
    engine: Any = None  # an exported model (CTranslate2); None: the PyTorch model

    def predict(
        self, inputs: Sequence[str], *, batch_size: int | None = None, progress: bool = False
    ) -> list[str | None]:
        """Predicted labels of formatted task inputs (None where none could be read)."""
        sources = [self.method.label_source_text(text, self.config) for text in inputs]
        texts = self.generate(
            sources,
            max_new_tokens=self.max_new_tokens,
            batch_size=batch_size or self.config.eval_batch_size,
            progress=progress,
            output_prefix=self.method.label_output_prefix(self.config),
        )
        return [self.method.read_label(text, self.task, self.config) for text in texts]

    def generate(
        self,
        sources: Sequence[str],
        *,
        max_new_tokens: int,
        batch_size: int,
        output_prefix: str = "",
        progress: bool = False,
    ) -> list[str]:
        """Greedy continuations of model inputs, with the PyTorch model or the exported one."""
        if self.engine is None:
            return generate_texts(
                self.model,
                self.encoder,
                sources,
                max_new_tokens=max_new_tokens,
                batch_size=batch_size,
                progress=progress,
                output_prefix=output_prefix,
            )
        prefix = self.encoder.marker_ids(output_prefix) if output_prefix else []
        return self.engine.generate(
            [self.encoder.source_ids(source) for source in sources],
            prefix=prefix,
            max_new_tokens=max_new_tokens,
            batch_size=batch_size,
        )

    def accuracy(
        self, examples: Sequence[Example], *, progress: bool = False
    ) -> tuple[float, list[str | None]]:
        """Accuracy against gold labels with the task's metric, and the predictions."""
        predictions = self.predict([e.input for e in examples], progress=progress)
        metric: Metric = self.task.metric
        return metric.accuracy(predictions, [e.label for e in examples]), predictions

    @classmethod
    def from_folder(cls, folder: str | Path, **model_kwargs: Any) -> LabelPredictor:
        """Load a folder written by ``stepdistill train`` (model, tokenizer, stepdistill.json)."""
        from stepdistill.training.students import load_student

        info = read_info(folder)
        config = make_config(info["method"], **info["config"])
        if "export" in info:
            return cls._exported(folder, info, config)
        student = load_student(str(folder), **model_kwargs)
        encoder = PairEncoder.for_config(student.tokenizer, student.kind, config)
        return cls(
            model=student.model,
            encoder=encoder,
            task=task_from_info(info["task"]),
            method=get_method(info["method"]),
            config=config,
            max_new_tokens=int(info["generation"]["max_new_tokens"]),
        )

    @classmethod
    def _exported(
        cls, folder: str | Path, info: dict[str, Any], config: TrainConfig
    ) -> LabelPredictor:
        from transformers import AutoTokenizer

        from stepdistill.serving.export import CTranslate2Engine
        from stepdistill.training.students import prepare_tokenizer

        kind = info["student"]["kind"]
        tokenizer = prepare_tokenizer(AutoTokenizer.from_pretrained(folder), kind)
        encoder = PairEncoder.for_config(tokenizer, kind, config)
        return cls(
            model=None,
            encoder=encoder,
            task=task_from_info(info["task"]),
            method=get_method(info["method"]),
            config=config,
            max_new_tokens=int(info["generation"]["max_new_tokens"]),
            engine=CTranslate2Engine(folder, tokenizer, kind),
        )


def read_info(folder: str | Path) -> dict[str, Any]:
    path = Path(folder) / INFO_FILE
    if not path.exists():
        raise StepdistillError(f"{folder} is not a stepdistill model folder: no {INFO_FILE}")
    return json.loads(path.read_text(encoding="utf-8"))


def task_to_info(task: Task) -> dict[str, Any]:
    return {
        "name": task.name,
        "label_kind": {"name": task.label_kind.name, "labels": task.label_space},
        "metric": task.metric_name,
        "input_template": task.input_template,
        "answer_pattern": {
            "answer_marker": task.answer_pattern.answer_marker,
            "label_regex": task.answer_pattern.label_regex,
            "stop_markers": list(task.answer_pattern.stop_markers),
        },
    }


def task_from_info(info: dict[str, Any]) -> Task:
    """The registered task of that name, or one rebuilt from the saved spec."""
    if info["name"] in TASKS:
        return TASKS.get(info["name"])
    pattern = info["answer_pattern"]
    return Task(
        name=info["name"],
        description="(from a model folder)",
        input_template=info["input_template"],
        label_field="label",
        label_kind=label_kind_from_dict(info["label_kind"]),
        metric_name=info["metric"],
        answer_pattern=AnswerPattern(
            pattern["answer_marker"], pattern["label_regex"], tuple(pattern["stop_markers"])
        ),
    )


__all__ = ["INFO_FILE", "LabelPredictor", "read_info", "task_from_info", "task_to_info"]
