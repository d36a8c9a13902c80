"""An in-process OpenAI-compatible HTTP server for tests: scripted answers and faults."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# fault(request_number, body) -> None (answer) or one of the actions below
OK, RATE_LIMIT, SERVER_ERROR, HANG, GARBAGE, BAD_REQUEST = (
    "ok",
    "429",
    "500",
    "hang",
    "garbage",
    "400",
)


def prompt_of(body: dict[str, Any]) -> str:
    if "messages" in body:
        return body["messages"][-1]["content"]
    return body.get("prompt", "")


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # a client that timed out and hung up is part of the fault tests


class FakeOpenAI:
    """Serves /v1/chat/completions, /v1/completions and /v1/models on 127.0.0.1.

    Args:
        answer: Text answering a request body.
        fault: Decides, per request, to answer or to fail (429 with Retry-After, 500, hang
            for ``hang_seconds``, a 200 with a body that is not JSON).
        delay: Seconds every answer takes.
    """

    def __init__(
        self,
        answer: Callable[[dict[str, Any]], str],
        *,
        fault: Callable[[int, dict[str, Any]], str | None] | None = None,
        delay: float = 0.0,
        hang_seconds: float = 2.0,
        retry_after: str = "0.05",
    ) -> None:
        self.answer = answer
        self.fault = fault or (lambda number, body: None)
        self.delay = delay
        self.hang_seconds = hang_seconds
        self.retry_after = retry_after
        self.log: list[tuple[str, str]] = []  # (prompt, outcome)
        self.headers: list[str] = []  # Authorization headers received
        self._lock = threading.Lock()
        self._count = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else every response waits for a delayed ACK

            def log_message(self, *args: Any) -> None:
                return

            def _send(
                self, status: int, payload: bytes, headers: dict[str, str] | None = None
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                self._send(
                    200,
                    json.dumps(
                        {"object": "list", "data": [{"id": "fake", "object": "model"}]}
                    ).encode(),
                )

            def do_POST(self) -> None:
                server.headers.append(self.headers.get("Authorization", ""))
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                with server._lock:
                    server._count += 1
                    number = server._count
                action = server.fault(number, body) or OK
                server.log.append((prompt_of(body), action))
                if action == RATE_LIMIT:
                    self._send(
                        429,
                        b'{"error": {"message": "slow down"}}',
                        {"Retry-After": server.retry_after},
                    )
                    return
                if action == BAD_REQUEST:
                    self._send(400, b'{"error": {"message": "bad request"}}')
                    return
                if action == SERVER_ERROR:
                    self._send(500, b'{"error": {"message": "boom"}}')
                    return
                if action == HANG:
                    time.sleep(server.hang_seconds)
                if action == GARBAGE:
                    self._send(200, b"<html>this is not json")
                    return
                if server.delay:
                    time.sleep(server.delay)
                text = server.answer(body)
                usage = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
                if self.path.endswith("/chat/completions"):
                    choice = {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": text},
                    }
                    kind = "chat.completion"
                else:
                    choice = {"index": 0, "finish_reason": "stop", "text": text, "logprobs": None}
                    kind = "text_completion"
                payload = {
                    "id": f"x{number}",
                    "object": kind,
                    "created": 0,
                    "model": body.get("model", "fake"),
                    "choices": [choice],
                    "usage": usage,
                }
                self._send(200, json.dumps(payload).encode())

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


def svamp_answer(body: dict[str, Any]) -> str:
    """A deterministic teacher for SVAMP-style prompts: adds the first two numbers it sees."""
    import re

    a, b = [*re.findall(r"\d+", prompt_of(body).split("Q:")[-1]), "1", "1"][:2]
    return f"We add {a} and {b}. The answer is ({a} + {b})."
