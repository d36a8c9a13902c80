"""Training memory each preset recipe needs, estimated (no GPU here to measure it).

    .venv/bin/python benchmarks/memory_estimate.py

How: parameters are counted from each student's config (T5 v1.1 base and large built from
their published shapes, random weights; smollm2-135m from the offline preset). Full
fine-tuning with AdamW keeps, per parameter, fp32 weights (4 bytes), gradients (4) and two
moment estimates (8): 16 bytes, in bf16 autocast as in fp32 (the weights stay fp32). With LoRA
only the adapters carry gradients and moments. Activations: per layer and per token
``34 h + 5 a s`` bytes in 16-bit (Korthikanti et al., 2022, "Reducing activation recomputation")
for the sequences one step holds: the recipe's batch x the 95th-percentile input and target
token counts of the task's training data (paper data, smollm2's tokenizer as a stand-in for
T5's), doubled in fp32; step-by-step trains two targets per example (paper way: two full
sequences). Gradient checkpointing keeps about one layer's activations instead of all.
Writes benchmarks/results/memory_estimate.json.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from transformers import T5Config, T5ForConditionalGeneration

from stepdistill.data.paper import load_paper_task
from stepdistill.experiments import load_recipe
from stepdistill.models import load_student
from stepdistill.provenance import provenance

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "paper"
T5_V1_1 = {
    "google/t5-v1_1-base": {"d_model": 768, "d_ff": 2048, "num_layers": 12, "num_heads": 12},
    "google/t5-v1_1-large": {"d_model": 1024, "d_ff": 2816, "num_layers": 24, "num_heads": 16},
}
GIB = 1024**3


def shape(student: str) -> dict:
    """Parameters, hidden size, heads and layers (both stacks for seq2seq) of a student."""
    if student in T5_V1_1:
        dims = T5_V1_1[student]
        config = T5Config(
            vocab_size=32128,
            d_kv=64,
            feed_forward_proj="gated-gelu",
            tie_word_embeddings=False,
            **dims,
        )
        with torch.device("meta"):
            model = T5ForConditionalGeneration(config)
        layers = 2 * dims["num_layers"]
        return {
            "parameters": sum(p.numel() for p in model.parameters()),
            "hidden": dims["d_model"],
            "heads": dims["num_heads"],
            "layers": layers,
        }
    model = load_student(student).model
    config = model.config
    return {
        "parameters": sum(p.numel() for p in model.parameters()),
        "hidden": config.hidden_size,
        "heads": config.num_attention_heads,
        "layers": config.num_hidden_layers,
    }


def p95_lengths(task: str, tokenizer) -> tuple[int, int]:
    """95th-percentile input and target (label + rationale) tokens of a task's training data."""
    data = load_paper_task(task, DATA)
    examples = data["train"] if "train" in data else data["valid"]
    sample = examples[:: max(1, len(examples) // 400)]
    inputs = sorted(len(tokenizer(e.input)["input_ids"]) for e in sample)
    targets = sorted(
        len(tokenizer(f"{e.label} {e.teacher.rationale or ''}")["input_ids"]) for e in sample
    )
    at = int(0.95 * (len(sample) - 1))
    return inputs[at], targets[at]


def main() -> None:
    tokenizer = load_student("smollm2-135m").tokenizer
    rows = []
    for recipe_path in sorted((ROOT / "recipes").glob("*/*.yaml")):
        if recipe_path.parent.name == "accelerate":
            continue
        recipe = load_recipe(recipe_path, overrides={"data_dir": str(DATA)})
        settings = recipe.settings
        batch = settings.get("per_device_batch_size", 64)
        inputs, targets = p95_lengths(recipe.source().task.name, tokenizer)
        inputs = min(inputs, settings.get("max_input_length", 1024))
        targets = min(targets, settings.get("max_target_length", 256))
        for student in recipe.students:
            dims = shape(student)
            states = 16 * dims["parameters"]
            tokens = 2 * batch * (inputs + targets)  # step-by-step, paper way: two sequences
            per_layer = tokens * (34 * dims["hidden"]) + 5 * dims["heads"] * batch * 2 * (
                (inputs + targets) ** 2
            )
            activations = dims["layers"] * per_layer
            rows.append(
                {
                    "recipe": str(recipe_path.relative_to(ROOT)),
                    "student": student,
                    "parameters": dims["parameters"],
                    "batch": batch,
                    "p95_input_tokens": inputs,
                    "p95_target_tokens": targets,
                    "weights_gradients_adam_gib": round(states / GIB, 2),
                    "activations_bf16_gib": round(activations / GIB, 2),
                    "total_bf16_gib": round((states + activations) / GIB, 1),
                    "total_fp32_gib": round((states + 2 * activations) / GIB, 1),
                    "total_bf16_gradient_checkpointing_gib": round(
                        (states + activations / dims["layers"]) / GIB, 1
                    ),
                }
            )
            print(rows[-1])
    out = ROOT / "benchmarks" / "results" / "memory_estimate.json"
    out.write_text(json.dumps({"rows": rows, **provenance()}, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
