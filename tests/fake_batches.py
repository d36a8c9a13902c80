"""An in-process server of OpenAI's files and batches endpoints for tests, in their documented
format: upload (multipart), create, retrieve with status transitions, list, output and error
files; and a stand-in for ``vllm run-batch`` that answers a batch input file."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from fake_openai import completion_payload

# the statuses a batch passes through on its way to the end, one per retrieve
STEPS = ("validating", "in_progress", "finalizing")


def _result_line(number: int, custom_id: str, url: str, body: dict, text: str) -> dict:
    payload = json.loads(completion_payload(url, body, text, number))
    response = {"status_code": 200, "request_id": f"req_{number}", "body": payload}
    return {
        "id": f"batch_req_{number}",
        "custom_id": custom_id,
        "response": response,
        "error": None,
    }


def _error_line(number: int, custom_id: str, code: str, message: str) -> dict:
    error = {"code": code, "message": message}
    return {"id": f"batch_req_{number}", "custom_id": custom_id, "response": None, "error": error}


class FakeBatchAPI:
    """Serves /v1/files, /v1/files/{id}/content and /v1/batches[/{id}] on 127.0.0.1, and
    answers online chat and text completions.

    Args:
        answer: Text answering a request body.
        ending: ``ending(batch_number)`` -> ``completed``, ``expired`` (only the first
            ``answered`` requests of that batch are answered, the rest get ``batch_expired``
            in the error file) or ``failed`` (validation failed, no output).
        answered: Requests an expiring batch answers.
        hold: While not set, a batch stays ``in_progress`` (to kill a client mid-poll).
        extra: Lines added to every output file (malformed, duplicated, unknown ids).
    """

    def __init__(
        self,
        answer: Callable[[dict[str, Any]], str],
        *,
        ending: Callable[[int], str] = lambda number: "completed",
        answered: int = 0,
        hold: threading.Event | None = None,
        extra: tuple[bytes, ...] = (),
    ) -> None:
        self.answer, self.ending, self.answered = answer, ending, answered
        self.extra = extra
        self.hold = hold
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.uploads = 0
        self.creates = 0
        self.retrieves = 0
        self.online = 0
        self._steps: dict[str, int] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return

            def _send(self, status: int, payload: bytes, kind: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _json(self, data: Any, status: int = 200) -> None:
                self._send(status, json.dumps(data).encode())

            def do_GET(self) -> None:
                parts = self.path.split("?")[0].strip("/").split("/")
                with server._lock:
                    if parts[1:2] == ["files"] and parts[-1] == "content":
                        content = server.files.get(parts[2])
                        if content is None:
                            self._json({"error": {"message": "no such file"}}, 404)
                        else:
                            self._send(200, content, "application/octet-stream")
                    elif parts[1:] == ["batches"]:
                        listed = list(reversed(server.batches.values()))
                        self._json({"object": "list", "data": listed, "has_more": False})
                    elif parts[1:2] == ["batches"]:
                        self._json(server._advance(parts[2]))
                    else:
                        self._json({"error": {"message": "not found"}}, 404)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                data = self.rfile.read(length)
                parts = self.path.split("?")[0].strip("/").split("/")
                with server._lock:
                    if parts[1:] == ["files"]:
                        self._json(server._upload(self.headers.get("Content-Type", ""), data))
                    elif parts[1:] == ["batches"]:
                        self._json(server._create(json.loads(data)))
                    elif parts[1:] in (["chat", "completions"], ["completions"]):
                        server.online += 1  # the same server answers online requests too
                        body = json.loads(data)
                        text = server.answer(body)
                        self._send(200, completion_payload(self.path, body, text, server.online))
                    else:
                        self._json({"error": {"message": "not found"}}, 404)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> FakeBatchAPI:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _new_file(self, content: bytes, purpose: str, name: str) -> dict[str, Any]:
        file_id = f"file-{next(self._ids)}"
        self.files[file_id] = content
        return {
            "id": file_id,
            "object": "file",
            "bytes": len(content),
            "created_at": int(time.time()),
            "filename": name,
            "purpose": purpose,
            "status": "processed",
        }

    def _upload(self, content_type: str, data: bytes) -> dict[str, Any]:
        head = f"Content-Type: {content_type}\r\n\r\n".encode()
        message = BytesParser(policy=HTTP).parsebytes(head + data)
        fields = {
            part.get_param("name", header="content-disposition"): part
            for part in message.iter_parts()
        }
        self.uploads += 1
        file_part = fields["file"]
        purpose = fields["purpose"].get_content().strip()
        return self._new_file(file_part.get_payload(decode=True), purpose, file_part.get_filename())

    def _create(self, body: dict[str, Any]) -> dict[str, Any]:
        self.creates += 1
        lines = self.files[body["input_file_id"]].splitlines()
        batch_id = f"batch_{next(self._ids)}"
        self.batches[batch_id] = {
            "id": batch_id,
            "object": "batch",
            "endpoint": body["endpoint"],
            "input_file_id": body["input_file_id"],
            "completion_window": body["completion_window"],
            "metadata": body.get("metadata"),
            "status": STEPS[0],
            "created_at": int(time.time()),
            "output_file_id": None,
            "error_file_id": None,
            "errors": None,
            "request_counts": {"completed": 0, "failed": 0, "total": len(lines)},
            "number": self.creates,
        }
        self._steps[batch_id] = 0
        return self.batches[batch_id]

    def _advance(self, batch_id: str) -> dict[str, Any]:
        """The batch, one status further (held at ``in_progress`` while ``hold`` is unset)."""
        self.retrieves += 1
        batch = self.batches[batch_id]
        if batch["status"] not in STEPS:
            return batch
        held = self.hold is not None and not self.hold.is_set()
        if not (held and batch["status"] == "in_progress"):
            self._steps[batch_id] += 1
        if self._steps[batch_id] < len(STEPS):
            batch["status"] = STEPS[self._steps[batch_id]]
        else:
            self._finish(batch)
        return batch

    def _finish(self, batch: dict[str, Any]) -> None:
        ending = self.ending(batch["number"])
        if ending == "failed":
            batch.update(
                status="failed",
                errors={"object": "list", "data": [{"code": "invalid_json", "message": "bad"}]},
            )
            return
        outputs, errors = [], []
        for number, raw in enumerate(self.files[batch["input_file_id"]].splitlines(), start=1):
            line = json.loads(raw)
            if ending == "expired" and number > self.answered:
                errors.append(_error_line(number, line["custom_id"], "batch_expired", "expired"))
                continue
            text = self.answer(line["body"])
            outputs.append(_result_line(number, line["custom_id"], line["url"], line["body"], text))
        if outputs:
            content = "".join(json.dumps(row) + "\n" for row in outputs).encode()
            content += b"".join(line + b"\n" for line in self.extra)
            batch["output_file_id"] = self._new_file(content, "batch_output", "out.jsonl")["id"]
        if errors:
            content = "".join(json.dumps(row) + "\n" for row in errors).encode()
            batch["error_file_id"] = self._new_file(content, "batch_output", "err.jsonl")["id"]
        counts = {
            "completed": len(outputs),
            "failed": len(errors),
            "total": len(outputs) + len(errors),
        }
        batch.update(status=ending, request_counts=counts)


def play_vllm_run_batch(
    input_file: Path, output_file: Path, answer: Callable[[dict[str, Any]], str]
) -> int:
    """Answer a batch input file as ``vllm run-batch -i INPUT -o OUTPUT`` does: one output line
    per request, ``response.body`` the completion. Returns the lines written."""
    rows = []
    for number, raw in enumerate(input_file.read_text().splitlines(), start=1):
        line = json.loads(raw)
        text = answer(line["body"])
        row = _result_line(number, line["custom_id"], line["url"], line["body"], text)
        row["id"] = f"vllm-{number:032x}"
        row["response"]["request_id"] = f"vllm-batch-{number:032x}"
        rows.append(row)
    output_file.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return len(rows)
