"""Rendering prompts as one text (completions endpoints) or as chat messages; with a hint
(rationalization) every question, the exemplars' too, shows its correct answer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from stepdistill.prompts.exemplars import Exemplar
from stepdistill.prompts.hint import HintPrompt
from stepdistill.prompts.styles import PromptStyle
from stepdistill.schema import Example, Messages

ZERO_SHOT_TRIGGER = " Let's think step by step."


def example_fields(example: Example) -> dict[str, Any]:
    return {**example.meta, "input": example.input}


def _question(
    style: PromptStyle, fields: dict[str, Any], label: str | None, hint: HintPrompt | None
) -> str:
    """The question, with its correct answer in view when hinted (and the label known)."""
    question = style.question(fields)
    if hint is None or label is None:
        return question
    return hint.question(question, style.verbalize(label, fields))


def _instruction(style: PromptStyle, hint: HintPrompt | None) -> str:
    return hint.with_instruction(style.instruction) if hint else style.instruction


def _system(style: PromptStyle, hint: HintPrompt | None) -> Messages:
    instruction = _instruction(style, hint)
    return [{"role": "system", "content": instruction}] if instruction else []


def few_shot_text(
    style: PromptStyle,
    exemplars: Sequence[Exemplar],
    example: Example,
    hint: HintPrompt | None = None,
) -> str:
    """Instruction, worked exemplars, then the question, ending where the teacher continues."""
    instruction = _instruction(style, hint)
    parts = [instruction] if instruction else []
    for shot in exemplars:
        question = _question(style, dict(shot.fields), shot.label, hint)
        parts.append(question + style.answer(shot.rationale, shot.label, shot.fields))
    parts.append(_question(style, example_fields(example), example.label, hint))
    return "\n\n".join(parts)


def few_shot_messages(
    style: PromptStyle,
    exemplars: Sequence[Exemplar],
    example: Example,
    hint: HintPrompt | None = None,
) -> Messages:
    """The same prompt as chat turns: each exemplar a user question and an assistant answer."""
    messages = _system(style, hint)
    for shot in exemplars:
        question = _question(style, dict(shot.fields), shot.label, hint)
        messages.append({"role": "user", "content": question})
        messages.append(
            {
                "role": "assistant",
                "content": style.answer(shot.rationale, shot.label, shot.fields).strip(),
            }
        )
    question = _question(style, example_fields(example), example.label, hint)
    messages.append({"role": "user", "content": question})
    return messages


def zero_shot_text(style: PromptStyle, example: Example, hint: HintPrompt | None = None) -> str:
    """Zero-shot chain of thought, stage one: the question and "Let's think step by step."."""
    instruction = _instruction(style, hint)
    parts = [instruction] if instruction else []
    question = _question(style, example_fields(example), example.label, hint)
    parts.append(question + ZERO_SHOT_TRIGGER)
    return "\n\n".join(parts)


def zero_shot_messages(
    style: PromptStyle, example: Example, hint: HintPrompt | None = None
) -> Messages:
    messages = _system(style, hint)
    question = _question(style, example_fields(example), example.label, hint)
    messages.append({"role": "user", "content": question + ZERO_SHOT_TRIGGER})
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
