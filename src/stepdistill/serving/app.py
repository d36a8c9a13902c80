"""The HTTP API: label prediction, OpenAI-compatible completions, health."""

from __future__ import annotations

import time
import uuid
from contextlib import asynccontextmanager
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from stepdistill.errors import StepdistillError
from stepdistill.models.batcher import MicroBatcher
from stepdistill.serving.predictor import Predictor

MAX_INPUTS = 64
MAX_INPUT_CHARS = 8000


class PredictRequest(BaseModel):
    """``POST /v1/predict``: task inputs (text, or the task's raw fields)."""

    model_config = ConfigDict(extra="forbid")
    inputs: list[str | dict[str, Any]] = Field(min_length=1)
    rationale: bool = False
    score_labels: bool = False


class CompletionRequest(BaseModel):
    model: str | None = None
    prompt: str | list[str]
    max_tokens: int | None = None


class ChatMessage(BaseModel):
    role: str
    content: str = Field(min_length=1, max_length=MAX_INPUT_CHARS)


class ChatRequest(BaseModel):
    model: str | None = None
    messages: list[ChatMessage] = Field(min_length=1)
    max_tokens: int | None = None


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


def create_app(predictor: Predictor, *, max_batch: int = 32, max_inputs: int = MAX_INPUTS) -> Any:
    """A FastAPI app serving ``predictor``. Bad requests get a 4xx with a message."""
    from fastapi import FastAPI, HTTPException
    from fastapi.responses import JSONResponse

    def run(inputs: list, options: tuple) -> list:
        rationale, score_labels = options
        return predictor.predict(inputs, rationale=rationale, score_labels=score_labels)

    batcher = MicroBatcher(run, max_batch=max_batch)

    @asynccontextmanager
    async def lifespan(app: Any):
        batcher.start()
        yield
        await batcher.stop()

    app = FastAPI(title="stepdistill", lifespan=lifespan)

    async def predict_rows(rows: list, rationale: bool = False, score_labels: bool = False) -> list:
        if len(rows) > max_inputs:
            raise HTTPException(422, f"at most {max_inputs} inputs per request, got {len(rows)}")
        for row in rows:
            if isinstance(row, str) and not row.strip():
                raise HTTPException(422, "inputs must not contain empty strings")
            if isinstance(row, str) and len(row) > MAX_INPUT_CHARS:
                raise HTTPException(422, f"an input is longer than {MAX_INPUT_CHARS} characters")
            if isinstance(row, dict):
                try:
                    predictor.format_input(row)
                except StepdistillError as error:
                    raise HTTPException(422, str(error)) from None
        try:
            return await batcher.submit(rows, (rationale, score_labels))
        except StepdistillError as error:
            raise HTTPException(400, str(error)) from None

    @app.get("/health")
    async def health() -> dict:
        return {"status": "ok", "model": predictor.name, "task": predictor.task.name}

    @app.get("/v1/models")
    async def models() -> dict:
        return {
            "object": "list",
            "data": [{"id": predictor.name, "object": "model", "owned_by": "stepdistill"}],
        }

    @app.post("/v1/predict")
    async def predict(request: PredictRequest) -> dict:
        results = await predict_rows(request.inputs, request.rationale, request.score_labels)
        return {
            "model": predictor.name,
            "task": predictor.task.name,
            "predictions": [p.to_dict(rationale=request.rationale) for p in results],
        }

    @app.post("/v1/completions")
    async def completions(request: CompletionRequest) -> dict:
        prompts = [request.prompt] if isinstance(request.prompt, str) else request.prompt
        if not prompts:
            raise HTTPException(422, "prompt must hold at least one text")
        results = await predict_rows(prompts)
        choices = [
            {"index": i, "text": p.label or "", "finish_reason": "stop", "logprobs": None}
            for i, p in enumerate(results)
        ]
        return openai_response("cmpl", "text_completion", predictor.name, choices)

    @app.post("/v1/chat/completions")
    async def chat(request: ChatRequest) -> dict:
        users = [m.content for m in request.messages if m.role == "user"]
        if not users:
            raise HTTPException(422, "messages hold no user message")
        [result] = await predict_rows([users[-1]])
        message = {"role": "assistant", "content": result.label or ""}
        choices = [{"index": 0, "message": message, "finish_reason": "stop"}]
        return openai_response("chatcmpl", "chat.completion", predictor.name, choices)

    @app.exception_handler(StepdistillError)
    async def library_error(_: Any, error: StepdistillError) -> JSONResponse:
        return JSONResponse(status_code=400, content={"detail": str(error)})

    return app
