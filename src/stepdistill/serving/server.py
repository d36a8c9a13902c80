"""Run the HTTP app with uvicorn, saying where it listens once it is ready."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import uvicorn


def http_address(host: str, port: int) -> str:
    """``http://host:port``, an IPv6 host in brackets."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class ReadyServer(uvicorn.Server):
    """A uvicorn server that prints its address and "ready" once its sockets are bound
    (uvicorn's own lines stay off, with its access log: one line a request is too many)."""

    def __init__(self, config: uvicorn.Config, model: Path) -> None:
        super().__init__(config)
        self.model = model

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


def serve(app: Any, *, host: str, port: int, model: Path) -> None:
    """Serve ``app`` until SIGTERM or Ctrl-C; uvicorn finishes the requests in flight before
    it exits, and closes idle and half-open connections after a few seconds."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=30,
        timeout_keep_alive=5,
    )
    ReadyServer(config, model).run()
