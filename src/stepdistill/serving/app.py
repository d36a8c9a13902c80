"""The HTTP API: label prediction, OpenAI-compatible completions, health.

One bad request never hurts another: every input is checked on its own (type, size, text that
can be encoded) before it joins a batch, and a batch that fails anyway is run again request by
request. Every limit applies to every input shape (text or a row of raw fields). ``ServeLimits``
holds the limits and their defaults.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import time
import uuid
from contextlib import asynccontextmanager
from typing import Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from stepdistill.errors import StepdistillError
from stepdistill.models.batcher import MicroBatcher, QueueFull
from stepdistill.serving.limits import MAX_INPUT_CHARS, MAX_INPUTS, ServeLimits
from stepdistill.serving.predictor import Predictor


class PredictRequest(BaseModel):
    """``POST /v1/predict``: task inputs (text, or the task's raw fields)."""

    model_config = ConfigDict(extra="forbid")
    inputs: list[str | dict[str, Any]] = Field(min_length=1)
    rationale: bool = False
    score_labels: bool = False


# OpenAI parameters that ask for an answer of another shape than a student's label, with the
# values that ask for nothing: any other value is refused with 400 naming the parameter, never
# silently ignored
UNSUPPORTED: dict[str, tuple[Any, ...]] = {
    "tools": (None, []),
    "tool_choice": (None, "none", "auto"),
    "functions": (None, []),
    "function_call": (None, "none", "auto"),
    "response_format": (None, {"type": "text"}),
    "logprobs": (None, False),
    "top_logprobs": (None, 0),
    "logit_bias": (None, {}),
    "echo": (None, False),
    "suffix": (None, ""),
    "best_of": (None, 1),
}


class OpenAIRequest(BaseModel):
    """What both OpenAI requests share; other parameters are kept to be checked."""

    model_config = ConfigDict(extra="allow")

    def unsupported(self) -> list[str]:
        """The parameters given that a student cannot honour (in their "on" values)."""
        extra = self.model_extra or {}
        return [
            name
            for name, off in UNSUPPORTED.items()
            if name in extra and not any(extra[name] == value for value in off)
        ]


class CompletionRequest(OpenAIRequest):
    """The OpenAI completions request; parameters a student cannot honour are refused."""

    model: str | None = None
    prompt: str | list[str]
    max_tokens: int | None = Field(default=None, ge=1, le=4096)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    n: int = Field(default=1, ge=1, le=1)
    stream: Literal[False] = False


class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: str = Field(min_length=1, max_length=MAX_INPUT_CHARS)


class ChatRequest(OpenAIRequest):
    model: str | None = None
    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_INPUTS)
    max_tokens: int | None = Field(default=None, ge=1, le=4096)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    n: int = Field(default=1, ge=1, le=1)
    stream: Literal[False] = False


def openai_response(id_prefix: str, kind: str, model: str, choices: list) -> dict[str, Any]:
    """An OpenAI-compatible response body around ``choices``."""
    return {
        "id": f"{id_prefix}-{uuid.uuid4().hex}",
        "object": kind,
        "created": int(time.time()),
        "model": model,
        "choices": choices,
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }


class InputError(ValueError):
    """One input of a request is not acceptable; the message says which and why."""


def _text_size(value: Any, where: str) -> int:
    """Characters of the text in a raw field: a string, a number, or lists of them nested to
    any depth, every one counted (walked without recursion, however deep)."""
    size, pending = 0, [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise InputError(f"{where} is not valid Unicode text (a lone surrogate?)") from None
            size += len(item)
        elif item is None or isinstance(item, (bool, int, float)):
            size += len(str(item))
        elif isinstance(item, list):
            size += 2 + len(item)  # an empty list, or one of empty lists, is not free either
            pending.extend(item)
        else:
            raise InputError(
                f"{where} is a {type(item).__name__}: give text, numbers or a list of them"
            )
    return size


def check_input(row: Any, number: int, predictor: Predictor, limits: ServeLimits) -> None:
    """Raise InputError when input ``number`` (from 1) is empty, too long, badly typed, not
    valid text, or lacks a field the task's input template needs."""
    where = f"input {number}"
    if isinstance(row, str):
        if not row.strip():
            raise InputError(f"{where}: inputs must not contain empty strings")
        size = _text_size(row, where)
    else:
        size = sum(_text_size(value, f"{where} field {key!r}") for key, value in row.items())
    if size > limits.max_input_chars:
        raise InputError(f"{where} is longer than {limits.max_input_chars} characters")
    try:
        predictor.format_input(row)
    except StepdistillError as error:
        raise InputError(f"{where}: {error}") from None


class LimitsMiddleware:
    """ASGI middleware: a body over ``max_body_bytes`` gets 413 before it is read whole; a
    request (its body's arrival included) past ``request_timeout`` seconds gets 503; a request
    whose client went away is given up (its inputs leave the queue); one still running when
    the server stops after its grace gets 503, not 500."""

    def __init__(self, app: Any, limits: ServeLimits, in_flight: set[asyncio.Task]) -> None:
        self.app = app
        self.limits = limits
        self.in_flight = in_flight

    async def error(self, send: Any, status: int, message: str) -> None:
        import json

        body = json.dumps({"detail": message}).encode()
        headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        timeout = self.limits.request_timeout
        task = asyncio.current_task()
        if task is not None:
            self.in_flight.add(task)
            task.add_done_callback(self.in_flight.discard)
        try:
            await asyncio.wait_for(self._handle(scope, receive, send), timeout)
        except asyncio.TimeoutError:
            if not scope.get("stepdistill.started"):
                await self.error(send, 503, f"the request took over {timeout:g} s")
        except asyncio.CancelledError:
            # only the server cancels a request, when it stops after its grace: the request
            # ends here, answered, rather than as a 500 with a traceback in the log
            if not scope.get("stepdistill.started"):
                await self.error(send, 503, "the server is shutting down; try again")

    async def _handle(self, scope: dict, receive: Any, send: Any) -> None:
        limit = self.limits.max_body_bytes
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await self.error(send, 413, f"the body is over {limit} bytes")
            return
        # the body is read here, counted as it arrives, before the app sees any of it
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > limit:
                await self.error(send, 413, f"the body is over {limit} bytes")
                return
        body = b"".join(chunks)
        delivered = False
        gone = asyncio.Event()

        async def replay() -> dict:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            await gone.wait()
            return {"type": "http.disconnect"}

        async def tracked_send(message: dict) -> None:
            if message["type"] == "http.response.start":
                scope["stepdistill.started"] = True
            await send(message)

        async def watch() -> None:
            # the server's receive answers "disconnect" once the client is gone (or the
            # answer is complete); the app hears of it through replay
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()

        answer = asyncio.ensure_future(self.app(scope, replay, tracked_send))
        watcher = asyncio.ensure_future(watch())
        try:
            await asyncio.wait({answer, watcher}, return_when=asyncio.FIRST_COMPLETED)
            if not answer.done() and not scope.get("stepdistill.started"):
                answer.cancel()  # the client is gone: nobody waits for this answer any more
                with contextlib.suppress(asyncio.CancelledError):
                    await answer
                return
            await answer
        finally:
            watcher.cancel()
            if not answer.done():
                answer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await answer


def check_api_key(key: str) -> None:
    """An API key must be printable ASCII without spaces: an HTTP header carries nothing else
    faithfully, so another key (or bytes that are not UTF-8 in its variable) could never match
    and every request would fail."""
    if not key or not (key.isascii() and key.isprintable()) or any(c.isspace() for c in key):
        raise StepdistillError(
            "the API key must be printable ASCII without spaces (an HTTP header cannot carry "
            "anything else); set the variable to such a token"
        )


def create_app(
    predictor: Predictor,
    *,
    limits: ServeLimits | None = None,
    api_key: str | None = None,
    max_batch: int | None = None,
    max_inputs: int | None = None,
) -> Any:
    """A FastAPI app serving ``predictor``. Bad requests get a 4xx with a message.

    Args:
        limits: Sizes and times a request may take (``ServeLimits``' defaults).
        api_key: Bearer token every endpoint but ``/health`` requires (compared in constant
            time); None: no key.
        max_batch, max_inputs: Shorthands that override those two limits.
    """
    limits = limits or ServeLimits()
    if api_key is not None:
        check_api_key(api_key)
    if max_batch is not None or max_inputs is not None:
        limits = ServeLimits(
            **{
                **limits.__dict__,
                "max_batch": max_batch or limits.max_batch,
                "max_inputs": max_inputs or limits.max_inputs,
            }
        )

    def run(inputs: list, options: tuple) -> list:
        rationale, score_labels = options
        return predictor.predict(inputs, rationale=rationale, score_labels=score_labels)

    batcher = MicroBatcher(run, max_batch=limits.max_batch, max_queued=limits.max_queued_inputs)
    in_flight: set[asyncio.Task] = set()  # the requests being answered

    @asynccontextmanager
    async def lifespan(app: Any):
        batcher.start()
        yield
        # the server stops: requests it cancelled after its grace answer 503 before it exits
        if in_flight:
            await asyncio.wait(set(in_flight), timeout=5)
        await batcher.stop()

    def authorized(request: Request) -> None:
        if api_key is None:
            return
        given = request.headers.get("authorization", "")
        scheme, _, token = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(), api_key.encode()):
            raise HTTPException(
                401, "a valid API key is required", headers={"WWW-Authenticate": "Bearer"}
            )

    # with a key, the schema is served behind it like every endpoint but /health (FastAPI's
    # own /openapi.json, /docs and /redoc would answer anyone)
    schema_url = None if api_key is not None else "/openapi.json"
    app = FastAPI(title="stepdistill", lifespan=lifespan, openapi_url=schema_url)
    guarded = [Depends(authorized)]
    if api_key is not None:

        @app.get("/openapi.json", dependencies=guarded, include_in_schema=False)
        async def schema() -> dict:
            return app.openapi()

    async def predict_rows(rows: list, rationale: bool = False, score_labels: bool = False) -> list:
        if len(rows) > limits.max_inputs:
            raise HTTPException(
                422, f"at most {limits.max_inputs} inputs per request, got {len(rows)}"
            )
        try:
            for number, row in enumerate(rows, start=1):
                check_input(row, number, predictor, limits)
        except InputError as error:
            raise HTTPException(422, str(error)) from None
        try:
            return await batcher.submit(rows, (rationale, score_labels))
        except QueueFull as error:
            raise HTTPException(
                503, f"the server is busy: {error}", headers={"Retry-After": "1"}
            ) from None
        except StepdistillError as error:
            raise HTTPException(400, str(error)) from None

    def check_parameters(request: OpenAIRequest) -> None:
        refused = request.unsupported()
        if refused:
            raise HTTPException(
                400,
                f"not supported by this server (a student answers with a label only): "
                f"{', '.join(refused)}",
            )

    def check_model(name: str | None) -> None:
        if name is not None and name != predictor.name:
            raise HTTPException(
                404, f"unknown model {name!r}; this server serves {predictor.name!r}"
            )

    @app.get("/health")
    async def health() -> dict:
        return {"status": "ok", "model": predictor.name, "task": predictor.task.name}

    @app.get("/v1/models", dependencies=guarded)
    async def models() -> dict:
        return {
            "object": "list",
            "data": [{"id": predictor.name, "object": "model", "owned_by": "stepdistill"}],
        }

    @app.post("/v1/predict", dependencies=guarded)
    async def predict(request: PredictRequest) -> dict:
        results = await predict_rows(request.inputs, request.rationale, request.score_labels)
        return {
            "model": predictor.name,
            "task": predictor.task.name,
            "predictions": [p.to_dict(rationale=request.rationale) for p in results],
        }

    @app.post("/v1/completions", dependencies=guarded)
    async def completions(request: CompletionRequest) -> dict:
        check_parameters(request)
        check_model(request.model)
        prompts = [request.prompt] if isinstance(request.prompt, str) else request.prompt
        if not prompts:
            raise HTTPException(422, "prompt must hold at least one text")
        results = await predict_rows(prompts)
        choices = [
            {"index": i, "text": p.label or "", "finish_reason": "stop", "logprobs": None}
            for i, p in enumerate(results)
        ]
        return openai_response("cmpl", "text_completion", predictor.name, choices)

    @app.post("/v1/chat/completions", dependencies=guarded)
    async def chat(request: ChatRequest) -> dict:
        check_parameters(request)
        check_model(request.model)
        users = [m.content for m in request.messages if m.role == "user"]
        if not users:
            raise HTTPException(422, "messages hold no user message")
        [result] = await predict_rows([users[-1]])
        message = {"role": "assistant", "content": result.label or ""}
        choices = [{"index": 0, "message": message, "finish_reason": "stop"}]
        return openai_response("chatcmpl", "chat.completion", predictor.name, choices)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Any, error: RequestValidationError) -> JSONResponse:
        # the errors without the input they quote: it may be huge, or not encodable text
        details = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")}
            for e in error.errors()
        ]
        return JSONResponse(status_code=422, content={"detail": details})

    @app.exception_handler(StepdistillError)
    async def library_error(_: Any, error: StepdistillError) -> JSONResponse:
        return JSONResponse(status_code=400, content={"detail": str(error)})

    app.add_middleware(LimitsMiddleware, limits=limits, in_flight=in_flight)
    return app
