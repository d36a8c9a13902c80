"""How each task is put to a teacher LLM: question and answer layout, label wording, stops.

A style's answer layout must agree with its task's ``AnswerPattern``, so that the one parser
reads the teacher's completions (a test checks this for every built-in task).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from stepdistill.registry import Registry
from stepdistill.tasks.base import Task


def _plain(label: str, fields: Mapping[str, Any]) -> str:
    return label


def _lettered_choice(label: str, fields: Mapping[str, Any]) -> str:
    """CommonsenseQA answers are written "(b) refrigerator", as in the paper's prompts."""
    choices = list(fields.get("choices") or [])
    if label in choices:
        return f"({'abcdefghij'[choices.index(label)]}) {label}"
    return label


@dataclass(frozen=True)
class PromptStyle:
    """The layout of one few-shot exemplar and of the question put to the teacher.

    Attributes:
        question_template: ``str.format`` template over ``input`` and the example's raw fields.
        answer_template: The answer after the question, over ``rationale`` and ``label``.
        answer_lead: The words that introduce the label; zero-shot CoT asks for the answer
            by appending them to the teacher's reasoning.
        stop: Stop sequences: where a further exemplar would start.
        instruction: Optional text put before everything else (the system message in chat).
        verbalize: Spells a label as the answer shows it (``(b) refrigerator`` for CQA).
    """

    question_template: str = "Q: {input}\nA:"
    answer_template: str = " {rationale} So the answer is {label}."
    answer_lead: str = "So the answer is"
    stop: tuple[str, ...] = ("\n\nQ:", "\nQ:")
    instruction: str = ""
    verbalize: Callable[[str, Mapping[str, Any]], str] = field(default=_plain)

    def question(self, fields: Mapping[str, Any]) -> str:
        return self.question_template.format_map(dict(fields))

    def answer(self, rationale: str, label: str, fields: Mapping[str, Any]) -> str:
        return self.answer_template.format(rationale=rationale, label=self.verbalize(label, fields))


_NLI_INSTRUCTION = (
    "Decide whether the hypothesis follows from the premise (entailment), contradicts it "
    "(contradiction), or neither (neutral). Explain your reasoning briefly, then answer."
)
_NLI_STOP = ("\n\nPremise:", "\nPremise:")

STYLES: Registry[PromptStyle] = Registry("prompt style")
DEFAULT_STYLE = PromptStyle()
STYLES.register("default", DEFAULT_STYLE)
STYLES.register(
    "cqa",
    PromptStyle(
        instruction="Answer the multiple-choice question. Explain your reasoning briefly, then "
        "give the letter and the text of the answer.",
        verbalize=_lettered_choice,
    ),
)
STYLES.register(
    "svamp",
    PromptStyle(
        answer_template=" {rationale} The answer is {label}.",
        answer_lead="The answer is",
        instruction="Solve the math word problem. Explain your reasoning briefly, then give the "
        "answer as an arithmetic expression in parentheses.",
    ),
)
STYLES.register(
    "esnli",
    PromptStyle(
        question_template="Premise: {premise}\nHypothesis: {hypothesis}\nReasoning:",
        answer_template=" {rationale}\nAnswer: {label}",
        answer_lead="Answer:",
        stop=_NLI_STOP,
        instruction=_NLI_INSTRUCTION,
    ),
)
STYLES.register(
    "anli1",
    PromptStyle(
        question_template="Premise: {premise}\nHypothesis: {hypothesis}\nA:",
        stop=_NLI_STOP,
        instruction=_NLI_INSTRUCTION,
    ),
)


def derived_style(task: Task) -> PromptStyle:
    """The default ``Q: ... A: ... So the answer is ...`` layout, with an instruction that asks
    for the answer in the form the task's label kind reads (and the task's own instruction)."""
    answer_format = task.label_kind.answer_format()
    answer = f"Explain your reasoning briefly, then give the answer as {answer_format}."
    instruction = f"{task.instruction.strip()} {answer}" if task.instruction.strip() else answer
    return replace(DEFAULT_STYLE, instruction=instruction)


def style_for(task: Task | str) -> PromptStyle:
    """The style written for a task (the paper's), or one derived from it (task files).

    A name looks up its registered style, or gives the default layout.
    """
    if isinstance(task, str):
        return STYLES.get(task) if task in STYLES else DEFAULT_STYLE
    return STYLES.get(task.style) if task.style else derived_style(task)
