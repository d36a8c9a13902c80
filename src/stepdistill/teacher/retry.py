"""Exponential backoff with jitter that honours Retry-After."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from time import time


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait between attempts.

    Attributes:
        max_attempts: Attempts per request, the first included.
        base_delay: Delay before the second attempt, in seconds; doubled each attempt.
        max_delay: Ceiling of any delay, Retry-After included.
        timeout: Seconds one attempt may take.
    """

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 60.0
    timeout: float = 120.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if self.base_delay < 0 or self.max_delay < 0 or self.timeout <= 0:
            raise ValueError("delays must be >= 0 and the timeout > 0")

    def delay(
        self, attempt: int, retry_after: float | None = None, rng: random.Random | None = None
    ) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based).

        A server's Retry-After wins (capped at ``max_delay``); otherwise "equal jitter":
        half the exponential delay plus a random part of the other half, so that many
        clients that failed together do not retry together.
        """
        if retry_after is not None and math.isfinite(retry_after):
            return min(max(retry_after, 0.0), self.max_delay)
        exponential = min(self.base_delay * 2 ** (attempt - 1), self.max_delay)
        return exponential / 2 + (rng or random).uniform(0, exponential / 2)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header: a number of seconds or an HTTP date; None (so the
    usual backoff) for anything else, ``nan`` and ``inf`` included (``nan`` would retry at
    once)."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if math.isfinite(seconds) else None
    try:
        return max(parsedate_to_datetime(value).timestamp() - time(), 0.0)
    except (TypeError, ValueError):
        return None
