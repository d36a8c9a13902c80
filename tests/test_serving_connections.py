"""Connections that never finish, work nobody waits for, and a stop in the middle of work: the
real server (uvicorn with stepdistill's connection guards and the app) on loopback, around a
fake predictor, so that each case takes seconds."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time

import httpx
import pytest

from servers import FakePredictor, serving
from stepdistill.models.batcher import MicroBatcher
from stepdistill.serving import ServeLimits
from stepdistill.serving.connections import BACKLOG, FloodFilter, connection_cap


def connect(base: str) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    connection = socket.create_connection((host, int(port)), timeout=30)
    return connection


def seconds_until_closed(connection: socket.socket, *, trickle: bytes = b"", every: float = 0.3):
    """Seconds until the server closes ``connection``, sending ``trickle`` a byte at a time
    every ``every`` seconds meanwhile (a slow client), or nothing (an idle one)."""
    started = time.perf_counter()
    connection.settimeout(every)
    sent = 0
    while time.perf_counter() - started < 30:
        try:
            if connection.recv(4096) == b"":
                return time.perf_counter() - started
        except TimeoutError:
            pass
        except ConnectionResetError:
            return time.perf_counter() - started
        if sent < len(trickle):
            try:
                connection.send(trickle[sent : sent + 1])
            except (BrokenPipeError, ConnectionResetError):
                return time.perf_counter() - started
            sent += 1
    raise AssertionError("the server never closed the connection")


# 1: slow and idle connections -----------------------------------------------------------------

HEADERS = b"GET /health HTTP/1.1\r\nHost: x\r\nUser-Agent: " + b"s" * 200 + b"\r\n\r\n"


def test_an_idle_connection_is_closed_at_the_header_deadline():
    with serving(limits=ServeLimits(header_timeout=1)) as base:
        assert seconds_until_closed(connect(base)) < 2.5


def test_headers_trickled_a_byte_at_a_time_are_cut_at_the_deadline():
    # each byte would restart a per-read timeout; the deadline holds for the headers whole
    with serving(limits=ServeLimits(header_timeout=1.5)) as base:
        assert seconds_until_closed(connect(base), trickle=HEADERS, every=0.2) < 3


def test_a_keep_alive_connection_idle_after_its_answer_is_closed():
    with serving(limits=ServeLimits(keep_alive=1, header_timeout=30)) as base:
        connection = connect(base)
        connection.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert connection.recv(4096).startswith(b"HTTP/1.1 200")
        assert seconds_until_closed(connection) < 2.5


def test_the_next_request_on_a_kept_connection_is_under_the_deadline_too():
    with serving(limits=ServeLimits(keep_alive=30, header_timeout=1.5)) as base:
        connection = connect(base)
        connection.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert connection.recv(4096).startswith(b"HTTP/1.1 200")
        assert seconds_until_closed(connection, trickle=HEADERS, every=0.2) < 3


def test_at_the_connection_cap_the_longest_waiting_connection_makes_room():
    with serving(limits=ServeLimits(max_connections=5, header_timeout=60)) as base:
        idle = [connect(base) for _ in range(5)]
        time.sleep(0.3)
        clients = [httpx.Client(base_url=base, timeout=10) for _ in range(3)]
        # each new connection (kept open) closes the one that has waited longest
        assert all(client.get("/health").status_code == 200 for client in clients)
        assert all(seconds_until_closed(c, every=0.1) < 1 for c in idle[:3])
        still_open = idle[3]
        still_open.settimeout(0.5)
        with pytest.raises(TimeoutError):
            still_open.recv(1)
        for client in clients:
            client.close()


def test_at_the_cap_with_every_connection_working_a_new_one_gets_503():
    slow = FakePredictor(delay=3)
    limits = ServeLimits(max_connections=3, header_timeout=60, max_batch=1)
    with serving(slow, limits) as base:

        def post():
            httpx.post(f"{base}/v1/predict", json={"inputs": ["q"]}, timeout=30)

        workers = [threading.Thread(target=post) for _ in range(3)]
        for worker in workers:
            worker.start()
        time.sleep(0.5)
        response = httpx.get(f"{base}/health", timeout=10)
        assert response.status_code == 503
        for worker in workers:
            worker.join()
        assert httpx.get(f"{base}/health", timeout=10).status_code == 200


def test_the_cap_fits_under_the_descriptor_limit():
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))
    try:
        cap = connection_cap(5000)
        assert 1024 - BACKLOG - 200 < cap < 1024 - BACKLOG
        assert connection_cap(100) == 100
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_flood_of_one_error_leaves_a_line_every_interval_with_a_count():
    logger = logging.getLogger("stepdistill.test.flood")
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            lines.append(record.getMessage())

    handler, flood = Keep(), FloodFilter(interval=0.2)
    logger.addHandler(handler)
    logger.addFilter(flood)
    try:
        for _ in range(10_000):
            try:
                raise OSError(24, "Too many open files")
            except OSError:
                logger.exception("socket.accept() out of system resource")
        time.sleep(0.25)
        logger.error("socket.accept() out of system resource", exc_info=OSError(24, "again"))
        logger.warning("Invalid HTTP request received.")
    finally:
        logger.removeFilter(flood)
        logger.removeHandler(handler)
    assert len(lines) == 3
    assert "9999 more like this left out of the log" in lines[1]
    assert lines[2] == "Invalid HTTP request received."


# 2: work for requests already answered --------------------------------------------------------


def test_requests_that_timed_out_leave_the_queue_before_they_are_computed():
    """40 requests of 64 inputs, a cap of 128 inputs, 1 s per batch and a 1.5 s time limit:
    only what was admitted against the cap is ever computed, and the server is idle soon
    after the last 503 (before the fix: 8 x 64 inputs computed for nobody)."""
    slow = FakePredictor(delay=1)
    limits = ServeLimits(request_timeout=1.5, max_queued_inputs=128, max_batch=64)
    with serving(slow, limits) as base:

        async def flood():
            async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                body = {"inputs": [f"q{i}" for i in range(64)]}
                return await asyncio.gather(
                    *(client.post("/v1/predict", json=body) for _ in range(40))
                )

        statuses = [r.status_code for r in asyncio.run(flood())]
        time.sleep(2.5)  # what is still queued now would be computed for nobody
        computed = len(slow.computed)
        assert httpx.get(f"{base}/health", timeout=5).status_code == 200
        # nothing runs any more: a fresh small request is answered at once
        started = time.perf_counter()
        response = httpx.post(f"{base}/v1/predict", json={"inputs": ["q"]}, timeout=10)
        assert response.status_code == 200 and time.perf_counter() - started < 1.9
    assert statuses.count(200) + statuses.count(503) == 40
    # one batch of 64 starts at once and finishes in time; the second is admitted, waits,
    # and times out before it runs or while it runs: at most two batches are computed
    assert computed <= 2 * 64, computed


def test_a_request_whose_client_went_away_is_not_computed():
    slow = FakePredictor(delay=1.5)
    with serving(slow, ServeLimits(max_batch=1)) as base:
        busy = threading.Thread(
            target=lambda: httpx.post(f"{base}/v1/predict", json={"inputs": ["first"]}, timeout=30)
        )
        busy.start()
        time.sleep(0.3)  # "first" is computing
        body = b'{"inputs": ["abandoned"]}'
        gone = connect(base)
        gone.sendall(
            b"POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )
        time.sleep(0.3)
        gone.close()  # queued behind "first", then the client leaves
        busy.join()
        time.sleep(0.5)
        after = httpx.post(f"{base}/v1/predict", json={"inputs": ["next"]}, timeout=30)
        assert after.status_code == 200
    assert slow.computed == ["first", "next"]


def test_the_queue_cap_counts_the_inputs_of_a_batch_still_computing():
    async def main():
        computing = threading.Event()

        def run(inputs, options):
            computing.set()
            time.sleep(0.5)
            return inputs

        batcher = MicroBatcher(run, max_batch=4, max_queued=4)
        batcher.start()
        first = asyncio.ensure_future(batcher.submit(["a", "b", "c", "d"], ()))
        while not computing.is_set():
            await asyncio.sleep(0.01)
        first.cancel()  # its client gave up, but its inputs are still being computed
        await asyncio.sleep(0.05)
        held = batcher.queued
        await asyncio.sleep(0.6)
        freed = batcher.queued
        await batcher.stop()
        return held, freed

    assert asyncio.run(main()) == (4, 0)


# 3: SIGTERM during work longer than the grace ----------------------------------------------


def test_the_default_grace_outlasts_the_request_timeout():
    assert ServeLimits().grace > ServeLimits().request_timeout
    assert ServeLimits(request_timeout=300).grace > 300
    assert ServeLimits(shutdown_grace=2).grace == 2
    with pytest.raises(ValueError, match="shutdown_grace"):
        ServeLimits(shutdown_grace=float("nan"))


def start_fake_server(tmp_path, delay: float, *options: str):
    import subprocess
    import sys
    from pathlib import Path

    from servers import free_port, wait_until_answering

    port = free_port()
    log_path = tmp_path / "server.log"
    log = open(log_path, "w")  # noqa: SIM115
    script = Path(__file__).parent / "fake_server.py"
    process = subprocess.Popen(
        [sys.executable, str(script), str(port), str(delay), *options],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    wait_until_answering(f"{base}/health", process, log=log_path)
    return process, base, log, log_path


@pytest.mark.parametrize(
    ("delay", "options", "status"),
    [
        (6, ["shutdown_grace=1"], 503),  # work longer than the grace: a clean 503
        (2, [], 200),  # the default grace outlasts the request timeout: the work finishes
    ],
)
def test_sigterm_during_work_answers_cleanly(tmp_path, delay, options, status):
    import signal

    process, base, log, log_path = start_fake_server(tmp_path, delay, *options)
    answers: list[httpx.Response] = []
    try:
        asking = threading.Thread(
            target=lambda: answers.append(
                httpx.post(f"{base}/v1/predict", json={"inputs": ["q"]}, timeout=30)
            )
        )
        asking.start()
        time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        asking.join(timeout=30)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        log.close()
    [answer] = answers
    assert answer.status_code == status, answer.text
    if status == 503:
        assert "shutting down" in answer.json()["detail"]
    assert "Traceback" not in log_path.read_text()
