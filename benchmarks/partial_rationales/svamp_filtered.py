"""Issue 22 on SVAMP: the PaLM rationales filtered by gold agreement, as a teacher file that
``benchmarks/partial_rationales/svamp-partial.yaml`` trains from.

    python benchmarks/partial_rationales/svamp_filtered.py ../shared/data/paper

Writes runs/partial_rationales/svamp_palm_agree_with_gold.jsonl (every training record; the
ones whose label the SVAMP metric scores wrong are marked ``filtered``) and prints the counts.
"""

import sys
from pathlib import Path

from stepdistill.data.io import write_jsonl
from stepdistill.data.task_source import task_source
from stepdistill.extraction import apply_filters

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "runs" / "partial_rationales" / "svamp_palm_agree_with_gold.jsonl"


def main(data_dir: Path) -> None:
    source = task_source("svamp", data_dir=data_dir)
    examples = source.load(sep="\n")["train"]
    records = [example.teacher for example in examples if example.teacher is not None]
    filtered = apply_filters(examples, records, ["agree-with-gold"], source.task)
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    write_jsonl(OUTPUT, (record.to_dict() for record in filtered))
    kept = sum(record.usable for record in filtered)
    print(f"{len(examples)} training problems, {len(filtered)} PaLM records, {kept} kept")
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]).resolve())
