"""A server that one bad request cannot hurt: inputs checked one by one, every limit on every
input shape, API keys, body, queue and time limits, validated OpenAI parameters."""

from __future__ import annotations

import asyncio
import time

import pytest
from fastapi.testclient import TestClient

from servers import FakePredictor
from stepdistill.errors import DataError
from stepdistill.models.batcher import MicroBatcher, QueueFull
from stepdistill.serving.app import create_app
from stepdistill.serving.limits import ServeLimits
from stepdistill.tasks import get_task


def client(**options) -> TestClient:
    predictor = options.pop("predictor", None) or FakePredictor()
    return TestClient(create_app(predictor, **options))


# 1: one bad input fails only itself -----------------------------------------------------------


def test_a_lone_surrogate_is_refused_alone():
    with client() as http:
        json_body = {"Content-Type": "application/json"}  # a lone surrogate, as JSON escapes it
        response = http.post(
            "/v1/predict", content=b'{"inputs": ["fine", "bad \\ud800"]}', headers=json_body
        )
        assert response.status_code == 422 and "input 2 is not valid Unicode" in response.text
        response = http.post(
            "/v1/chat/completions",
            content=b'{"messages": [{"role": "user", "content": "x\\ud800"}]}',
            headers=json_body,
        )
        assert response.status_code == 422  # the validation error does not echo it: no 500
        assert http.post("/v1/predict", json={"inputs": ["fine"]}).json()["predictions"] == [
            {"label": "4"}
        ]


def test_a_failing_batch_is_run_again_request_by_request():
    def run(inputs, options):
        if any("bad" in text for text in inputs):
            raise ValueError("tokenizer error")
        return [text.upper() for text in inputs]

    async def main():
        batcher = MicroBatcher(run, max_batch=16, max_wait=0.05)
        batcher.start()
        jobs = [batcher.submit([f"good {i}"], ()) for i in range(6)] + [batcher.submit(["bad"], ())]
        results = await asyncio.gather(*jobs, return_exceptions=True)
        await batcher.stop()
        return results

    results = asyncio.run(main())
    assert results[:6] == [[f"GOOD {i}"] for i in range(6)]
    assert isinstance(results[6], ValueError)


# 2, 3: limits on every input shape, wrong types ---------------------------------------------


@pytest.mark.parametrize(
    ("rows", "fragment"),
    [
        ([{"input": "x" * 9000}], "input 1 is longer than 8000 characters"),
        ([{"question": "q", "choices": ["c" * 2000] * 5}], "longer than 8000"),
        ([{"question": "q", "choices": 5}], "wrong type"),
        ([{"question": "q", "choices": None}], "wrong type"),
        ([{"question": "q", "choices": [{"a": 1}]}], "field 'choices' is a dict"),
        (["ok", {"question": "q"}], "input 2"),
    ],
)
def test_every_limit_applies_to_rows_of_raw_fields(rows, fragment):
    with client(predictor=FakePredictor("cqa")) as http:
        response = http.post("/v1/predict", json={"inputs": rows})
        assert response.status_code == 422, response.text
        assert fragment in response.text


def test_wrong_types_in_a_row_are_data_errors():
    with pytest.raises(DataError, match="wrong type"):
        get_task("cqa").format_input({"question": "q", "choices": 5})


# 4: keys, body size, queue, time ------------------------------------------------------------


def test_api_key_on_every_endpoint_but_health():
    with client(api_key="s3cret") as http:
        assert http.get("/health").status_code == 200
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret"}):
            response = http.post("/v1/predict", json={"inputs": ["q"]}, headers=headers)
            assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
        assert http.get("/v1/models").status_code == 401
        good = {"Authorization": "Bearer s3cret"}
        assert http.post("/v1/predict", json={"inputs": ["q"]}, headers=good).status_code == 200
        assert http.get("/v1/models", headers=good).status_code == 200


def test_a_big_body_is_refused_before_it_is_read():
    with client() as http:
        response = http.post("/v1/predict", json={"inputs": [{"input": "x" * 2_000_000}]})
        assert response.status_code == 413 and "1048576 bytes" in response.text

        def chunks():  # no Content-Length: counted as it arrives
            yield b'{"inputs": ["'
            for _ in range(40):
                yield b"x" * 50_000
            yield b'"]}'

        response = http.post(
            "/v1/predict", content=chunks(), headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 413


def test_a_full_queue_answers_503_with_retry_after():
    with client(limits=ServeLimits(max_queued_inputs=2)) as http:
        response = http.post("/v1/predict", json={"inputs": ["a", "b", "c"]})
        assert response.status_code == 503 and response.headers["retry-after"] == "1"
        assert http.post("/v1/predict", json={"inputs": ["a", "b"]}).status_code == 200


def test_a_request_past_its_time_limit_gets_503():
    slow = FakePredictor(delay=2.0)
    with client(predictor=slow, limits=ServeLimits(request_timeout=0.3)) as http:
        started = time.perf_counter()
        response = http.post("/v1/predict", json={"inputs": ["q"]})
        assert response.status_code == 503 and "took over 0.3 s" in response.text
        assert time.perf_counter() - started < 1.9


def test_limits_are_checked():
    with pytest.raises(ValueError, match="max_queued_inputs must be above 0"):
        ServeLimits(max_queued_inputs=0)
    with pytest.raises(QueueFull):

        async def overfull():
            batcher = MicroBatcher(lambda inputs, options: inputs, max_queued=1)
            await batcher.submit(["a", "b"], ())

        asyncio.run(overfull())


# 5: OpenAI parameters -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/v1/completions", {"prompt": "q", "max_tokens": -5}, 422),
        ("/v1/completions", {"prompt": "q", "max_tokens": 10**12}, 422),
        ("/v1/completions", {"prompt": "q", "temperature": -1}, 422),
        ("/v1/completions", {"prompt": "q", "n": 1000}, 422),
        ("/v1/completions", {"prompt": "q", "stream": True}, 422),
        ("/v1/completions", {"prompt": "q", "model": "gpt-4"}, 404),
        ("/v1/chat/completions", {"messages": [{"role": "wizard", "content": "q"}]}, 422),
        ("/v1/chat/completions", {"messages": [{"role": "user", "content": "q"}], "n": 3}, 422),
        (
            "/v1/chat/completions",
            {"messages": [{"role": "user", "content": "q"}], "stream": True},
            422,
        ),
    ],
)
def test_openai_parameters_are_validated(path, body, status):
    with client() as http:
        assert http.post(path, json=body).status_code == status
        good = {"prompt": "q", "max_tokens": 16, "temperature": 0, "model": "fake"}
        assert http.post("/v1/completions", json=good).status_code == 200


def test_with_a_key_the_schema_and_docs_need_it_too():
    with client(api_key="s3cret") as http:
        for path in ("/openapi.json", "/docs", "/redoc"):
            assert http.get(path).status_code in (401, 404), path
        good = {"Authorization": "Bearer s3cret"}
        schema = http.get("/openapi.json", headers=good)
        assert schema.status_code == 200 and "/v1/predict" in schema.json()["paths"]
    with client() as http:  # no key: the schema is open, as FastAPI serves it
        assert http.get("/openapi.json").status_code == 200


@pytest.mark.parametrize("key", ["clé-secrète", "two words", "bad\udcff", ""])
def test_a_key_a_header_cannot_carry_is_refused_at_start(key):
    from stepdistill.errors import StepdistillError

    with pytest.raises(StepdistillError, match="printable ASCII"):
        create_app(FakePredictor(), api_key=key)


def test_serve_refuses_such_a_key_in_one_line_before_loading(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    cli = str(Path(sys.executable).parent / "stepdistill")
    env = {**os.environ, "KEY": "clé"}
    args = [cli, "serve", "--model", str(tmp_path / "none"), "--api-key-env", "KEY"]
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "--api-key-env KEY: the API key must be printable ASCII" in result.stderr
    # bytes that are not UTF-8 in the variable: the same line, not a 500 on every request
    env_bytes = {**os.environb, b"KEY": b"s3cr\xffet"}
    result = subprocess.run(args, env=env_bytes, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "printable ASCII" in result.stderr


@pytest.mark.parametrize(
    ("path", "parameter", "value"),
    [
        ("/v1/chat/completions", "tools", [{"type": "function", "function": {"name": "f"}}]),
        ("/v1/chat/completions", "functions", [{"name": "f", "parameters": {}}]),
        ("/v1/chat/completions", "response_format", {"type": "json_object"}),
        ("/v1/chat/completions", "logprobs", True),
        ("/v1/completions", "logprobs", 5),
        ("/v1/completions", "echo", True),
    ],
)
def test_openai_parameters_a_student_cannot_honour_are_refused_by_name(path, parameter, value):
    body = {"messages": [{"role": "user", "content": "q"}]} if "chat" in path else {"prompt": "q"}
    with client() as http:
        response = http.post(path, json={**body, parameter: value})
        assert response.status_code == 400 and parameter in response.json()["detail"]
        # their "off" values, and parameters that change nothing here, are fine
        quiet = {**body, "logprobs": None, "tools": [], "user": "me", "seed": 3}
        assert http.post(path, json=quiet).status_code == 200


@pytest.mark.parametrize(
    ("task", "row"),
    [
        ("cqa", {"question": "q", "choices": ["a", ["b" * 300_000]]}),
        ("cqa", {"question": "q", "choices": [[["x" * 9_000]]]}),
        ("svamp", {"input": "q", "extra": [["y" * 5_000] * 2]}),
    ],
)
def test_the_size_limit_covers_values_nested_in_a_field(task, row):
    with client(
        predictor=FakePredictor(task), limits=ServeLimits(max_body_bytes=2_000_000)
    ) as http:
        response = http.post("/v1/predict", json={"inputs": [row]})
        assert response.status_code == 422 and "longer than 8000 characters" in response.text
