"""Helpers for tests that start a real server process on loopback."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from stepdistill.serving import ServeLimits, create_app
from stepdistill.serving.predictor import Prediction
from stepdistill.serving.server import make_server
from stepdistill.tasks import get_task


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_answering(
    url: str, process: subprocess.Popen, *, seconds: float = 120, log: Path | None = None
) -> None:
    """Poll ``url`` until it answers 200; fail (with the end of ``log``) if the process exits
    or the time runs out, killing it in that case."""
    deadline = time.time() + seconds
    while True:
        if process.poll() is not None:
            tail = log.read_text()[-2000:] if log else ""
            raise AssertionError(f"server exited with {process.returncode}: {tail}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.time() > deadline:
            process.kill()
            raise AssertionError(f"server did not answer {url} within {seconds:g} s")
        time.sleep(0.3)


class FakePredictor:
    """Answers the length of each input; slow or failing on request."""

    def __init__(self, task: str = "svamp", delay: float = 0.0) -> None:
        self.task = get_task(task)
        self.name = "fake"
        self.delay = delay
        self.computed: list = []  # every input run through the "model", in order

    def format_input(self, row):
        if isinstance(row, str):
            return row
        if "input" in row and isinstance(row["input"], str):
            return row["input"]
        return self.task.format_input(row, sep="\n")

    def predict(self, inputs, *, rationale=False, score_labels=False):
        self.computed.extend(inputs)
        time.sleep(self.delay)
        texts = [self.format_input(row) for row in inputs]
        for text in texts:
            text.encode("utf-8")  # a lone surrogate would fail here, as in a tokenizer
        return [Prediction(str(len(text))) for text in texts]


@contextlib.contextmanager
def serving(predictor=None, limits: ServeLimits | None = None) -> Iterator[str]:
    """The real server (uvicorn, the app, every connection guard) on a loopback port, run in
    a thread of this process around ``predictor`` (a ``FakePredictor``); yields its address."""
    limits = limits or ServeLimits()
    app = create_app(predictor or FakePredictor(), limits=limits)
    port = free_port()
    server = make_server(app, host="127.0.0.1", port=port, model=Path("fake"), limits=limits)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started:
        if time.time() > deadline or not thread.is_alive():
            raise AssertionError("the server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
