"""The paper's four benchmark tasks, formatted as the reference implementation formats them."""

from __future__ import annotations

from stepdistill.tasks.base import AnswerPattern, PaperLayout, Task
from stepdistill.tasks.labels import AnswerText, ClosedSet, Equation

NLI_LABELS = ("entailment", "neutral", "contradiction")

CQA = Task(
    name="cqa",
    description="CommonsenseQA (via CoS-E v1.11): 5-way multiple choice, label = answer text",
    input_template=(
        "{question}\nAnswer Choices:\n(a) {choices[0]}\n(b) {choices[1]}\n(c) {choices[2]}"
        "\n(d) {choices[3]}\n(e) {choices[4]}"
    ),
    label_field="answer",
    label_kind=AnswerText(),
    metric_name="exact_match",
    # "So the answer is (d) math problem." -> "math problem"
    answer_pattern=AnswerPattern(
        answer_marker=r"So the answer is",
        label_regex=r"\(.\)(?P<label>.*?)(?:\(.\)|$)",
        stop_markers=("Q:",),
    ),
    id_field="id",
    style="cqa",
    paper=PaperLayout(folder="cqa", cot_batch_size=1000),
)

SVAMP = Task(
    name="svamp",
    description="SVAMP math word problems, label = arithmetic expression, scored by its value",
    input_template="{input}",
    label_field="label",
    label_kind=Equation(),
    metric_name="equation",
    # "The answer is (84 / 2)." -> "(84 / 2)"
    answer_pattern=AnswerPattern(
        answer_marker=r"The answer is",
        label_regex=r"\(.*\)",
        stop_markers=("Q:",),
    ),
    style="svamp",
    paper=PaperLayout(folder="svamp", cot_batch_size=500),
)

ESNLI = Task(
    name="esnli",
    description="e-SNLI natural language inference: entailment / neutral / contradiction",
    input_template="{premise}{sep}{hypothesis}",
    label_field="label",
    label_kind=ClosedSet(NLI_LABELS),
    metric_name="exact_match",
    # "...\nAnswer: neutral" -> "neutral"
    answer_pattern=AnswerPattern(answer_marker=r"Answer:", stop_markers=("Premise",)),
    label_names=NLI_LABELS,
    style="esnli",
    paper=PaperLayout(folder="esnli", cot_batch_size=5500),
)

ANLI1 = Task(
    name="anli1",
    description="Adversarial NLI round 1: entailment / neutral / contradiction",
    input_template="{premise}{sep}{hypothesis}",
    label_field="label",
    label_kind=ClosedSet(NLI_LABELS),
    metric_name="exact_match",
    # "... So the answer is contradiction." -> "contradiction"
    answer_pattern=AnswerPattern(answer_marker=r"So the answer is", stop_markers=("Premise:",)),
    label_names=NLI_LABELS,
    id_field="uid",
    style="anli1",
    paper=PaperLayout(folder="anli1", cot_batch_size=5000),
)

PAPER_TASKS = (CQA, SVAMP, ESNLI, ANLI1)
