"""Rendering prompts as one text (completions endpoints) or as chat messages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from stepdistill.prompts.exemplars import Exemplar
from stepdistill.prompts.styles import PromptStyle
from stepdistill.schema import Example, Messages

ZERO_SHOT_TRIGGER = " Let's think step by step."


def example_fields(example: Example) -> dict[str, Any]:
    return {**example.meta, "input": example.input}


def few_shot_text(style: PromptStyle, exemplars: Sequence[Exemplar], example: Example) -> str:
    """Instruction, worked exemplars, then the question, ending where the teacher continues."""
    parts = [style.instruction] if style.instruction else []
    for shot in exemplars:
        parts.append(
            style.question(shot.fields) + style.answer(shot.rationale, shot.label, shot.fields)
        )
    parts.append(style.question(example_fields(example)))
    return "\n\n".join(parts)


def few_shot_messages(
    style: PromptStyle, exemplars: Sequence[Exemplar], example: Example
) -> Messages:
    """The same prompt as chat turns: each exemplar a user question and an assistant answer."""
    messages: Messages = (
        [{"role": "system", "content": style.instruction}] if style.instruction else []
    )
    for shot in exemplars:
        messages.append({"role": "user", "content": style.question(shot.fields)})
        messages.append(
            {
                "role": "assistant",
                "content": style.answer(shot.rationale, shot.label, shot.fields).strip(),
            }
        )
    messages.append({"role": "user", "content": style.question(example_fields(example))})
    return messages


def zero_shot_text(style: PromptStyle, example: Example) -> str:
    """Zero-shot chain of thought, stage one: the question and "Let's think step by step."."""
    parts = [style.instruction] if style.instruction else []
    parts.append(style.question(example_fields(example)) + ZERO_SHOT_TRIGGER)
    return "\n\n".join(parts)


def zero_shot_messages(style: PromptStyle, example: Example) -> Messages:
    messages: Messages = (
        [{"role": "system", "content": style.instruction}] if style.instruction else []
    )
    messages.append(
        {"role": "user", "content": style.question(example_fields(example)) + ZERO_SHOT_TRIGGER}
    )
    return messages


def answer_stage_text(stage_one_prompt: str, reasoning: str, style: PromptStyle) -> str:
    """Zero-shot stage two: the reasoning so far, then the answer lead for the label."""
    return f"{stage_one_prompt} {reasoning.strip()} {style.answer_lead}"


def answer_stage_messages(stage_one: Messages, reasoning: str, style: PromptStyle) -> Messages:
    return [
        *stage_one,
        {"role": "assistant", "content": reasoning.strip()},
        {"role": "user", "content": f"So what is the answer? Reply as: {style.answer_lead} ..."},
    ]
