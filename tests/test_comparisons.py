"""Verdicts with intervals: the paired statistics on answers known in advance, and
`stepdistill compare` on trained folders' prediction files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from stepdistill.cli.main import main
from stepdistill.data.io import write_json
from stepdistill.evaluation.paired import (
    HELPED,
    HURT,
    INSIDE_NOISE,
    compare_correctness,
    mcnemar_exact,
)
from stepdistill.models.folder import INFO_FILE, build_info, write_test_predictions
from stepdistill.tasks import get_task


def baseline_seeds(seeds: int = 3, n: int = 1000, accuracy: float = 0.6) -> np.ndarray:
    rng = np.random.default_rng(7)
    return rng.random((seeds, n)) < accuracy


def right_on_more(baseline: np.ndarray, extra: list[int]) -> np.ndarray:
    """The baseline's answers, and right on ``extra[i]`` more examples in seed ``i``."""
    better = baseline.copy()
    for seed, count in enumerate(extra):
        wrong = np.flatnonzero(~better[seed])[:count]
        better[seed, wrong] = True
    return better


def test_identical_predictions_are_inside_the_noise():
    baseline = baseline_seeds()
    result = compare_correctness(baseline, baseline)
    low, high = result.interval
    assert low <= 0 <= high and result.mean_difference == 0
    assert result.verdict == INSIDE_NOISE and result.mcnemar_p == [1.0, 1.0, 1.0]


def test_thirty_more_right_of_a_thousand_in_every_seed_helped_and_the_reverse_hurt():
    baseline = baseline_seeds()
    better = right_on_more(baseline, [30, 30, 30])
    helped = compare_correctness(better, baseline, names=("step-by-step", "standard"))
    assert helped.verdict == HELPED and helped.interval[0] > 0
    assert helped.mean_difference == pytest.approx(0.03)
    assert helped.discordant == [(30, 0)] * 3
    assert "step-by-step vs standard: +3.0 points" in helped.line()
    assert helped.line().endswith(": helped")
    assert compare_correctness(baseline, better).verdict == HURT


def test_a_wide_seed_spread_widens_the_interval():
    baseline = baseline_seeds()
    steady = compare_correctness(right_on_more(baseline, [30, 30, 30]), baseline)
    spread = right_on_more(baseline, [90, 0, 0])  # the same mean gain, from one seed only
    unsteady = compare_correctness(spread, baseline)
    assert unsteady.mean_difference == pytest.approx(steady.mean_difference)
    width = lambda c: c.interval[1] - c.interval[0]  # noqa: E731
    assert width(unsteady) > 2 * width(steady)
    assert unsteady.detectable > steady.detectable


def test_fewer_test_examples_widen_the_interval_and_one_seed_says_what_it_covers():
    baseline = baseline_seeds(seeds=1, n=4000)
    better = right_on_more(baseline, [120])
    large = compare_correctness(better, baseline)
    small = compare_correctness(better[:, :250], baseline[:, :250])
    assert small.interval[1] - small.interval[0] > large.interval[1] - large.interval[0]
    assert "test examples only (1 seed)" in large.line()


def test_mcnemar_matches_the_hand_computed_binomial_tail():
    # 10 discordant one way, 2 the other: 2 * P(X <= 2), X ~ Binomial(12, 1/2)
    assert mcnemar_exact(10, 2) == pytest.approx(2 * (1 + 12 + 66) / 2**12)
    assert mcnemar_exact(2, 10) == mcnemar_exact(10, 2)
    assert mcnemar_exact(0, 0) == 1.0 and mcnemar_exact(5, 5) == 1.0
    assert mcnemar_exact(30, 0) == pytest.approx(2 / 2**30)


def test_the_interval_is_the_same_every_time():
    baseline = baseline_seeds()
    better = right_on_more(baseline, [12, 25, 3])
    assert compare_correctness(better, baseline) == compare_correctness(better, baseline)


def test_sides_must_have_the_same_seeds_and_examples():
    baseline = baseline_seeds()
    with pytest.raises(ValueError, match="same number of seeds"):
        compare_correctness(baseline[:2], baseline)
    with pytest.raises(ValueError, match="same, non-empty test examples"):
        compare_correctness(baseline[:, :10], baseline)


def write_folder(folder: Path, task: str, method: str, rows: list[dict]) -> Path:
    """A trained folder's stepdistill.json and test predictions (no weights: compare reads
    only these)."""
    folder.mkdir(parents=True)
    info = build_info(
        task=get_task(task),
        method=method,
        config={},
        prompts={},
        student={"name": "tiny", "kind": "seq2seq", "adapter": False},
        max_new_tokens=8,
        data_info=None,
    )
    write_json(folder / INFO_FILE, info)
    write_test_predictions(folder, rows)
    return folder


def prediction_rows(correct: np.ndarray, labels: list[str]) -> list[dict]:
    return [
        {"id": f"t{i}", "label": labels[i], "prediction": "x", "correct": bool(right)}
        for i, right in enumerate(correct)
    ]


def esnli_sides(
    tmp_path: Path, treated: np.ndarray, baseline: np.ndarray, labels: list[str]
) -> tuple[list[Path], list[Path]]:
    """e-SNLI folders of step-by-step (``treated``) and standard (``baseline``), one a seed."""

    def side(method: str, prefix: str, correct: np.ndarray) -> list[Path]:
        return [
            write_folder(tmp_path / f"{prefix}-{s}", "esnli", method, prediction_rows(row, labels))
            for s, row in enumerate(correct)
        ]

    return side("step-by-step", "sbs", treated), side("standard", "std", baseline)


def test_compare_command_prints_one_line_or_json_and_refuses_other_test_sets(tmp_path, capsys):
    baseline = baseline_seeds(n=400)
    better = right_on_more(baseline, [40, 35, 45])
    labels = ["entailment", "neutral", "contradiction"] * 134
    ours, theirs = esnli_sides(tmp_path, better, baseline, labels)
    assert main(["compare", *map(str, ours), "--baseline", *map(str, theirs)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("step-by-step vs standard: +10.0 points")
    assert out[0].endswith(": helped")
    assert main(["compare", *map(str, ours), "--baseline", *map(str, theirs), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["verdict"] == "helped" and result["seeds"] == 3 and result["test_size"] == 400

    shifted = [dict(row, label="neutral") for row in prediction_rows(baseline[0], labels)]
    relabelled = write_folder(tmp_path / "other-labels", "esnli", "standard", shifted)
    assert main(["compare", str(ours[0]), "--baseline", str(relabelled)]) == 2
    assert "different test sets" in capsys.readouterr().err
    other_task = write_folder(
        tmp_path / "anli", "anli1", "standard", prediction_rows(baseline[0], labels)
    )
    assert main(["compare", str(ours[0]), "--baseline", str(other_task)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "only folders of one task compare" in err[0]
    assert main(["compare", *map(str, ours), "--baseline", str(theirs[0])]) == 2
    assert "one baseline folder per folder" in capsys.readouterr().err


def test_a_student_that_predicts_one_class_is_named_and_does_not_beat_the_majority(tmp_path):
    from stepdistill.comparisons import class_report

    labels = ["entailment"] * 50 + ["neutral"] * 30 + ["contradiction"] * 20
    rows = [
        {"id": f"t{i}", "label": gold, "prediction": "entailment", "correct": gold == "entailment"}
        for i, gold in enumerate(labels)
    ]
    folders = [write_folder(tmp_path / f"s{seed}", "esnli", "standard", rows) for seed in (0, 1)]
    found = class_report(folders, "standard")
    assert found.majority_label == "entailment" and found.majority_accuracy == 0.5
    assert found.most_predicted == "entailment" and found.most_predicted_share == 1.0
    assert found.versus_majority.verdict == "inside the noise"
    assert found.confusion["neutral"] == {
        "entailment": 60,  # 30 a seed, two seeds
        "neutral": 0,
        "contradiction": 0,
        "(other)": 0,
    }
    assert any("gives one answer, 'entailment', for 100%" in w for w in found.warnings)
    assert any("does not beat always answering 'entailment'" in w for w in found.warnings)

    right = [dict(row, prediction=row["label"], correct=True) for row in rows]
    good = class_report([write_folder(tmp_path / "good", "esnli", "standard", right)], "good")
    assert good.warnings == [] and good.versus_majority.verdict == "helped"
    svamp = [{"id": "t0", "label": "( 1 + 2 )", "prediction": "3", "correct": True}]
    assert class_report([write_folder(tmp_path / "svamp", "svamp", "standard", svamp)], "x") is None


def test_by_class_compares_each_gold_class_on_its_own_examples(tmp_path, capsys):
    """Step-by-step right on every entailment example the baseline missed, wrong on 30 neutral
    ones it had right, the same on contradiction: per class, helped / hurt / inside the noise."""
    labels = ["entailment", "neutral", "contradiction"] * 200
    baseline = baseline_seeds(seeds=2, n=600)
    treated = baseline.copy()
    is_class = {name: np.array([gold == name for gold in labels]) for name in set(labels)}
    treated[:, is_class["entailment"]] = True
    for seed in range(2):
        neutral_right = np.flatnonzero(baseline[seed] & is_class["neutral"])[:30]
        treated[seed, neutral_right] = False
    ours, theirs = esnli_sides(tmp_path, treated, baseline, labels)
    from stepdistill.comparisons import read_paired

    by_class = read_paired(ours, theirs).by_class()
    assert list(by_class) == ["entailment", "neutral", "contradiction"]  # the task's order
    assert {label: c.verdict for label, c in by_class.items()} == {
        "entailment": HELPED,
        "neutral": HURT,
        "contradiction": INSIDE_NOISE,
    }
    assert all(c.test_size == 200 for c in by_class.values())
    missed = [int((~baseline[s] & is_class["entailment"]).sum()) for s in range(2)]
    assert [b for _, b in by_class["entailment"].discordant] == [0, 0]
    assert [a for a, _ in by_class["entailment"].discordant] == missed
    assert by_class["neutral"].discordant == [(0, 30), (0, 30)]
    assert by_class["contradiction"].mean_difference == 0.0

    args = ["compare", *map(str, ours), "--baseline", *map(str, theirs), "--by-class"]
    assert main(args) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 4 and out[0].startswith("step-by-step vs standard")
    assert out[2].startswith("  gold 'neutral': step-by-step vs standard: -15.0 points")
    assert out[2].endswith(": hurt")
    assert main([*args, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["by_class"]["entailment"]["verdict"] == HELPED
    assert result["by_class"]["neutral"]["test_size"] == 200
    svamp = [{"id": "t0", "label": "( 1 + 2 )", "prediction": "3", "correct": True}]
    one = write_folder(tmp_path / "svamp", "svamp", "standard", svamp)
    assert read_paired([one], [one]).by_class() == {}
    assert main(["compare", str(one), "--baseline", str(one), "--by-class"]) == 0
    printed = capsys.readouterr()
    assert len(printed.out.strip().splitlines()) == 1
    assert "no closed label set" in printed.err
