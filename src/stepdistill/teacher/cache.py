"""A SQLite (WAL) cache of completed teacher requests, committed one completion at a time,
so that a killed run loses nothing it already paid for."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from stepdistill.data.io import disk_full
from stepdistill.errors import StepdistillError
from stepdistill.teacher.base import Completion, Usage

_SCHEMA = """
CREATE TABLE IF NOT EXISTS completions (
    key TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    request TEXT NOT NULL,
    created REAL NOT NULL
)
"""


# Another process holding the write lock is waited for (SQLite's own busy wait), then retried
# with backoff: a completion that was paid for is never dropped because the file was busy.
BUSY_TIMEOUT = 30.0
BUSY_RETRIES = 4
BUSY_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})
RESUMES = "every answer already in the cache is kept, and a rerun sends only the rest"


def _primary_code(error: sqlite3.Error) -> int | None:
    """SQLite's primary result code of ``error`` (None before Python 3.11)."""
    code = getattr(error, "sqlite_errorcode", None)
    return None if code is None else code & 0xFF


class CompletionCache:
    """Completed requests by key. Failed requests are not stored: a rerun asks them again.

    Raises:
        StepdistillError: the cache file cannot be created or opened (its folder is not
            writable, or it is not an SQLite file), or stays locked by another process.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT
            )
            self._retrying(lambda: self._db.execute("PRAGMA journal_mode=WAL"))
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._retrying(lambda: self._db.execute(_SCHEMA))
        except (OSError, sqlite3.DatabaseError) as error:
            raise StepdistillError(f"cache {self.path}: {error}") from None

    def _retrying(self, operation: Any) -> Any:
        """Run ``operation``; while the database is locked, wait (doubling) and try again; a
        full device is one ``DiskFull`` line."""
        delay = 0.5
        for attempt in range(BUSY_RETRIES):
            try:
                return operation()
            except sqlite3.OperationalError as error:
                code = _primary_code(error)
                if code == sqlite3.SQLITE_FULL:
                    raise disk_full(self.path.parent, RESUMES) from error
                if code not in BUSY_CODES:
                    raise
                if attempt == BUSY_RETRIES - 1:
                    raise StepdistillError(
                        f"cache {self.path} stayed locked by another process: {error}"
                    ) from None
                time.sleep(delay)
                delay *= 2

    def get(self, key: str) -> Completion | None:
        query = "SELECT text, prompt_tokens, completion_tokens FROM completions WHERE key = ?"
        row = self._retrying(lambda: self._db.execute(query, (key,)).fetchone())
        if row is None:
            return None
        return Completion(text=row[0], usage=Usage(row[1], row[2]), attempts=0, cached=True)

    def put(self, key: str, completion: Completion, request_summary: dict) -> None:
        """Store a successful completion and commit it at once."""
        if not completion.ok:
            return
        row = (
            key,
            completion.text,
            completion.usage.prompt_tokens,
            completion.usage.completion_tokens,
            json.dumps(request_summary, ensure_ascii=False),
            time.time(),
        )
        self._retrying(
            lambda: self._db.execute(
                "INSERT OR REPLACE INTO completions VALUES (?, ?, ?, ?, ?, ?)", row
            )
        )

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM completions").fetchone()[0]

    def keys(self) -> set[str]:
        return {row[0] for row in self._db.execute("SELECT key FROM completions")}

    def close(self) -> None:
        self._db.close()
