"""Class balance, the majority baseline and the confusion matrix of a closed label set."""

from __future__ import annotations

from stepdistill.evaluation.classes import (
    OTHER,
    confusion,
    coverage_warnings,
    label_counts,
    majority,
    one_class_share,
)

NLI = ["entailment", "neutral", "contradiction"]


def test_majority_is_the_most_frequent_gold_label_and_its_share():
    assert majority(["a", "b", "a", "a"]) == ("a", 0.75)


def test_confusion_counts_gold_against_predicted_and_other():
    gold = ["entailment", "neutral", "neutral", "contradiction"]
    predicted = ["entailment", "entailment", "maybe", None]
    matrix = confusion(gold, predicted, NLI)
    assert matrix["entailment"] == {"entailment": 1, "neutral": 0, "contradiction": 0, OTHER: 0}
    assert matrix["neutral"] == {"entailment": 1, "neutral": 0, "contradiction": 0, OTHER: 1}
    assert matrix["contradiction"][OTHER] == 1


def test_labels_of_one_class_warn_twice_and_balanced_labels_not_at_all():
    one = coverage_warnings("the kept teacher labels", {"contradiction": 47}, NLI)
    assert len(one) == 2
    assert "cover 1 of 3 classes (none is 'entailment', 'neutral')" in one[0]
    assert "47 of 47 (100%) are 'contradiction'" in one[1]
    dominated = coverage_warnings("x", {"neutral": 17, "entailment": 2, "contradiction": 1}, NLI)
    assert dominated == [
        "x: 17 of 20 (85%) are 'neutral'; a student trained on them learns to answer that class"
    ]
    assert coverage_warnings("x", {"neutral": 5, "entailment": 4, "contradiction": 6}, NLI) == []
    assert coverage_warnings("x", {}, NLI) == []


def test_counts_and_shares():
    assert label_counts(["b", None, "a", "b"]) == {"b": 2, "a": 1}
    assert one_class_share(["x", "x", "y", "x"]) == ("x", 0.75)
