"""Run the HTTP app with uvicorn, saying where it listens once it is ready."""

from __future__ import annotations

import logging
import math
import sys
from pathlib import Path
from typing import Any

import uvicorn

from stepdistill.serving.connections import (
    FLOODED_LOGGERS,
    FloodFilter,
    GuardedConfig,
    connection_cap,
)
from stepdistill.serving.limits import ServeLimits


def http_address(host: str, port: int) -> str:
    """``http://host:port``, an IPv6 host in brackets."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class ReadyServer(uvicorn.Server):
    """A uvicorn server that prints its address and "ready" once its sockets are bound
    (uvicorn's own lines stay off, with its access log: one line a request is too many)."""

    def __init__(self, config: uvicorn.Config, model: Path) -> None:
        super().__init__(config)
        self.model = model

    def run(self, sockets: Any = None) -> None:
        """Serve until stopped, with error logs that a flood of bad connections cannot fill."""
        flood = FloodFilter()
        for name in FLOODED_LOGGERS:
            logging.getLogger(name).addFilter(flood)
        try:
            super().run(sockets=sockets)
        finally:
            for name in FLOODED_LOGGERS:
                logging.getLogger(name).removeFilter(flood)

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets=sockets)
        if not self.started:
            return
        host, port = self.servers[0].sockets[0].getsockname()[:2]
        print(
            f"stepdistill: serving {self.model} at {http_address(host, port)} (POST /v1/predict, "
            "/v1/chat/completions; GET /health): ready",
            file=sys.stderr,
            flush=True,
        )


def make_server(
    app: Any, *, host: str, port: int, model: Path, limits: ServeLimits | None = None
) -> ReadyServer:
    """A server for ``app`` that holds connections to ``limits``' header deadline, keep-alive
    timeout and connection cap (the cap lowered to fit under the file-descriptor limit); on
    SIGTERM the requests in flight may take ``limits.grace`` seconds more, then each gets 503."""
    limits = limits or ServeLimits()
    cap = connection_cap(limits.max_connections)
    if cap < limits.max_connections:
        print(
            f"stepdistill: at most {cap} connections at once (the file-descriptor limit; "
            "raise it with `ulimit -n` for more)",
            file=sys.stderr,
            flush=True,
        )
    config = GuardedConfig(
        app,
        host=host,
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=math.ceil(limits.grace),
        timeout_keep_alive=math.ceil(limits.keep_alive),
        header_timeout=limits.header_timeout,
        max_connections=cap,
    )
    return ReadyServer(config, model)


def serve(
    app: Any, *, host: str, port: int, model: Path, limits: ServeLimits | None = None
) -> None:
    """Serve ``app`` (``make_server``) until SIGTERM or Ctrl-C."""
    make_server(app, host=host, port=port, model=model, limits=limits).run()
