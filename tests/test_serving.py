"""The Predictor, `stepdistill predict`, and the HTTP server run for real (uvicorn subprocess)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from servers import free_port, wait_until_answering
from stepdistill.cli.main import main
from stepdistill.data.task_data import TaskData
from stepdistill.errors import StepdistillError
from stepdistill.schema import Example, TeacherRecord
from stepdistill.serving import Predictor
from stepdistill.tasks import get_task
from stepdistill.training import make_config
from stepdistill.training.run import train_student
from tiny import arithmetic_task_data

CLI = str(Path(sys.executable).parent / "stepdistill")
FAST = {"per_device_batch_size": 4, "max_steps": 2, "eval_steps": 2, "max_new_tokens": 8}


def nli_data() -> TaskData:
    labels = ("entailment", "neutral", "contradiction")

    def rows(n, split):
        out = []
        for i in range(n):
            premise, hypothesis = f"A man rides {i} bikes.", f"A person is riding {i % 3}."
            record = TeacherRecord(f"{split}-{i}", "Because riding is riding.", labels[i % 3], True)
            meta = {"premise": premise, "hypothesis": hypothesis}
            out.append(
                Example(f"{split}-{i}", f"{premise}</s>{hypothesis}", labels[i % 3], meta, record)
            )
        return out

    return TaskData(get_task("esnli"), {"train": rows(12, "train"), "valid": rows(3, "valid")})


@pytest.fixture(scope="module")
def sbs_model(tiny_t5_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("served") / "svamp-sbs"
    train_student(
        data=arithmetic_task_data(),
        method="step-by-step",
        config=make_config("step-by-step", **FAST),
        student=str(tiny_t5_dir),
        output_dir=out,
    )
    return out


@pytest.fixture(scope="module")
def nli_model(tiny_llama_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("served") / "esnli-standard"
    train_student(
        data=nli_data(),
        method="standard",
        config=make_config("standard", **FAST),
        student=str(tiny_llama_dir),
        output_dir=out,
    )
    return out


def test_predictor_label_only_rationale_and_raw_fields(sbs_model):
    predictor = Predictor(sbs_model)
    [plain] = predictor.predict(["Ann has 3 pens and gets 4.\nHow many pens now?"])
    assert plain.rationale is None and isinstance(plain.label, str)
    both = predictor.predict(
        [{"input": "Bo has 2 cards and loses 1.\nHow many cards now?"}], rationale=True
    )
    assert isinstance(both[0].rationale, str)
    assert both[0].to_dict(rationale=True).keys() == {"label", "rationale"}
    assert plain.to_dict(rationale=False).keys() == {"label"}


def test_scoring_candidates_always_gives_a_valid_label(nli_model):
    predictor = Predictor(nli_model)
    rows = [{"premise": "A dog runs.", "hypothesis": "An animal moves."}, "A cat.</s>A dog."]
    predictions = predictor.predict(rows, score_labels=True)
    assert all(p.label in ("entailment", "neutral", "contradiction") for p in predictions)
    with pytest.raises(StepdistillError, match="not trained to write rationales"):
        predictor.predict(["x</s>y"], rationale=True)


def test_score_labels_needs_a_closed_label_set(sbs_model):
    with pytest.raises(StepdistillError, match="no closed label set"):
        Predictor(sbs_model).predict(["Ann has 1.\nHow many?"], score_labels=True)


def test_predict_cli(sbs_model, tmp_path, capsys):
    source = tmp_path / "in.jsonl"
    source.write_text(
        "".join(
            json.dumps({"id": f"q{i}", "input": f"Eve has {i} books.\nHow many?"}) + "\n"
            for i in range(5)
        )
    )
    out = tmp_path / "out.jsonl"
    assert (
        main(
            [
                "predict",
                "--model",
                str(sbs_model),
                "--input",
                str(source),
                "--output",
                str(out),
                "--rationale",
            ]
        )
        == 0
    )
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == [f"q{i}" for i in range(5)]
    assert all({"label", "rationale"} <= set(r) for r in rows)
    assert (
        main(["predict", "--model", str(sbs_model), "--input", str(source), "--output", str(out)])
        == 2
    )
    assert "--overwrite" in capsys.readouterr().err


@pytest.fixture(scope="module")
def server_log(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("serve") / "server.log"


@pytest.fixture(scope="module")
def server(sbs_model, server_log):
    port = free_port()
    log = open(server_log, "w")  # noqa: SIM115
    process = subprocess.Popen(
        [CLI, "serve", "--model", str(sbs_model), "--port", str(port), "--max-inputs", "16"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    base = f"http://127.0.0.1:{port}"
    wait_until_answering(f"{base}/health", process)
    yield base
    process.terminate()
    process.wait(timeout=30)
    log.close()


def test_the_first_log_line_gives_the_address_and_says_ready(server, server_log, sbs_model):
    lines = [line for line in server_log.read_text().splitlines() if line.strip()]
    assert lines[0] == f"stepdistill: loading {sbs_model} to serve at {server}"
    # then the weights' loading bar, then the line that says it answers
    ready = [line for line in lines if line.endswith(": ready")]
    assert len(ready) == 1 and ready[0].startswith(
        f"stepdistill: serving {sbs_model} at {server} ("
    )


def test_predict_lines_carry_the_row_id_or_its_line_number(sbs_model, tmp_path):
    source = tmp_path / "in.jsonl"
    rows = [{"input": "Eve has 2 books.\nHow many?"}, {"id": "x7", "input": "Al has 3 pens."}]
    source.write_text(json.dumps(rows[0]) + "\n\n" + json.dumps(rows[1]) + "\n")
    out = tmp_path / "out.jsonl"
    assert (
        main(["predict", "--model", str(sbs_model), "--input", str(source), "--output", str(out)])
        == 0
    )
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == [1, "x7"]


def test_predict_endpoint(server):
    response = httpx.post(
        f"{server}/v1/predict",
        json={"inputs": ["Max has 5 apples and gets 2.\nHow many apples now?"], "rationale": True},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["task"] == "svamp" and len(body["predictions"]) == 1
    assert set(body["predictions"][0]) == {"label", "rationale"}


def test_openai_client_can_call_the_student(server):
    import openai

    client = openai.OpenAI(base_url=f"{server}/v1", api_key="unused")
    [model] = client.models.list().data
    completion = client.completions.create(model=model.id, prompt="Lia has 4 cards.\nHow many?")
    assert isinstance(completion.choices[0].text, str)
    chat = client.chat.completions.create(
        model=model.id, messages=[{"role": "user", "content": "Lia has 4 cards.\nHow many?"}]
    )
    assert isinstance(chat.choices[0].message.content, str)


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({"inputs": []}, "at least 1"),
        ({"inputs": ["q"] * 17}, "at most 16"),
        ({"inputs": 5}, "list"),
        ({"inputs": [3]}, "string"),
        ({"inputs": [""]}, "empty"),
        ({"inputs": ["x" * 9000]}, "8000"),
        ({"inputs": ["q"], "rationale": "maybe"}, "bool"),
        ({"inputs": ["q"], "temperature": 1}, "Extra inputs"),
        ({"inputs": [{"premise": "p"}]}, "input template"),
    ],
)
def test_bad_requests_get_4xx_with_a_message(server, payload, fragment):
    response = httpx.post(f"{server}/v1/predict", json=payload, timeout=30)
    assert 400 <= response.status_code < 500, response.text
    assert fragment.lower() in response.text.lower()
    assert httpx.get(f"{server}/health", timeout=5).status_code == 200


def test_bad_json_and_wrong_route(server):
    response = httpx.post(
        f"{server}/v1/predict", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422 and "json" in response.text.lower()
    assert httpx.post(f"{server}/v1/nothing", json={}).status_code == 404
    assert httpx.post(f"{server}/v1/chat/completions", json={"messages": []}).status_code == 422
    assert httpx.get(f"{server}/health").json()["status"] == "ok"


def test_two_hundred_concurrent_requests_are_all_answered(server):
    async def call_all():
        limits = httpx.Limits(max_connections=200)
        async with httpx.AsyncClient(base_url=server, timeout=300, limits=limits) as client:
            requests = [
                client.post("/v1/predict", json={"inputs": [f"Ann has {i} pens.\nHow many?"]})
                for i in range(200)
            ]
            return await asyncio.gather(*requests)

    responses = asyncio.run(call_all())
    assert [r.status_code for r in responses] == [200] * 200
    assert all(len(r.json()["predictions"]) == 1 for r in responses)


def test_sigterm_lets_the_request_in_flight_finish(sbs_model, tmp_path):
    import signal
    import threading

    port = free_port()
    log = open(tmp_path / "server.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [CLI, "serve", "--model", str(sbs_model), "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    wait_until_answering(f"{base}/health", process)
    result = {}

    def slow_request():
        inputs = [f"Tom has {i} cards and gets {i + 1}.\nHow many cards now?" for i in range(64)]
        result["response"] = httpx.post(
            f"{base}/v1/predict", json={"inputs": inputs, "rationale": True}, timeout=120
        )

    thread = threading.Thread(target=slow_request)
    thread.start()
    time.sleep(0.5)  # the request is being worked on
    process.send_signal(signal.SIGTERM)
    thread.join(timeout=120)
    # uvicorn finishes what is in flight, then re-raises the signal: exit status -SIGTERM
    assert process.wait(timeout=60) in (0, -signal.SIGTERM)
    log.close()
    response = result["response"]
    assert response.status_code == 200 and len(response.json()["predictions"]) == 64


def resident_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def hostile(i: int) -> dict:
    """Bad requests of every kind the server must refuse alone (with a 4xx)."""
    kinds = [
        {"inputs": ["Ann has 2 pens.\ud800\nHow many?"]},  # a lone surrogate
        {"inputs": [{"input": "x" * 200_000}]},  # an oversized row of raw fields
        {"inputs": [{"input": 5, "extra": [1, {"a": 2}]}]},  # wrong types in a row
        {"inputs": [{"question": "q"}]},  # a field the input template needs is missing
    ]
    return kinds[i % len(kinds)]


@pytest.mark.slow
def test_load_with_hostile_requests_mixed_in(sbs_model, tmp_path):
    """200 concurrent requests, every tenth hostile: each good one gets 200 and the answer it
    gets alone, each hostile one a 4xx, memory stays bounded, /health answers throughout."""
    import json as json_module

    port = free_port()
    log = open(tmp_path / "server.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [CLI, "serve", "--model", str(sbs_model), "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(f"{base}/health", process)
        good = {i: f"Bo has {i} cards and gets {i % 7}.\nHow many cards now?" for i in range(200)}
        alone = {
            i: httpx.post(f"{base}/v1/predict", json={"inputs": [text]}, timeout=60).json()
            for i, text in good.items()
            if i % 10 != 0
        }
        before = resident_mb(process.pid)

        async def load():
            limits = httpx.Limits(max_connections=220)
            async with httpx.AsyncClient(base_url=base, timeout=300, limits=limits) as client:

                async def one(i):
                    if i % 10 == 0:  # raw bytes: httpx would refuse to encode a lone surrogate
                        body = json_module.dumps(hostile(i // 10)).encode()
                        headers = {"Content-Type": "application/json"}
                        return await client.post("/v1/predict", content=body, headers=headers)
                    return await client.post("/v1/predict", json={"inputs": [good[i]]})

                async def health():
                    answered = []
                    for _ in range(20):
                        started = time.perf_counter()
                        response = await client.get("/health", timeout=10)
                        answered.append((response.status_code, time.perf_counter() - started))
                        await asyncio.sleep(0.1)
                    return answered

                return await asyncio.gather(health(), *(one(i) for i in range(200)))

        health_checks, *responses = asyncio.run(load())
        after = resident_mb(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
    for i, response in enumerate(responses):
        if i % 10 == 0:
            assert 400 <= response.status_code < 500, (i, response.status_code, response.text)
        else:
            assert response.status_code == 200, (i, response.text)
            assert response.json() == alone[i], i
    assert all(status == 200 and seconds < 10 for status, seconds in health_checks)
    # measured here: 376 MB before and 390 MB after (tiny T5 student); bound: 150 MB of growth
    print(f"resident memory: {before:.0f} MB before, {after:.0f} MB after")
    assert after - before < 150, (before, after)


def test_a_stalled_client_is_answered_503_and_let_go(sbs_model, tmp_path):
    """A client that sends half a body and stops does not hold the server past the time limit."""
    import socket

    port = free_port()
    log = open(tmp_path / "server.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [CLI, "serve", "--model", str(sbs_model), "--port", str(port), "--request-timeout", "1"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_answering(f"http://127.0.0.1:{port}/health", process)
        stalled = socket.create_connection(("127.0.0.1", port))
        stalled.sendall(
            b"POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"inputs": ['
        )
        stalled.settimeout(10)
        started = time.perf_counter()
        answer = b""
        while chunk := stalled.recv(4096):  # the server answers, then closes the connection
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 503") and b"took over 1 s" in answer
        assert time.perf_counter() - started < 5
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200
        stalled.close()
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def open_connections(port: int, count: int) -> list:
    """``count`` connections to the server, connected without waiting on each (a full accept
    queue would make a blocking connect wait)."""
    import socket

    connections = []
    for _ in range(count):
        connection = socket.socket()
        connection.setblocking(False)
        connection.connect_ex(("127.0.0.1", port))
        connections.append(connection)
    return connections


def closed_by_server(connection) -> bool:
    """The server closed it (end of stream or reset); False while it stays open."""
    try:
        return connection.recv(4096) == b""
    except BlockingIOError:
        return False
    except OSError:  # reset, or never connected: the server did not keep it
        return True


def start_server(sbs_model: Path, tmp_path: Path, *options: str, preexec_fn=None):
    port = free_port()
    log_path = tmp_path / "server.log"
    log = open(log_path, "w")  # noqa: SIM115
    process = subprocess.Popen(
        [CLI, "serve", "--model", str(sbs_model), "--port", str(port), *options],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        preexec_fn=preexec_fn,
    )
    wait_until_answering(f"http://127.0.0.1:{port}/health", process, log=log_path)
    return process, port, log, log_path


def keep_asking(base: str, seconds: float) -> list[int]:
    """Statuses of /health and a good prediction, asked in turn for ``seconds``."""
    statuses = []
    deadline = time.time() + seconds
    good = {"inputs": ["Ann has 3 pens and buys 2.\nHow many pens?"]}
    while time.time() < deadline:
        statuses.append(httpx.get(f"{base}/health", timeout=10).status_code)
        statuses.append(httpx.post(f"{base}/v1/predict", json=good, timeout=30).status_code)
        time.sleep(0.1)
    return statuses


@pytest.mark.slow
def test_load_of_slow_and_idle_connections(sbs_model, tmp_path):
    """300 connections, half sending nothing and half trickling a header byte every 0.5 s: the
    server closes every one within its header deadline (3 s), while /health and good
    requests keep answering 200, and memory stays bounded."""
    import threading

    process, port, log, _ = start_server(sbs_model, tmp_path, "--header-timeout", "3")
    base = f"http://127.0.0.1:{port}"
    try:
        before = resident_mb(process.pid)
        asked: list[int] = []
        asking = threading.Thread(target=lambda: asked.extend(keep_asking(base, 8)))
        asking.start()
        opened = time.perf_counter()
        connections = open_connections(port, 300)
        trickle = b"GET /health HTTP/1.1\r\nHost: x\r\nUser-Agent: slow\r\n\r\n"
        open_for: dict[int, float] = {}
        sent = 0
        while len(open_for) < 300 and time.perf_counter() - opened < 20:
            for number, connection in enumerate(connections):
                if number not in open_for and closed_by_server(connection):
                    open_for[number] = time.perf_counter() - opened
            for connection in connections[150:]:  # the slow half: one byte each
                with contextlib.suppress(OSError):  # closed, or not yet connected
                    connection.send(trickle[sent : sent + 1])
            sent = min(sent + 1, len(trickle) - 3)  # never the headers' end
            time.sleep(0.5)
        asking.join()
        after = resident_mb(process.pid)
        for connection in connections:
            connection.close()
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
    assert len(open_for) == 300, f"{300 - len(open_for)} connections were never closed"
    # the deadline (3 s) and one pass of this loop (0.5 s) and the time to open them all
    assert max(open_for.values()) < 6, max(open_for.values())
    assert asked and all(status == 200 for status in asked), asked
    print(
        f"closed after at most {max(open_for.values()):.1f} s; {len(asked)} requests all 200; "
        f"resident memory {before:.0f} MB before, {after:.0f} MB after"
    )
    assert after - before < 150, (before, after)


@pytest.mark.slow
def test_connections_beyond_the_descriptor_limit(sbs_model, tmp_path):
    """The server at a descriptor limit of 1,024 and 1,100 idle connections (a header deadline
    of a minute, so that only the connection cap guards): /health still answers, every
    accepted connection stays below the limit, and the log stays under 1 MB."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1300:
        pytest.skip("this test needs 1,300 descriptors of its own")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1300), hard))

    def limit_descriptors():
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))

    process, port, log, log_path = start_server(
        sbs_model, tmp_path, "--header-timeout", "60", preexec_fn=limit_descriptors
    )
    base = f"http://127.0.0.1:{port}"
    try:
        before = resident_mb(process.pid)
        connections = open_connections(port, 1100)
        time.sleep(5)  # the server accepts them all, closing the longest waiting at its cap
        statuses = [httpx.get(f"{base}/health", timeout=10).status_code for _ in range(5)]
        descriptors = len(os.listdir(f"/proc/{process.pid}/fd"))
        after = resident_mb(process.pid)
        still_open = sum(not closed_by_server(connection) for connection in connections)
        for connection in connections:
            connection.close()
        assert process.poll() is None, "the server died"
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
    log_bytes = log_path.stat().st_size
    print(
        f"{still_open} of 1100 open; server descriptors {descriptors}; log {log_bytes} B; "
        f"resident memory {before:.0f} MB before, {after:.0f} MB after"
    )
    assert statuses == [200] * 5
    assert descriptors < 1024
    assert "at most" in log_path.read_text()  # it said how many connections it keeps
    assert log_bytes < 1_000_000
    assert after - before < 150, (before, after)
