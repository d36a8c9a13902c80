"""The teacher client under a hostile server and a busy disk: attempt timeouts, secrets never
written, a locked or unwritable cache (numbered as in the hardening issue)."""

from __future__ import annotations

import asyncio
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
from stepdistill.teacher.base import Completion, Usage
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
