"""Helpers for tests that start a real server process on loopback."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from pathlib import Path


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
