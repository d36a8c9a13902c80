"""Teacher prompts: per-task styles, few-shot exemplars, zero-shot chain of thought."""

from stepdistill.prompts.exemplars import Exemplar, builtin_exemplars, load_exemplars
from stepdistill.prompts.hint import HintPrompt, builtin_hint, load_hint
from stepdistill.prompts.judge import JudgePrompt, builtin_judge, load_judge
from stepdistill.prompts.render import (
    answer_stage_messages,
    answer_stage_text,
    example_fields,
    few_shot_messages,
    few_shot_text,
    zero_shot_messages,
    zero_shot_text,
)
from stepdistill.prompts.styles import STYLES, PromptStyle, style_for

__all__ = [
    "STYLES",
    "Exemplar",
    "HintPrompt",
    "JudgePrompt",
    "PromptStyle",
    "answer_stage_messages",
    "answer_stage_text",
    "builtin_exemplars",
    "builtin_hint",
    "builtin_judge",
    "example_fields",
    "few_shot_messages",
    "few_shot_text",
    "load_exemplars",
    "load_hint",
    "load_judge",
    "style_for",
    "zero_shot_messages",
    "zero_shot_text",
]
