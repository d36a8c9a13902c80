"""The e-SNLI (or ANLI R1) validation file of the paper data as a user's own data: its rows as
they are (premise, hypothesis, label 0/1/2), plus the PaLM-540B rationale and label of each row
as two more columns, written as JSON lines into runs/esnli-user/ (runs/anli1-user/; never into
the repository).

    python benchmarks/esnli_user_task/make_data.py [--data-dir ../shared/data/paper]
    python benchmarks/esnli_user_task/make_data.py --task anli1
    stepdistill run benchmarks/esnli_user_task/pipeline.yaml
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from stepdistill.data.io import read_jsonl
from stepdistill.data.paper import load_paper_task

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data" / "paper")
    parser.add_argument("--task", choices=("esnli", "anli1"), default="esnli")
    parser.add_argument("--output", type=Path, help="default: runs/TASK-user")
    args = parser.parse_args()
    task, output = args.task, args.output or ROOT / "runs" / f"{args.task}-user"
    rows = read_jsonl(args.data_dir / task / f"{task}_valid.json")
    examples = load_paper_task(task, args.data_dir)["valid"]  # rows joined with PaLM's output
    output.mkdir(parents=True, exist_ok=True)
    path = output / f"{task}_valid_palm.jsonl"
    with open(path, "w", encoding="utf-8") as handle:
        for row, example in zip(rows, examples, strict=True):
            record = example.teacher
            palm = {
                "palm_rationale": record.rationale if record.parse_ok else None,
                "palm_label": record.teacher_label,
            }
            handle.write(json.dumps({**row, **palm}, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} rows to {path}")


if __name__ == "__main__":
    main()
