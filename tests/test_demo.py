"""The demo's whole path with tiny models (the real one uses SmolLM2 and takes minutes)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from stepdistill.cli.main import main
from stepdistill.demo import generate_task
from stepdistill.evaluation import equations_equal


def test_generated_task_is_deterministic_and_labelled():
    first, again = generate_task(), generate_task()
    assert [e.input for e in first["train"]] == [e.input for e in again["train"]]
    assert {len(first[s]) for s in ("train", "valid", "test")} == {64, 16, 48}
    svamp = first.task
    assert all(svamp.label_kind.check(e.label).label for e in first["test"])
    inputs = [e.input for s in first.splits.values() for e in s]
    assert len(set(inputs)) == len(inputs)


def test_demo_end_to_end_with_tiny_models(tiny_t5_dir, tmp_path, capsys):
    # adds the first two numbers (wrong on two-step problems) unless shown the answer
    from fake_openai import FakeOpenAI, hinted_answer

    out = tmp_path / "demo"
    with FakeOpenAI(hinted_answer) as server:
        args = [
            "demo",
            "--output",
            str(out),
            "--teacher",
            "openai:fake",
            "--base-url",
            server.base_url,
        ]
        args += ["--student", str(tiny_t5_dir), "--train", "12", "--test", "6", "--steps", "2"]
        assert main(args) == 0
    report = json.loads((out / "report.json").read_text())
    extraction = report["extraction"]
    # the fake's first answer (the first two numbers added) is right on one-step sums only;
    # every other record was written with the gold answer in view
    problems = generate_task()["train"][:12]
    right = sum(
        equations_equal("({} + {})".format(*re.findall(r"\d+", p.input)[:2]), p.label)
        for p in problems
    )
    assert right < 6
    assert extraction["examples"] == 12 and extraction["ok"] == 12
    assert extraction["hinted"] == 12 - right
    assert set(report["students"]) == {"standard", "step-by-step"}
    both = report["students"]["step-by-step"]["train_examples"]
    assert both == {"used": 12, "rationale": 12}  # the same problems as standard's
    assert report["students"]["standard"]["train_examples"] == {"used": 12}
    markdown = (out / "report.md").read_text()
    hinted = f"{right} records from the first ask, {12 - right} written with the gold label in view"
    assert hinted in markdown
    assert (out / "report.png").read_bytes()[:4] == b"\x89PNG"
    assert "## Students" in (out / "report.md").read_text()
    assert (out / "standard" / "README.md").exists()
    assert main(args) == 2  # an existing output is never replaced without --overwrite
    assert "--overwrite" in capsys.readouterr().err


def test_demo_without_any_kept_rationale_still_trains_both(tiny_t5_dir, tiny_llama_dir, tmp_path):
    out = tmp_path / "demo"
    args = ["demo", "--output", str(out), "--teacher", f"local:{tiny_llama_dir}"]
    args += ["--student", str(tiny_t5_dir), "--train", "6", "--test", "4", "--steps", "1"]
    assert main(args) == 0  # a random teacher: nothing kept, step-by-step learns labels only
    report = json.loads((out / "report.json").read_text())
    assert set(report["students"]) == {"standard", "step-by-step"}
    assert report["students"]["step-by-step"]["train_examples"] == {"used": 6}
    assert report["extraction"]["ok"] == 0


def test_demo_on_a_task_file(tiny_llama_dir, tmp_path):
    """`demo --task FILE`: the worked example's support tickets instead of the arithmetic."""
    from fake_openai import FakeOpenAI

    task = Path(__file__).resolve().parent.parent / "examples" / "support-tickets" / "task.yaml"
    out = tmp_path / "demo"
    with FakeOpenAI(lambda body: "The money is missing. So the answer is refund.") as server:
        args = ["demo", "--task", str(task), "--output", str(out), "--teacher", "openai:fake"]
        args += ["--base-url", server.base_url, "--student", str(tiny_llama_dir)]
        assert main([*args, "--train", "16", "--test", "4", "--steps", "1"]) == 0
        prompts = [prompt for prompt, _ in server.log]
    report = json.loads((out / "report.json").read_text())
    assert report["task"] == "support-intent" and report["sizes"]["train"] == 16
    refunds = sum(e["gold"] == "refund" for e in report["examples"])
    assert report["extraction"]["ok"] >= refunds > 0  # the filter keeps the right ones only
    assert all(prompt.startswith("Q: ") for prompt in prompts)
    first = [prompt for prompt in prompts if "(The correct answer is" not in prompt]
    assert len(first) == 16 and 0 < len(prompts) - 16 < 16  # the wrong ones asked again
