"""The HTTP client under the OpenAI teacher: a completion is read with a byte cap and
inflated with one, and a request that carries a prompt follows only redirects to the same
origin that keep its method and body (307, 308). Needs the ``openai`` extra."""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

import openai

from stepdistill.errors import StepdistillError

# bytes a completion body may take for each token it may hold (a token escaped in JSON takes
# at most a few dozen), above a floor for the body's envelope
BYTES_PER_TOKEN = 64
ENVELOPE_BYTES = 65_536
MAX_REDIRECTS = 5
KEEP_BODY = frozenset({307, 308})  # the redirects that resend the method and body
WITHOUT_BODY = frozenset({"GET", "HEAD", "OPTIONS"})

_cap: ContextVar[int | None] = ContextVar("stepdistill_response_cap", default=None)

# the encodings a capped body may come in, each with its decompressor (what the request asks
# for, so that no other arrives)
DECOMPRESSORS: dict[str, Callable[[], Any]] = {
    "gzip": lambda: zlib.decompressobj(16 + zlib.MAX_WBITS),
    "x-gzip": lambda: zlib.decompressobj(16 + zlib.MAX_WBITS),
    "deflate": lambda: zlib.decompressobj(),
}


class AttemptFailed(StepdistillError):
    """An answer this client will not take: a failed attempt, tried again when ``retried``."""

    retried = True


class ResponseTooLarge(AttemptFailed):
    """A body larger than the request can need (another attempt may answer in bounds)."""


class RedirectRefused(AttemptFailed):
    """A redirect that would send the prompt elsewhere, or drop it (the same every time)."""

    retried = False


def attempt_failure(error: BaseException) -> AttemptFailed | None:
    """The ``AttemptFailed`` that ``error`` wraps (some openai versions wrap any error of
    the client in their connection error), if any."""
    cause = error.__cause__
    return cause if isinstance(cause, AttemptFailed) else None


def completion_cap(max_tokens: int) -> int:
    """Bytes a completion body of at most ``max_tokens`` tokens may take, with a wide margin
    (100 MB for ``max_tokens`` 256 is a server gone wrong, never an answer)."""
    return ENVELOPE_BYTES + BYTES_PER_TOKEN * max_tokens


@contextlib.contextmanager
def capped(limit: int) -> Iterator[None]:
    """Responses to requests sent within (in this task) are read with at most ``limit``
    bytes, on the wire and inflated; others (batch files) are not capped."""
    token = _cap.set(limit)
    try:
        yield
    finally:
        _cap.reset(token)


def inflate(raw: bytes, encoding: str, limit: int) -> bytes:
    """``raw`` decoded from ``encoding`` (``identity``, gzip, deflate), at most ``limit``
    bytes of it."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return raw
    if encoding not in DECOMPRESSORS:
        raise StepdistillError(f"the response came in an encoding not asked for: {encoding!r}")
    try:
        body = DECOMPRESSORS[encoding]().decompress(raw, limit + 1)
    except zlib.error:
        if encoding != "deflate":
            raise
        body = zlib.decompressobj(-zlib.MAX_WBITS).decompress(raw, limit + 1)  # raw deflate
    if len(body) > limit:
        raise ResponseTooLarge(f"the response inflates to over {limit} bytes")
    return body


def same_origin(first: Any, second: Any) -> bool:
    return (first.scheme, first.host, first.port) == (second.scheme, second.host, second.port)


class GuardedHttpClient(openai.DefaultAsyncHttpxClient):
    """openai's default async client, with the caps and the redirect rule of this module."""

    async def send(self, request: Any, *, stream: bool = False, **options: Any) -> Any:
        limit = _cap.get()
        if limit is not None:
            request.headers["accept-encoding"] = ", ".join(DECOMPRESSORS)
        if request.method in WITHOUT_BODY:  # nothing of a prompt to send elsewhere: as usual
            response = await super().send(request, stream=stream or limit is not None, **options)
        else:
            response = await self._send_following_own_origin(request, options)
        if limit is None:
            if not stream:
                await response.aread()
            return response
        try:
            body = await self._read(response, limit)
        finally:
            await response.aclose()
        headers = [
            (name, value)
            for name, value in response.headers.items()
            if name.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        ]
        return type(response)(
            response.status_code, headers=headers, content=body, request=response.request
        )

    async def _send_following_own_origin(self, request: Any, options: dict) -> Any:
        options = {**options, "follow_redirects": False}
        for _ in range(MAX_REDIRECTS + 1):
            response = await super().send(request, stream=True, **options)
            if not response.has_redirect_location:
                return response
            target = request.url.join(response.headers["location"])
            await response.aclose()
            if response.status_code not in KEEP_BODY or not same_origin(target, request.url):
                raise RedirectRefused(
                    f"HTTP {response.status_code} redirect to {target.copy_with(query=None)} "
                    "refused: it would send the prompt elsewhere or drop it; set base_url to "
                    "the address that answers"
                )
            request = type(request)(
                request.method,
                target,
                headers=request.headers,
                stream=request.stream,
                extensions=request.extensions,
            )
        raise RedirectRefused(f"more than {MAX_REDIRECTS} redirects")

    @staticmethod
    async def _read(response: Any, limit: int) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise ResponseTooLarge(f"the response declares {declared} bytes (at most {limit})")
        chunks, size = [], 0
        async for chunk in response.aiter_raw():
            size += len(chunk)
            if size > limit:
                raise ResponseTooLarge(f"the response is over {limit} bytes")
            chunks.append(chunk)
        return inflate(b"".join(chunks), response.headers.get("content-encoding", ""), limit)
