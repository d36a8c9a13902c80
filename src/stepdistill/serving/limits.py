"""The limits of ``stepdistill serve`` (its options): sizes and times one request may take."""

from __future__ import annotations

from dataclasses import dataclass, fields

from stepdistill.settings import check_settings, setting

MAX_INPUTS = 64
MAX_INPUT_CHARS = 8000


@dataclass(frozen=True)
class ServeLimits:
    """What one request may hold and how long it may take (``serve``'s options)."""

    max_inputs: int = setting(MAX_INPUTS, "inputs one request may hold")
    max_input_chars: int = setting(
        MAX_INPUT_CHARS,
        "characters of one input: its text, or all the text of a row of raw fields together",
    )
    max_body_bytes: int = setting(
        1_048_576, "bytes of a request body; a larger one gets 413 before it is read"
    )
    max_queued_inputs: int = setting(
        1024, "inputs waiting or running at once; beyond, 503 with Retry-After"
    )
    request_timeout: float = setting(
        60.0, "seconds a request may take, its body's arrival included; then 503"
    )
    max_batch: int = setting(32, "inputs run through the model together", alias="--max-batch-size")
    header_timeout: float = setting(
        10.0,
        "seconds a request's headers may take to arrive, from the connection's start or the "
        "previous answer (a request's body is under request_timeout); then the connection closes",
    )
    keep_alive: float = setting(5.0, "seconds an idle connection stays open between requests")
    max_connections: int = setting(
        1000,
        "connections open at once, lowered to fit under the process's file-descriptor limit; "
        "beyond, a new connection closes the oldest one that has no request running, or gets 503",
    )
    shutdown_grace: float | None = setting(
        None,
        "seconds the requests in flight at SIGTERM may still take, then each gets 503 "
        "(None: request_timeout + 5, so that every request in time finishes)",
    )

    def __post_init__(self) -> None:
        check_settings(self)
        for config_field in fields(self):
            value = getattr(self, config_field.name)
            if value is not None and value <= 0:
                raise ValueError(f"{config_field.name} must be above 0")

    @property
    def grace(self) -> float:
        """Seconds the requests in flight at SIGTERM may still take."""
        return self.shutdown_grace or self.request_timeout + 5
