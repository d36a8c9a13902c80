from __future__ import annotations

import dataclasses

import pytest

from stepdistill.errors import UnknownNameError
from stepdistill.schema import Example, TeacherRecord
from stepdistill.tasks import get_task
from stepdistill.training import METHODS, StepByStepConfig, get_method, make_config
from stepdistill.training.methods import training_label


def example(teacher_label="(1 + 2)", parse_ok=True, rationale="1 + 2 = 3.", gold="( 1.0 + 2.0 )"):
    record = TeacherRecord("e", rationale, teacher_label if parse_ok else None, parse_ok)
    return Example("e", "Ann has 1 and gets 2.", gold, {}, record)


def test_registry_and_paper_defaults():
    assert METHODS.names() == ["single-task", "standard", "step-by-step"]
    config = make_config("step-by-step")
    assert (config.alpha, config.learning_rate, config.label_prefix, config.rationale_prefix) == (
        0.5,
        5e-5,
        "predict: ",
        "explain: ",
    )
    assert (config.per_device_batch_size, config.max_steps, config.max_input_length) == (
        64,
        10_000,
        1024,
    )
    with pytest.raises(UnknownNameError, match="did you mean 'step-by-step'"):
        get_method("step_by_step")


@pytest.mark.parametrize(
    ("method", "overrides", "message"),
    [
        ("step-by-step", {"alpha": 1.5}, "alpha must be in"),
        ("step-by-step", {"label_prefix": "x", "rationale_prefix": "x"}, "must differ"),
        ("standard", {"label_source": "llm"}, "label_source must be one of"),
        ("standard", {"alpha": 0.3}, "standard has no setting alpha"),
        ("standard", {"learning_rate": 0}, "learning_rate must be positive"),
        ("standard", {"max_steps": 0, "num_epochs": 0}, "give max_steps > 0 or num_epochs > 0"),
        ("single-task", {"answer_marker": " "}, "answer_marker must not be empty"),
    ],
)
def test_bad_settings_are_rejected_with_the_value(method, overrides, message):
    with pytest.raises(ValueError, match=message):
        make_config(method, **overrides)


def test_step_by_step_pairs_use_the_input_prefixes():
    config = make_config("step-by-step")
    pairs = get_method("step-by-step").pairs(example(), config)
    assert pairs == {
        "label": ("predict: Ann has 1 and gets 2.", "( 1.0 + 2.0 )"),
        "rationale": ("explain: Ann has 1 and gets 2.", "1 + 2 = 3."),
    }
    assert get_method("step-by-step").loss_weights(dataclasses.replace(config, alpha=0.2)) == {
        "label": 0.2,
        "rationale": 0.8,
    }


def test_label_source_and_unparsable_teacher_outputs():
    good, bad, no_gold = example(), example(parse_ok=False), example(gold=None)
    assert training_label(good, "teacher") == "(1 + 2)"
    assert training_label(bad, "teacher") is None
    assert training_label(bad, "gold") == "( 1.0 + 2.0 )"
    standard_teacher = make_config("standard", label_source="teacher")
    _, counts = get_method("standard").build([good, bad, no_gold], standard_teacher)
    assert counts == {"used": 2, "skipped_no_label": 1}
    _, counts = get_method("standard").build([good, bad, no_gold], make_config("standard"))
    assert counts == {"used": 2, "skipped_no_label": 1}
    # step-by-step with gold labels: the rationale objective only where a rationale parsed
    _, counts = get_method("step-by-step").build([good, bad], make_config("step-by-step"))
    assert counts == {"used": 2, "rationale": 1}
    kept_only = make_config("step-by-step", rationale_required=True)
    _, counts = get_method("step-by-step").build([good, bad], kept_only)
    assert counts == {"used": 1, "rationale": 1, "skipped_no_rationale": 1}


def test_single_task_target_and_reading_the_label_back():
    method, config = get_method("single-task"), make_config("single-task")
    pairs = method.pairs(example(), config)
    assert pairs == {
        "label": ("Ann has 1 and gets 2.", "1 + 2 = 3. So the answer is ( 1.0 + 2.0 )")
    }
    svamp = get_task("svamp")
    assert (
        method.read_label("1 + 2 = 3. So the answer is ( 1.0 + 2.0 )", svamp, config)
        == "( 1.0 + 2.0 )"
    )
    assert method.read_label("1 + 2 = 3.", svamp, config) is None


def test_label_task_reads_closed_set_labels_canonically():
    method, config = get_method("standard"), make_config("standard")
    assert method.read_label(" Neutral ", get_task("esnli"), config) == "neutral"
    assert method.read_label("perhaps", get_task("esnli"), config) == "perhaps"
    assert method.read_label("( 1 + 2 )\nQ: more", get_task("svamp"), config) == "( 1 + 2 )"
    assert isinstance(make_config("step-by-step"), StepByStepConfig)


def test_shuffled_rationales_are_a_seeded_permutation_of_the_words():
    method = get_method("step-by-step")
    long = example(rationale="Ann has 1 apple. She gets 2 more. 1 + 2 = 3 apples in all.")
    real = method.pairs(long, make_config("step-by-step"))["rationale"][1]
    shuffle = lambda seed: method.pairs(  # noqa: E731
        long, make_config("step-by-step", rationale_shuffle_seed=seed)
    )["rationale"][1]
    assert shuffle(3) == shuffle(3) and shuffle(3) != shuffle(4)
    assert shuffle(3) != real and sorted(shuffle(3).split()) == sorted(real.split())
    assert (
        method.pairs(long, make_config("step-by-step", rationale_shuffle_seed=3))["label"]
        == method.pairs(long, make_config("step-by-step"))["label"]
    )  # the label is untouched
    assert "shuffled (seed 3)" in method.describe(
        make_config("step-by-step", rationale_shuffle_seed=3)
    )


def test_label_first_single_task_target_and_reading_it_back():
    method = get_method("single-task")
    config = make_config("single-task", label_first=True)
    _, target = method.pairs(example(), config)["label"]
    assert target == "( 1.0 + 2.0 )\n1 + 2 = 3."
    svamp = get_task("svamp")
    assert method.read_output("( 1.0 + 2.0 )\n1 + 2 = 3.", svamp, config) == (
        "( 1.0 + 2.0 )",
        "1 + 2 = 3.",
    )
    assert method.read_output("( 1.0 + 2.0 )", svamp, config) == ("( 1.0 + 2.0 )", None)
    assert "the label then the rationale" in method.describe(config)
