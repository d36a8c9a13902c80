"""The teacher client under a hostile server and a busy disk: attempt timeouts, secrets never
written, a locked or unwritable cache (numbered as in the hardening issue)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import sqlite3
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from stepdistill.cli.main import main
from stepdistill.errors import StepdistillError
from stepdistill.teacher import RetryPolicy, TeacherRequest
from stepdistill.teacher.base import Completion, GenerationSettings, Usage
from stepdistill.teacher.cache import CompletionCache
from stepdistill.teacher.openai_backend import OpenAITeacher, without_credentials
from test_task_files import nli_rows, task_file, write_rows

# 6: the timeout bounds the whole attempt ------------------------------------------------------


def test_a_trickling_server_cannot_hold_an_attempt_past_its_timeout():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def trickle():
        connection, _ = listener.accept()
        connection.recv(65536)
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        while not stop.is_set():  # one byte of header every 0.3 s, forever
            try:
                connection.sendall(b"X")
            except OSError:
                return
            time.sleep(0.3)

    threading.Thread(target=trickle, daemon=True).start()
    port = listener.getsockname()[1]
    teacher = OpenAITeacher(
        "fake",
        base_url=f"http://127.0.0.1:{port}/v1",
        retry=RetryPolicy(max_attempts=1, timeout=1.5),
    )
    started = time.perf_counter()
    completion = asyncio.run(teacher.complete(TeacherRequest(prompt="q")))
    stop.set()
    assert completion.text is None and "timed out after 1.5 s" in completion.error
    assert time.perf_counter() - started < 5


# 7: secrets never written -------------------------------------------------------------------


def test_a_key_echoed_by_the_server_and_a_url_password_are_never_written(
    tmp_path, monkeypatch, capsys
):
    secret, password = "sk-echoed-secret-77", "pa55word-xyz"

    class Echo(BaseHTTPRequestHandler):
        def log_message(self, *args):
            return

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            body = json.dumps({"error": {"message": f"bad key {self.headers['Authorization']}"}})
            self.send_response(400)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body.encode())

    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    write_rows(tmp_path / "rows.csv", nli_rows(4))
    path = task_file(tmp_path, {"train": "rows.csv"})
    monkeypatch.setenv("MY_KEY", secret)
    url = f"http://user:{password}@127.0.0.1:{server.server_address[1]}/v1"
    output = tmp_path / "teacher.jsonl"
    args = ["-v", "extract", "--task", str(path), "--teacher", "openai:fake", "--base-url", url]
    assert main([*args, "--api-key-env", "MY_KEY", "--output", str(output)]) == 0
    server.shutdown()
    printed = capsys.readouterr()
    records = output.read_text()
    assert "bad key Basic ***" in records  # the error is kept, the credentials are not
    for file in tmp_path.iterdir():
        if file.is_file():
            assert (
                secret.encode() not in file.read_bytes()
                and password.encode() not in file.read_bytes()
            )
    for leaked in (secret, password, "dXNlcjpwYTU1d29yZC14eXo="):
        assert leaked not in printed.out + printed.err
    assert without_credentials(url) == f"http://127.0.0.1:{server.server_address[1]}/v1"


# 8: a busy cache waits ------------------------------------------------------------------------


def test_a_cache_locked_by_another_process_is_waited_for(tmp_path):
    path = tmp_path / "cache.sqlite"
    cache = CompletionCache(path)
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
    threading.Timer(3.0, lambda: holder.execute("COMMIT")).start()
    started = time.perf_counter()
    cache.put("k", Completion(text="t", usage=Usage(1, 2)), {"sample": 0})
    assert time.perf_counter() - started >= 2.5
    assert cache.get("k").text == "t"


def test_an_unwritable_cache_is_a_one_line_error(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StepdistillError, match="cache"):
        CompletionCache(blocker / "cache.sqlite")  # its folder would be a file


# hardening round 2, 8: unbounded teacher responses ---------------------------------------------


def serve_once_per_request(answer):
    """A loopback server whose POST handler is ``answer(handler, body)``; returns its port."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            return

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            answer(self, body)

        do_GET = do_POST

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def completion_body(text: str) -> bytes:
    return json.dumps(
        {"choices": [{"message": {"role": "assistant", "content": text}}], "usage": None}
    ).encode()


def send(handler, body: bytes, *, headers=(), status=200, declared: int | None = None):
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    for name, value in headers:
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body) if declared is None else declared))
    handler.end_headers()
    with contextlib.suppress(OSError):  # the client stopped reading
        handler.wfile.write(body)


def ask(port: int, *, max_tokens: int = 256, attempts: int = 1) -> Completion:
    teacher = OpenAITeacher(
        "fake",
        base_url=f"http://127.0.0.1:{port}/v1",
        retry=RetryPolicy(max_attempts=attempts, timeout=20, base_delay=0.01),
    )
    request = TeacherRequest(prompt="q", settings=GenerationSettings(max_tokens=max_tokens))
    return asyncio.run(teacher.complete(request))


def peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.parametrize("declared", [True, False])
def test_a_body_larger_than_max_tokens_can_produce_is_a_failed_attempt(declared):
    huge = completion_body("x" * 30_000_000)  # 30 MB for max_tokens 256

    def answer(handler, _):
        if declared:
            send(handler, huge)
        else:  # no Content-Length: counted as it arrives
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Connection", "close")
            handler.end_headers()
            with contextlib.suppress(OSError):
                handler.wfile.write(huge)

    server = serve_once_per_request(answer)
    before = peak_mb()
    completion = ask(server.server_address[1])
    server.shutdown()
    assert completion.text is None and "bytes" in completion.error, completion
    assert "over" in completion.error or "declares" in completion.error
    assert peak_mb() - before < 25  # the body was never held whole


def test_a_gzip_bomb_is_inflated_with_a_cap():
    import gzip

    bomb = gzip.compress(completion_body("0" * 60_000_000), compresslevel=9)  # ~60 KB

    def answer(handler, _):
        send(handler, bomb, headers=[("Content-Encoding", "gzip")])

    server = serve_once_per_request(answer)
    before = peak_mb()
    completion = ask(server.server_address[1])
    server.shutdown()
    assert completion.text is None and "inflates to over" in completion.error, completion
    assert peak_mb() - before < 50


def test_a_normal_gzip_answer_is_read():
    import gzip

    def answer(handler, _):
        send(
            handler,
            gzip.compress(completion_body("The answer is 7.")),
            headers=[("Content-Encoding", "gzip")],
        )

    server = serve_once_per_request(answer)
    completion = ask(server.server_address[1])
    server.shutdown()
    assert completion.text == "The answer is 7."


# 9: redirects -------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_to_another_origin_is_refused_and_the_prompt_stays(status):
    reached: list[bytes] = []

    def elsewhere(handler, body):
        reached.append(body)
        send(handler, completion_body("taken from elsewhere"))

    other = serve_once_per_request(elsewhere)

    def redirect(handler, _):
        location = f"http://127.0.0.1:{other.server_address[1]}/v1/chat/completions"
        send(handler, b"", status=status, headers=[("Location", location)])

    server = serve_once_per_request(redirect)
    completion = ask(server.server_address[1], attempts=3)
    server.shutdown()
    other.shutdown()
    assert completion.text is None and f"HTTP {status} redirect" in completion.error, completion
    assert completion.attempts == 1  # the same every time: not tried again
    assert reached == []


def test_a_redirect_within_the_same_origin_keeping_the_body_is_followed():
    bodies: list[bytes] = []

    def answer(handler, body):
        if handler.path == "/v1/chat/completions":
            send(handler, b"", status=307, headers=[("Location", "/v2/chat/completions")])
        else:
            bodies.append(body)
            send(handler, completion_body("moved answer"))

    server = serve_once_per_request(answer)
    completion = ask(server.server_address[1])
    server.shutdown()
    assert completion.text == "moved answer"
    assert json.loads(bodies[0])["messages"][0]["content"] == "q"
