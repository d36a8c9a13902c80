"""Connections that never finish cannot hold the server: a deadline for a request's headers, a
cap on open connections below the file-descriptor limit, and error logs that a flood cannot
fill (uvicorn has the idle keep-alive timeout, but no header deadline and no connection cap
that keeps descriptors free)."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from pathlib import Path
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

# connections the event loop may accept in one go, before any of them is seen (and turned
# away): the listening socket's backlog, kept that small so the cap leaves it room
BACKLOG = 128
SPARE_DESCRIPTORS = 32  # model files, logs, the worker thread's own
BUSY = b"HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"


def connection_cap(requested: int) -> int:
    """``requested``, lowered so that that many connections (and one accept burst) fit
    under this process's file-descriptor limit with the descriptors already open."""
    try:
        import resource
    except ImportError:  # not on POSIX: no such limit to fit under
        return requested
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return requested
    open_now = Path("/proc/self/fd")
    in_use = len(os.listdir(open_now)) if open_now.is_dir() else 64
    return max(1, min(requested, soft - in_use - BACKLOG - SPARE_DESCRIPTORS))


class GuardedConfig(uvicorn.Config):
    """uvicorn's config with the limits ``GuardedProtocol`` enforces."""

    def __init__(self, app: Any, *, header_timeout: float, max_connections: int, **options: Any):
        super().__init__(app, http=GuardedProtocol, backlog=BACKLOG, **options)
        self.header_timeout = header_timeout
        self.max_connections = max_connections


class GuardedProtocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, and: a request's headers must arrive within
    ``header_timeout`` seconds of the connection's start (or of the previous answer), however
    slowly they trickle in; at ``max_connections`` a new connection closes the one that has
    waited longest without a request running, or, when every one is running a request, is
    answered 503 and closed."""

    config: GuardedConfig

    def __init__(self, config: uvicorn.Config, **options: Any) -> None:
        super().__init__(config, **options)
        self.header_deadline: asyncio.TimerHandle | None = None
        self.waiting_since = time.monotonic()

    @property
    def waiting(self) -> bool:
        """No request of this connection is running: it waits for headers, or idles."""
        return self.cycle is None or self.cycle.response_complete

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        full = len(self.connections) >= self.config.max_connections
        super().connection_made(transport)
        if full and not self._close_longest_waiting():
            transport.write(BUSY)
            transport.close()
            return
        self._await_headers()

    def _close_longest_waiting(self) -> bool:
        waiting = [
            connection
            for connection in self.connections
            if isinstance(connection, GuardedProtocol)
            and connection is not self
            and connection.waiting
            and not connection.transport.is_closing()
        ]
        if not waiting:
            return False
        min(waiting, key=lambda connection: connection.waiting_since).transport.close()
        return True

    def _await_headers(self) -> None:
        self._stop_deadline()
        self.waiting_since = time.monotonic()
        self.header_deadline = self.loop.call_later(self.config.header_timeout, self._too_slow)

    def _stop_deadline(self) -> None:
        if self.header_deadline is not None:
            self.header_deadline.cancel()
            self.header_deadline = None

    def _too_slow(self) -> None:
        self.header_deadline = None
        if self.waiting and not self.transport.is_closing():
            self.transport.close()

    def handle_events(self) -> None:
        cycle = self.cycle
        super().handle_events()
        if self.cycle is not cycle:  # a request's headers arrived whole
            self._stop_deadline()

    def on_response_complete(self) -> None:
        # the next request's headers are under the same deadline (set first: a pipelined
        # request that the parent starts at once stops it again)
        if not self.transport.is_closing():
            self._await_headers()
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_deadline()
        super().connection_lost(exc)


class FloodFilter(logging.Filter):
    """Lets one record of a kind through every ``interval`` seconds and counts the rest, so
    that a flood (accept errors at the descriptor limit, malformed requests) leaves a few
    lines, each saying how many like it were left out. A kind: the logger, and the
    exception's type or else the message's template."""

    def __init__(self, interval: float = 10.0) -> None:
        super().__init__()
        self.interval = interval
        self.last: dict[tuple, float] = {}
        self.left_out: dict[tuple, int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        kind = (record.name, type(error).__name__ if error is not None else str(record.msg))
        now = time.monotonic()
        if now - self.last.get(kind, -self.interval) < self.interval:
            self.left_out[kind] = self.left_out.get(kind, 0) + 1
            return False
        self.last[kind] = now
        count = self.left_out.pop(kind, 0)
        if count:
            record.msg = f"{record.msg} ({count} more like this left out of the log)"
        return True


FLOODED_LOGGERS = ("asyncio", "uvicorn.error")
