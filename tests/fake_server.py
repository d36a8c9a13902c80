"""`python tests/fake_server.py PORT DELAY [SERVE OPTION=VALUE ...]`: the real `serve` path
(uvicorn, connection guards, app, signal handling) in its own process around a FakePredictor
that takes DELAY seconds a batch, for tests that need a process of their own (SIGTERM)."""

import sys
from pathlib import Path

from servers import FakePredictor
from stepdistill.serving import ServeLimits, create_app, serve

if __name__ == "__main__":
    port, delay, *options = sys.argv[1:]
    limits = ServeLimits(
        **{name: float(value) for name, value in (option.split("=") for option in options)}
    )
    app = create_app(FakePredictor(delay=float(delay)), limits=limits)
    serve(app, host="127.0.0.1", port=int(port), model=Path("fake"), limits=limits)
