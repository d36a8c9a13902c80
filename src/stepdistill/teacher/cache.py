"""A SQLite (WAL) cache of completed teacher requests, committed one completion at a time,
so that a killed run loses nothing it already paid for."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

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


class CompletionCache:
    """Completed requests by key. Failed requests are not stored: a rerun asks them again."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)

    def get(self, key: str) -> Completion | None:
        row = self._db.execute(
            "SELECT text, prompt_tokens, completion_tokens FROM completions WHERE key = ?", (key,)
        ).fetchone()
        if row is None:
            return None
        return Completion(text=row[0], usage=Usage(row[1], row[2]), attempts=0, cached=True)

    def put(self, key: str, completion: Completion, request_summary: dict) -> None:
        """Store a successful completion and commit it at once."""
        if not completion.ok:
            return
        self._db.execute(
            "INSERT OR REPLACE INTO completions VALUES (?, ?, ?, ?, ?, ?)",
            (
                key,
                completion.text,
                completion.usage.prompt_tokens,
                completion.usage.completion_tokens,
                json.dumps(request_summary, ensure_ascii=False),
                time.time(),
            ),
        )

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM completions").fetchone()[0]

    def keys(self) -> set[str]:
        return {row[0] for row in self._db.execute("SELECT key FROM completions")}

    def close(self) -> None:
        self._db.close()
