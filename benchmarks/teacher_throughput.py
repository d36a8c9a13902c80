"""Teacher client throughput against a server that answers every request in a fixed time.

    .venv/bin/python benchmarks/teacher_throughput.py [--requests 400] [--latency 0.2]

A server answering in 200 ms allows concurrency / 0.2 requests/s (80 at concurrency 16). The
server (an asyncio server in tests/fake_openai.py) runs in its own process, as a real one would;
the client (OpenAITeacher + run_requests, as `stepdistill extract` uses them) runs at concurrency
1 and 16 side by side in one run, and the achieved rate is reported as a ratio of what the
latency allows. Writes benchmarks/results/teacher_throughput.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

from stepdistill.provenance import provenance
from stepdistill.teacher import GenerationSettings, RetryPolicy, TeacherRequest
from stepdistill.teacher.openai_backend import OpenAITeacher
from stepdistill.teacher.runner import run_requests

ROOT = Path(__file__).resolve().parent.parent
SERVER = ROOT / "tests" / "fake_openai.py"


async def measure(base_url: str, requests: int, concurrency: int) -> dict:
    teacher = OpenAITeacher("fake", base_url=base_url, retry=RetryPolicy(timeout=30))
    settings = GenerationSettings(max_tokens=32)
    batch = [
        TeacherRequest.chat([{"role": "user", "content": f"Q: {i} and {i + 1}\nA:"}], settings)
        for i in range(requests)
    ]
    # one request outside the timed part: imports, first connection
    await teacher.complete(TeacherRequest(prompt="Q: 0 and 0\nA:", settings=settings))
    start = time.perf_counter()
    completions, stats = await run_requests(teacher, batch, concurrency=concurrency, progress=False)
    seconds = time.perf_counter() - start
    await teacher.aclose()
    if not all(c.ok for c in completions):
        raise RuntimeError(f"some requests failed: {stats}")
    return {
        "concurrency": concurrency,
        "requests": requests,
        "seconds": round(seconds, 3),
        "requests_per_second": round(requests / seconds, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument(
        "--output", type=Path, default=ROOT / "benchmarks" / "results" / "teacher_throughput.json"
    )
    args = parser.parse_args()
    server = subprocess.Popen(
        [sys.executable, str(SERVER), "--delay", str(args.latency)],
        stdout=subprocess.PIPE,
        text=True,
    )
    rows = []
    try:
        base_url = server.stdout.readline().strip()
        for concurrency, requests in ((1, max(20, args.requests // 16)), (16, args.requests)):
            row = asyncio.run(measure(base_url, requests, concurrency))
            row["allowed_requests_per_second"] = concurrency / args.latency
            row["ratio_of_allowed"] = round(
                row["requests_per_second"] / row["allowed_requests_per_second"], 4
            )
            rows.append(row)
            print(
                f"concurrency {concurrency:>2}: {row['requests_per_second']:.1f} req/s, "
                f"{row['ratio_of_allowed']:.1%} of the "
                f"{row['allowed_requests_per_second']:.0f} req/s allowed"
            )
    finally:
        server.terminate()
        server.wait(timeout=10)
    result = {
        "latency_seconds": args.latency,
        "runs": rows,
        "speedup_16_over_1": round(
            rows[1]["requests_per_second"] / rows[0]["requests_per_second"], 2
        ),
        **provenance(),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
