"""Label-only inference speed and accuracy, side by side in one run.

    .venv/bin/python benchmarks/inference.py --model runs/svamp-smollm2-standard
        [--data-dir ../shared/data/paper] [--split test] [--batch-size 32]

Three ways over the same inputs of a trained folder:
- reference: plain ``model.generate(max_new_tokens=64)`` in data order, as the paper's code
  evaluates (Seq2SeqTrainer's generation with a 64-token limit);
- ours: ``LabelPredictor`` (batches sorted by length, new tokens capped from the label space);
- exported: the same predictor on a CTranslate2 int8 export of the folder.
Writes benchmarks/results/inference.json: seconds, examples/s, accuracy, and ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import torch

from stepdistill.data.paper import load_paper_task
from stepdistill.models.encoding import attention_mask, pad
from stepdistill.models.folder import read_info
from stepdistill.provenance import provenance
from stepdistill.serving import load_label_predictor
from stepdistill.serving.export import export_ctranslate2
from stepdistill.training.label_predictor import LabelPredictor

ROOT = Path(__file__).resolve().parent.parent


@torch.inference_mode()
def reference_generate(predictor: LabelPredictor, inputs: list[str], batch_size: int) -> list:
    """The reference's evaluation: data order, padded batches, up to 64 new tokens."""
    model, encoder = predictor.model, predictor.encoder
    model.eval()
    seq2seq = encoder.is_seq2seq
    pad_id = encoder.tokenizer.pad_token_id
    labels = []
    for start in range(0, len(inputs), batch_size):
        sources = [
            encoder.source_ids(predictor.method.label_source_text(text, predictor.config))
            for text in inputs[start : start + batch_size]
        ]
        ids = pad(sources, pad_id, left=not seq2seq)
        output = model.generate(
            input_ids=ids,
            attention_mask=attention_mask(sources, left=not seq2seq),
            max_new_tokens=64,
            do_sample=False,
            pad_token_id=pad_id,
        )
        if not seq2seq:
            output = output[:, ids.shape[1] :]
        for text in encoder.tokenizer.batch_decode(output, skip_special_tokens=True):
            labels.append(predictor.method.read_label(text, predictor.task, predictor.config))
    return labels


def timed(run):
    start = time.perf_counter()
    result = run()
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(
            os.environ.get("STEPDISTILL_DATA_DIR", ROOT.parent / "shared" / "data" / "paper")
        ),
    )
    parser.add_argument("--split", default="test")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument(
        "--output", type=Path, default=ROOT / "benchmarks" / "results" / "inference.json"
    )
    args = parser.parse_args()

    separator = read_info(args.model).input_separator
    predictor = load_label_predictor(args.model)
    examples = load_paper_task(predictor.task, args.data_dir, sep=separator, teacher=False)[
        args.split
    ]
    inputs, gold = [e.input for e in examples], [e.label for e in examples]
    metric = predictor.task.metric
    rows = {}
    labels, seconds = timed(lambda: reference_generate(predictor, inputs, args.batch_size))
    rows["reference_generate_64"] = (labels, seconds)
    labels, seconds = timed(lambda: predictor.predict(inputs, batch_size=args.batch_size))
    rows["ours_pytorch"] = (labels, seconds)
    with tempfile.TemporaryDirectory() as folder:
        export_ctranslate2(args.model, Path(folder) / "int8", quantization="int8")
        exported = load_label_predictor(Path(folder) / "int8")
        labels, seconds = timed(lambda: exported.predict(inputs, batch_size=args.batch_size))
        rows["ours_ctranslate2_int8"] = (labels, seconds)
    result = {
        "model": str(args.model),
        "task": predictor.task.name,
        "split": args.split,
        "examples": len(inputs),
        "batch_size": args.batch_size,
        "max_new_tokens_ours": predictor.max_new_tokens,
        "runs": {
            name: {
                "seconds": round(seconds, 3),
                "examples_per_second": round(len(inputs) / seconds, 3),
                "accuracy": metric.accuracy(labels, gold),
            }
            for name, (labels, seconds) in rows.items()
        },
    }
    runs = result["runs"]
    result["speedup_ours_over_reference"] = round(
        runs["ours_pytorch"]["examples_per_second"]
        / runs["reference_generate_64"]["examples_per_second"],
        3,
    )
    result["speedup_int8_over_pytorch"] = round(
        runs["ours_ctranslate2_int8"]["examples_per_second"]
        / runs["ours_pytorch"]["examples_per_second"],
        3,
    )
    result["accuracy_change_int8"] = (
        runs["ours_ctranslate2_int8"]["accuracy"] - runs["ours_pytorch"]["accuracy"]
    )
    result.update(provenance())
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    for name, row in runs.items():
        print(f"{name:<24} {row['examples_per_second']:>8.2f} ex/s  accuracy {row['accuracy']:.4f}")
    print(
        f"ours / reference {result['speedup_ours_over_reference']:.2f}x, "
        f"int8 / pytorch {result['speedup_int8_over_pytorch']:.2f}x; wrote {args.output}"
    )


if __name__ == "__main__":
    main()
