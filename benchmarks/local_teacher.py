"""The local teacher before and after batching, side by side on the same prompts: the demo's
(SmolLM2-135M-Instruct, three few-shot SVAMP exemplars, the 64 generated training problems,
greedy, 64 new tokens at most).

    .venv/bin/python benchmarks/local_teacher.py [--requests 64] [--batch-size 8]

"sequential" is one request at a time with no prefix cache (batch_size=1: the teacher as it
was); "batched" gathers requests into batches over the cached few-shot prefix. Writes
benchmarks/results/local_teacher.json: requests/s, completion tokens/s, the speedup, and whether
every greedy answer is identical.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

import torch

from stepdistill.demo import generate_task
from stepdistill.extraction import ExtractionConfig
from stepdistill.extraction.extract import reasoning_requests
from stepdistill.prompts import builtin_exemplars, style_for
from stepdistill.provenance import provenance
from stepdistill.tasks import get_task
from stepdistill.teacher import GenerationSettings
from stepdistill.teacher.local_backend import LocalTeacher

ROOT = Path(__file__).resolve().parent.parent


async def run(teacher: LocalTeacher, requests: list) -> list:
    try:
        return await asyncio.gather(*(teacher.complete(request) for request in requests))
    finally:
        await teacher.aclose()


def timed(teacher: LocalTeacher, requests: list) -> tuple[list, float]:
    started = time.perf_counter()
    completions = asyncio.run(run(teacher, requests))
    return completions, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--requests", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument(
        "--output", type=Path, default=ROOT / "benchmarks" / "results" / "local_teacher.json"
    )
    args = parser.parse_args()
    task, style = get_task("svamp"), style_for("svamp")
    config = ExtractionConfig(settings=GenerationSettings(max_tokens=64, stop=style.stop))
    examples = generate_task()["train"][: args.requests]
    requests = reasoning_requests(examples, style, builtin_exemplars(task)[:3], config)
    runs = {}
    for name, batch_size in (("sequential", 1), ("batched", args.batch_size)):
        completions, seconds = timed(LocalTeacher(args.model, batch_size=batch_size), requests)
        tokens = sum(c.usage.completion_tokens for c in completions)
        runs[name] = {
            "batch_size": batch_size,
            "seconds": round(seconds, 2),
            "requests_per_second": round(len(requests) / seconds, 4),
            "completion_tokens_per_second": round(tokens / seconds, 2),
            "completion_tokens": tokens,
            "texts": [c.text for c in completions],
        }
        print(f"{name}: {runs[name]['requests_per_second']:.3f} requests/s", flush=True)
    pairs = zip(runs["sequential"]["texts"], runs["batched"]["texts"], strict=True)
    same = sum(a == b for a, b in pairs)
    result = {
        "model": args.model,
        "requests": len(requests),
        "torch_threads": torch.get_num_threads(),
        "identical_greedy_outputs": same,
        "speedup_batched_over_sequential": round(
            runs["batched"]["requests_per_second"] / runs["sequential"]["requests_per_second"], 3
        ),
        "runs": {
            name: {k: v for k, v in run.items() if k != "texts"} for name, run in runs.items()
        },
        **provenance(),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"speedup {result['speedup_batched_over_sequential']:.2f}x, identical outputs "
        f"{same}/{len(requests)}; wrote {args.output}"
    )


if __name__ == "__main__":
    main()
