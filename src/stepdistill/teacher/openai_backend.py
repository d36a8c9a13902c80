"""OpenAI-compatible HTTP teachers (OpenAI, vLLM, Ollama, llama.cpp's server, TGI, ...)."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from stepdistill.errors import StepdistillError
from stepdistill.teacher.base import Completion, TeacherRequest, Usage, checked_usage
from stepdistill.teacher.retry import RetryPolicy, parse_retry_after

logger = logging.getLogger(__name__)

ENDPOINTS = ("chat", "completions")
PATHS = {"chat": "chat/completions", "completions": "completions"}
RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


def _secrets(api_key: str | None, base_url: str | None) -> list[str]:
    """What must never be written: the key, the URL's password, and the Basic credentials
    that the password travels as."""
    secrets = [api_key] if api_key else []
    parts = urlsplit(base_url) if base_url else None
    if parts is not None and parts.password:
        credentials = f"{unquote(parts.username or '')}:{unquote(parts.password)}"
        secrets += [parts.password, base64.b64encode(credentials.encode()).decode()]
    return sorted(secrets, key=len, reverse=True)  # longest first: no half-replaced secret


def without_credentials(url: str | None) -> str | None:
    """``url`` with any ``user:password@`` taken out (so that it can be stored and logged)."""
    if not url:
        return url
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class OpenAITeacher:
    """A model behind an OpenAI-compatible API, called through the ``openai`` package.

    Args:
        model: Model name the server knows.
        base_url: API root, for example ``http://127.0.0.1:8080/v1``; None for OpenAI's.
        endpoint: ``chat`` (``/chat/completions``) or ``completions``.
        api_key_env: Environment variable holding the key. The key is read from there only,
            and is never logged, cached or written.
        retry: Attempts, backoff and per-attempt timeout. The client's own retries are off:
            this class retries 429, 5xx, time-outs, connection errors and unreadable bodies,
            and honours Retry-After.
    """

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        endpoint: str = "chat",
        api_key_env: str = "OPENAI_API_KEY",
        retry: RetryPolicy | None = None,
        sleep: Any = asyncio.sleep,
    ) -> None:
        try:
            import openai
        except ImportError:
            raise StepdistillError(
                "the openai teacher needs the openai package: pip install 'stepdistill[openai]'"
            ) from None
        if endpoint not in ENDPOINTS:
            raise StepdistillError(f"endpoint must be one of {ENDPOINTS}, got {endpoint!r}")
        self.model = model
        self.base_url = base_url
        self.endpoint = endpoint
        self.retry = retry or RetryPolicy()
        self.name = f"openai:{model}"
        self._sleep = sleep
        self._usage_warned = False
        self._openai = openai
        # Local servers ignore the key, but the client insists on one.
        api_key = os.environ.get(api_key_env) or "no-key"
        self._secrets = _secrets(os.environ.get(api_key_env), base_url)
        import stepdistill.teacher.http_client as http_client  # needs openai, checked above

        self._http = http_client
        self._client = openai.AsyncOpenAI(
            base_url=base_url,
            api_key=api_key,
            max_retries=0,
            timeout=self.retry.timeout,
            http_client=http_client.GuardedHttpClient(timeout=self.retry.timeout),
        )

    def identity(self) -> dict[str, Any]:
        return {
            "backend": "openai",
            "model": self.model,
            "endpoint": self.endpoint,
            "base_url": without_credentials(self.base_url),
        }

    def scrub(self, text: str) -> str:
        """``text`` without the key or the URL's password (a server may echo either back)."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    @property
    def path(self) -> str:
        """The API path its requests go to (``/v1/chat/completions`` in a batch file)."""
        return f"/v1/{PATHS[self.endpoint]}"

    def body(self, request: TeacherRequest) -> dict[str, Any]:
        """The JSON body this teacher sends for ``request`` (online, and in a batch file)."""
        settings = request.settings
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": settings.max_tokens,
            "temperature": settings.temperature,
            "top_p": settings.top_p,
        }
        if settings.stop:
            body["stop"] = list(settings.stop[:4])  # the API takes at most four
        if self.endpoint == "chat":
            body["messages"] = request.message_list or [
                {"role": "user", "content": request.prompt or ""}
            ]
        else:
            body["prompt"] = request.prompt or "\n\n".join(
                message["content"] for message in request.message_list
            )
        return body

    def answer_of(self, data: Any, request: TeacherRequest) -> tuple[str, Usage]:
        """The text and token usage of a completion's JSON body (a usage that is absent or
        implausible for ``request`` counts as the request's ceiling, with a warning).

        Raises:
            ValueError, KeyError, TypeError, IndexError: the body is not a completion.
        """
        choice = data["choices"][0]
        text = choice["message"]["content"] if self.endpoint == "chat" else choice["text"]
        if not isinstance(text, str):
            raise ValueError("the response holds no text")
        prompt_chars = len(request.prompt or "") + sum(
            len(message["content"]) for message in request.message_list
        )
        usage, believed = checked_usage(
            data.get("usage"), prompt_chars, request.settings.max_tokens
        )
        if not believed and not self._usage_warned:
            self._usage_warned = True
            logger.warning(
                "%s: the server's token usage is missing or implausible (%s); such requests "
                "are counted at their ceiling (estimated prompt tokens, max_tokens) for the "
                "cost and the budget",
                self.name,
                str(data.get("usage"))[:80],
            )
        return text, usage

    async def _call(self, request: TeacherRequest) -> tuple[str, Usage]:
        # The client's low-level post: the same HTTP, headers, auth and errors as
        # ``chat.completions.create``, without its per-call parameter transform and response
        # model validation, which cost about a millisecond of CPU a request (a tenth of the
        # throughput at concurrency 16 on two cores).
        try:
            with self._http.capped(self._http.completion_cap(request.settings.max_tokens)):
                data: Any = await self._client.post(
                    f"/{PATHS[self.endpoint]}", body=self.body(request), cast_to=object
                )
        except self._openai.APIConnectionError as error:
            refused = self._http.attempt_failure(
                error
            )  # some openai versions wrap the client's errors
            if refused is None:
                raise
            raise refused from None
        return self.answer_of(data, request)

    @property
    def client(self) -> Any:
        """The ``openai.AsyncOpenAI`` client (its files and batches calls run batch jobs)."""
        return self._client

    async def complete(self, request: TeacherRequest) -> Completion:
        """One completion, retried as the policy says; a final failure comes back as data."""
        openai = self._openai
        error = "not attempted"
        for attempt in range(1, self.retry.max_attempts + 1):
            retry_after = None
            try:
                # the deadline bounds the whole attempt, not only the gap between reads: a
                # server trickling a byte at a time cannot hold a request open
                text, usage = await asyncio.wait_for(self._call(request), self.retry.timeout)
                return Completion(text=text, usage=usage, attempts=attempt)
            except self._http.AttemptFailed as refused:  # too large a body, a redirect elsewhere
                error = str(refused)
                if not refused.retried:
                    return Completion(text=None, error=self.scrub(error), attempts=attempt)
            except (openai.APITimeoutError, asyncio.TimeoutError):
                error = f"timed out after {self.retry.timeout:g} s"
            except openai.APIStatusError as status_error:
                error = f"HTTP {status_error.status_code}: {str(status_error.message)[:200]}"
                if status_error.status_code not in RETRY_STATUSES:
                    return Completion(text=None, error=self.scrub(error), attempts=attempt)
                headers = getattr(status_error.response, "headers", None) or {}
                retry_after = parse_retry_after(headers.get("retry-after"))
            except openai.APIConnectionError as connection_error:
                error = f"connection error: {connection_error}"
            except Exception as bad_body:  # a 200 with a body that is not a completion
                error = f"unreadable response: {type(bad_body).__name__}: {str(bad_body)[:200]}"
            error = self.scrub(error)
            if attempt < self.retry.max_attempts:
                delay = self.retry.delay(attempt, retry_after)
                logger.debug("attempt %d failed (%s); retrying in %.2f s", attempt, error, delay)
                await self._sleep(delay)
        return Completion(text=None, error=error, attempts=self.retry.max_attempts)

    async def aclose(self) -> None:
        await self._client.close()
