"""An in-process OpenAI-compatible HTTP server for tests: scripted answers and faults."""

from __future__ import annotations

import json
import re
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


USAGE = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
NO_USAGE = object()  # a server that reports no usage at all


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
        usage: Any = USAGE,
    ) -> None:
        self.answer = answer
        self.fault = fault or (lambda number, body: None)
        self.delay = delay
        self.hang_seconds = hang_seconds
        self.retry_after = retry_after
        self.usage = usage
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
                payload = completion_payload(
                    self.path, body, server.answer(body), number, server.usage
                )
                self._send(200, payload)

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


def completion_payload(
    path: str, body: dict[str, Any], text: str, number: int, usage: Any = USAGE
) -> bytes:
    """The JSON body of a chat or text completion answering ``body`` with ``text`` (and
    ``usage``, or none with ``NO_USAGE``)."""
    if path.endswith("/chat/completions"):
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
        **({} if usage is NO_USAGE else {"usage": usage}),
    }
    return json.dumps(payload).encode()


async def serve_fixed_latency(delay: float, ready: Callable[[str], None]) -> None:
    """An asyncio server answering every POST after exactly ``delay`` seconds (keep-alive,
    no threads), for throughput benchmarks: the client, not the server, is what is measured."""
    import asyncio

    count = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal count
        try:
            while request_line := await reader.readline():
                headers = {}
                while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    key, _, value = line.decode().partition(":")
                    headers[key.strip().lower()] = value.strip()
                body = json.loads(
                    await reader.readexactly(int(headers.get("content-length", 0))) or b"{}"
                )
                count += 1
                await asyncio.sleep(delay)
                path = request_line.split()[1].decode()
                payload = completion_payload(path, body, svamp_answer(body), count)
                head = (
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(payload)}\r\n\r\n"
                )
                writer.write(head.encode() + payload)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    ready(f"http://127.0.0.1:{port}/v1")
    async with server:
        await server.serve_forever()


def svamp_answer(body: dict[str, Any]) -> str:
    """A deterministic teacher for SVAMP-style prompts: adds the first two numbers it sees."""
    a, b = [*re.findall(r"\d+", prompt_of(body).split("Q:")[-1]), "1", "1"][:2]
    return f"We add {a} and {b}. The answer is ({a} + {b})."


HINTED = re.compile(r"\(The correct answer is (.+?)\.\)")  # the built-in hint, as shown


def hinted_answer(body: dict[str, Any]) -> str:
    """``svamp_answer``, unless the prompt shows the correct answer (rationalization), which
    it then explains and gives."""
    shown = HINTED.findall(prompt_of(body))
    if not shown:
        return svamp_answer(body)
    numbers = [*re.findall(r"\d+", prompt_of(body).split("Q:")[-1]), "1", "1"]
    steps = f"The problem starts with {numbers[0]} and then changes by {numbers[1]}."
    return f"{steps} The answer is {shown[-1]}."


if __name__ == "__main__":  # a stand-alone fixed-latency server, for benchmarks
    import argparse
    import asyncio

    parser = argparse.ArgumentParser(description="fake OpenAI-compatible server on 127.0.0.1")
    parser.add_argument("--delay", type=float, default=0.2, help="seconds every answer takes")
    options = parser.parse_args()
    asyncio.run(serve_fixed_latency(options.delay, lambda url: print(url, flush=True)))
