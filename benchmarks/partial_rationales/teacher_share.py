"""Issue 22: the local teacher's kept share with and without two-pass rationalization, on the
demo's task and on the first 64 SVAMP training problems (the demo's prompt: 3 exemplars, 64
tokens, the label-agreement filter).

    python benchmarks/partial_rationales/teacher_share.py ../shared/data/paper

The demo task's shares come from demo_arms.py's two teacher stages (their reports); SVAMP's
are extracted here (one cache: the two-pass run's first pass is the first run's, cached).
Writes benchmarks/results/partial_rationales/teacher_share.json.
"""

import dataclasses
import json
import sys
from pathlib import Path

from demo_arms import demo_config

from stepdistill.data.task_source import task_source
from stepdistill.extraction import run_extraction

ROOT = Path(__file__).resolve().parents[2]
RUNS = ROOT / "runs" / "partial_rationales"
RESULTS = ROOT / "benchmarks" / "results" / "partial_rationales"
KEPT = ("examples", "ok", "filtered", "unparsable", "failed", "hinted", "hint_echoes", "seconds")


def share(summary: dict) -> dict:
    return {key: summary[key] for key in KEPT} | {"kept_share": summary["ok"] / summary["examples"]}


def main(data_dir: Path) -> None:
    base = demo_config(RUNS, data_dir).teacher  # the demo's teacher settings, on SVAMP
    source = task_source("svamp", data_dir=data_dir)
    result = {"svamp (first 64 training problems)": {}, "demo task": {}}
    for mode in ("off", "two-pass"):
        settings = dataclasses.replace(base, rationalization=mode)
        run = run_extraction(
            source,
            settings,
            output=RUNS / f"svamp-teacher-{mode}.jsonl",
            cache=RUNS / "svamp-teacher.cache.sqlite",
        )
        result["svamp (first 64 training problems)"][mode] = share(run.summary())
        demo = json.loads((RUNS / mode / "report.json").read_text())["extract"]
        result["demo task"][mode] = share(demo)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "teacher_share.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]).resolve())
