"""The e-SNLI validation file of the paper data as a user's own data: its rows as they are
(premise, hypothesis, label 0/1/2), plus the PaLM-540B rationale and label of each row as two
more columns, written as JSON lines into runs/esnli-user/ (never into the repository).

    python benchmarks/esnli_user_task/make_data.py [--data-dir ../shared/data/paper]
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
    parser.add_argument("--output", type=Path, default=ROOT / "runs" / "esnli-user")
    args = parser.parse_args()
    rows = read_jsonl(args.data_dir / "esnli" / "esnli_valid.json")
    examples = load_paper_task("esnli", args.data_dir)["valid"]  # rows joined with PaLM's output
    args.output.mkdir(parents=True, exist_ok=True)
    path = args.output / "esnli_valid_palm.jsonl"
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
