"""Rationalization prompts (Zelikman et al. 2022, STaR): the teacher is shown the gold label
and asked to explain why it is right.

Like judge prompts they are versioned files (the built-in one is ``hints/rationalize.json``):
an instruction added to the task's, the hint put into each question (over ``label``, the label
as the task's answers spell it), and what marks a rationale that merely repeats the hint. The
hint's name and version are part of every hinted request and so of its cache key.
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

KEYS = ("name", "version", "instruction", "hint", "echo_phrases", "echo_min_words")


@dataclass(frozen=True)
class HintPrompt:
    """How the gold label is put into a teacher prompt, and how an echo of it is recognised.

    Attributes:
        name, version: Which hint prompt (in every hinted request and record).
        instruction: Added after the task's own instruction.
        hint: Put into the question before its answer line, over ``label``.
        echo_phrases: Phrases that show a rationale refers to the hint instead of reasoning.
        echo_min_words: A rationale with fewer words than this, the label's aside, repeats it.
    """

    name: str
    version: int
    instruction: str
    hint: str
    echo_phrases: tuple[str, ...]
    echo_min_words: int

    @property
    def tag(self) -> str:
        """What marks a hinted request (its cache key) and record: ``rationalize-v1``."""
        return f"{self.name}-v{self.version}"

    def question(self, question: str, label: str) -> str:
        """A rendered question with the hint before its last line (the line the teacher's
        answer follows, such as ``A:``), or after it when it is one line."""
        hint = self.hint.format(label=label)
        head, newline, last = question.rpartition("\n")
        return f"{head}\n{hint}\n{last}" if newline else f"{question} {hint}"

    def with_instruction(self, instruction: str) -> str:
        return f"{instruction.strip()} {self.instruction}".strip()

    def echoes(self, rationale: str | None, label: str) -> bool:
        """Whether a hinted rationale merely repeats the label: it refers to the hint, or has
        fewer than ``echo_min_words`` words once the label's words are taken out."""
        text = (rationale or "").lower()
        if any(phrase.lower() in text for phrase in self.echo_phrases):
            return True
        label_words = set(re.findall(r"\w+", label.lower()))
        words = [word for word in re.findall(r"\w+", text) if word not in label_words]
        return len(words) < self.echo_min_words

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version}


def _hint(data: Any, where: str) -> HintPrompt:
    if not isinstance(data, dict) or set(KEYS) - set(data):
        raise DataError(f"{where}: a hint prompt needs the keys {list(KEYS)}")
    if "{label}" not in data["hint"]:
        raise DataError(f"{where}: the hint must contain {{label}}")
    return HintPrompt(
        name=str(data["name"]),
        version=int(data["version"]),
        instruction=str(data["instruction"]),
        hint=str(data["hint"]),
        echo_phrases=tuple(str(phrase) for phrase in data["echo_phrases"]),
        echo_min_words=int(data["echo_min_words"]),
    )


def builtin_hint() -> HintPrompt:
    """The rationalization prompt shipped with stepdistill."""
    resource = resources.files("stepdistill.prompts").joinpath("hints", "rationalize.json")
    return _hint(json.loads(resource.read_text(encoding="utf-8")), "hints/rationalize.json")


def load_hint(path: str | Path | None) -> HintPrompt:
    """A hint prompt file (JSON with the keys of ``KEYS``), or the built-in one for None."""
    if path is None:
        return builtin_hint()
    return _hint(read_json(Path(path), "hint prompt file"), str(path))
