"""Judge prompts: how a judge model is asked to rate a rationale against its input and label.

Like few-shot exemplars they are files (the built-in one is ``judges/rubric.json``): a rubric
(the instruction), a template over ``input``, ``rationale`` and ``label``, a score scale and a
version. The version and the rubric's text are part of every judge request, so they are part
of its cache key: a changed rubric asks again.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from stepdistill.data.io import read_json
from stepdistill.errors import DataError
from stepdistill.schema import Messages

KEYS = ("name", "version", "scale", "instruction", "template")

# The kinds of unreadable judge answers (``ScoreReading.reason``).
NO_ANSWER = "no answer"
NO_SCORE = "no score"
OUTSIDE_SCALE = "outside the scale"


@dataclass(frozen=True)
class ScoreReading:
    """A judge's score, or the message and the kind of reason why none could be read."""

    score: int | None
    error: str | None
    reason: str | None


@dataclass(frozen=True)
class JudgePrompt:
    """A rubric and how a judge's answer is read.

    Attributes:
        name, version: Which rubric, written into every request.
        scale: The lowest and the highest score.
        instruction: The rubric (the system message).
        template: The user message, over ``input``, ``rationale``, ``label``, ``low``, ``high``.
    """

    name: str
    version: int
    scale: tuple[int, int]
    instruction: str
    template: str

    def messages(self, text: str, rationale: str, label: str) -> Messages:
        """The judge's chat messages for one rationale."""
        low, high = self.scale
        user = self.template.format(
            input=text, rationale=rationale, label=label, low=low, high=high
        )
        system = f"[judge prompt {self.name} v{self.version}]\n{self.instruction}"
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

    def read_score(self, answer: str | None) -> tuple[int | None, str | None]:
        """(score, None), or (None, why the answer cannot be read): never a made-up score."""
        reading = self.read(answer)
        return reading.score, reading.error

    def read(self, answer: str | None) -> ScoreReading:
        """The score in a judge's answer, or why there is none (its ``reason`` from a fixed
        set: ``NO_ANSWER``, ``NO_SCORE``, ``OUTSIDE_SCALE``)."""
        if answer is None:
            return ScoreReading(None, NO_ANSWER, NO_ANSWER)
        low, high = self.scale
        found = re.search(r"[Ss]core\s*[:=]?\s*(\d+)", answer[:2000]) or re.search(
            r"\b(\d+)\b", answer[:200]
        )
        if found is None:
            return ScoreReading(None, f"{NO_SCORE}: {answer.strip()[:80]!r}", NO_SCORE)
        score = int(found.group(1))
        if not low <= score <= high:
            error = f"{OUTSIDE_SCALE}: {score} (scale {low}..{high})"
            return ScoreReading(None, error, OUTSIDE_SCALE)
        return ScoreReading(score, None, None)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version}


def _judge(data: Any, where: str) -> JudgePrompt:
    if not isinstance(data, dict) or set(KEYS) - set(data):
        raise DataError(f"{where}: a judge prompt needs the keys {list(KEYS)}")
    scale = data["scale"]
    if not (isinstance(scale, list) and len(scale) == 2 and scale[0] < scale[1]):
        raise DataError(f"{where}: scale must be [lowest, highest], got {scale!r}")
    for field in ("{input}", "{rationale}", "{label}"):
        if field not in data["template"]:
            raise DataError(f"{where}: the template must contain {field}")
    return JudgePrompt(
        name=str(data["name"]),
        version=int(data["version"]),
        scale=(int(scale[0]), int(scale[1])),
        instruction=str(data["instruction"]),
        template=str(data["template"]),
    )


def builtin_judge() -> JudgePrompt:
    """The rubric shipped with stepdistill."""
    resource = resources.files("stepdistill.prompts").joinpath("judges", "rubric.json")
    return _judge(json.loads(resource.read_text(encoding="utf-8")), "judges/rubric.json")


def load_judge(path: str | Path | None) -> JudgePrompt:
    """A judge prompt file (JSON with name, version, scale, instruction, template), or the
    built-in rubric for None."""
    if path is None:
        return builtin_judge()
    return _judge(read_json(Path(path), "judge prompt file"), str(path))
