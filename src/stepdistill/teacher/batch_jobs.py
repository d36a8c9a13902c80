"""Provider batch jobs (OpenAI's Batch API and the providers that copy it): the requests the
cache cannot answer are uploaded as batch input files, submitted, polled with backoff and read
back into the cache. Every batch is recorded beside the output as it is made, so that a killed
run, started again, resumes polling the same batches and never submits one twice."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from stepdistill.data.io import write_json
from stepdistill.errors import BudgetReached, StepdistillError
from stepdistill.teacher.base import CHARS_PER_TOKEN, Completion, Usage
from stepdistill.teacher.batch_files import (
    BatchTeacher,
    Results,
    custom_ids,
    request_lines,
    split_lines,
    write_lines,
)
from stepdistill.teacher.cache import CompletionCache
from stepdistill.teacher.runner import Budget, Pending, RunStats, Unanswered

logger = logging.getLogger(__name__)

FINISHED = frozenset({"completed", "expired", "cancelled", "failed"})
METADATA_KEY = "stepdistill_input"  # marks a batch as this tool's (with its input file id)
FIRST_POLL = 1.0  # seconds; doubled after every poll up to ``BatchLimits.poll_seconds``


class BatchIncomplete(StepdistillError):
    """A batch ended (expired, failed, cancelled) with requests unanswered; the answered ones
    are cached, and the same command sends the rest again."""


@dataclass(frozen=True)
class BatchLimits:
    """The provider's per-batch limits (OpenAI's by default) and how often to poll.

    Attributes:
        max_requests: Requests in one batch; more are split over several.
        max_bytes: Bytes of one batch input file.
        window: The completion window asked for.
        poll_seconds: The longest wait between two polls (backoff from one second).
    """

    max_requests: int = 50_000
    max_bytes: int = 200 * 1024 * 1024
    window: str = "24h"
    poll_seconds: float = 60.0


def request_ceiling(teacher: BatchTeacher, pending: Sequence[Pending]) -> Usage:
    """The most tokens ``pending`` can use: their prompts (estimated from their length) and
    every completion at its ``max_tokens``."""
    prompt_chars = sum(len(json.dumps(teacher.body(item.request))) for item in pending)
    completion = sum(item.request.settings.max_tokens for item in pending)
    return Usage(prompt_chars // CHARS_PER_TOKEN, completion)


class BatchState:
    """The batches of one output: ``state.json`` in ``folder`` (one entry per batch, written
    before each step that creates something at the provider) and each batch's input file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.file = folder / "state.json"
        self.entries: list[dict[str, Any]] = []
        self._ids: dict[str, set[str]] = {}  # input file -> its custom ids, read once
        if self.file.is_file():
            try:
                self.entries = json.loads(self.file.read_text(encoding="utf-8"))["batches"]
            except (ValueError, KeyError, TypeError):
                raise StepdistillError(
                    f"{self.file} is not a batch state file; move it away to start over (its "
                    "batches would be submitted again)"
                ) from None

    def save(self) -> None:
        write_json(self.file, {"batches": self.entries})

    def new_entry(self, lines: Sequence[bytes], description: str) -> dict[str, Any]:
        name = f"batch-{len(self.entries) + 1:04d}.jsonl"
        write_lines(self.folder / name, lines)
        self._ids[name] = set(custom_ids(lines))
        entry = {"input": name, "requests": len(lines), "description": description}
        self.entries.append(entry)
        self.save()
        return entry

    def ids_of(self, entry: dict[str, Any]) -> set[str]:
        """The custom ids of a batch (its input file is read the first time only)."""
        name = entry["input"]
        if name not in self._ids:
            with open(self.folder / name, "rb") as handle:
                self._ids[name] = set(custom_ids(handle))
        return self._ids[name]

    def unread(self) -> list[dict[str, Any]]:
        """The batches whose results have not been read into the cache yet."""
        return [entry for entry in self.entries if not entry.get("read")]


class ProviderBatches:
    """Send the requests the cache cannot answer as provider batch jobs (files and batches
    endpoints of an OpenAI-compatible API), recorded in ``folder``."""

    def __init__(self, folder: Path, limits: BatchLimits | None = None) -> None:
        self.folder = Path(folder)
        self.limits = limits or BatchLimits()
        self._seen: list[dict[str, Any]] = []

    async def send(self, work: Unanswered) -> None:
        pending, stats, done = work.pending, work.stats, work.done
        if not pending:
            return
        batch_teacher: BatchTeacher = work.teacher  # type: ignore[assignment]  # settings check
        state = BatchState(self.folder)
        keys = {item.key for item in pending}
        mine = [entry for entry in state.unread() if state.ids_of(entry) & keys]
        covered = set().union(*(state.ids_of(entry) for entry in mine)) if mine else set()
        rest = [item for item in pending if item.key not in covered]
        if rest:
            self._check_budget(batch_teacher, rest, stats, work.budget)
            lines = request_lines(batch_teacher, rest)
            chunks = split_lines(lines, self.limits.max_requests, self.limits.max_bytes)
            mine += [state.new_entry(chunk, work.description) for chunk in chunks]
        client = _Client(batch_teacher)
        for entry in mine:
            await client.submit(state, entry, self.limits.window, batch_teacher.path)
        await self._poll(client, state, mine, work.progress, work.description)
        unanswered = []
        by_key: dict[str, list[Pending]] = {}
        for item in pending:
            by_key.setdefault(item.key, []).append(item)
        for entry in mine:
            results = await client.results(entry)
            asked = state.ids_of(entry)
            for key in sorted(asked & by_key.keys()):
                answer = results.answers.get(key)
                completion = (
                    answer.completion(batch_teacher, by_key[key][0].request)
                    if answer is not None
                    else Completion(text=None, error=f"batch {entry['id']} {entry['status']}")
                )
                # an expired or cancelled batch lists what it never did as errors
                if answer is None or (entry["status"] != "completed" and answer.error):
                    unanswered.append(key)
                for item in by_key.pop(key):  # popped: a key in two batches is answered once
                    stats.sent += 1
                    done(item, completion)
            unknown = len(results.answers.keys() - asked)
            entry.update(read=True, results={**results.counts(), "unknown_ids": unknown})
            state.save()
            self._seen.append(entry)
        if unanswered:
            ended = sorted({e["status"] for e in mine if e["status"] != "completed"})
            raise BatchIncomplete(
                f"{len(unanswered)} requests were not answered (batch {', '.join(ended)}); the "
                f"{len(keys) - len(unanswered)} answered are cached: run the same command again "
                "to send the rest as a new batch, or without batch mode to send them online"
            )

    def _check_budget(
        self,
        teacher: BatchTeacher,
        rest: Sequence[Pending],
        stats: RunStats,
        budget: Budget | None,
    ) -> None:
        """Refuse to submit what could cost more than the budget left (exit 2, the numbers)."""
        if budget is None:
            return
        ceiling = request_ceiling(teacher, rest)
        spent = budget.spent(stats.usage)
        total = Usage(stats.usage.prompt_tokens, stats.usage.completion_tokens)
        total.add(ceiling)
        at_most = budget.spent(total)
        if at_most > budget.max_cost:
            raise BudgetReached(
                f"batch of {len(rest)} requests not submitted: it could cost up to "
                f"{at_most - spent:.4f} ({ceiling.prompt_tokens} prompt tokens "
                f"estimated, {ceiling.completion_tokens} completion tokens at most), with "
                f"{spent:.4f} spent already, over max_cost {budget.max_cost:g}; raise max_cost "
                "or send fewer requests (--limit)"
            )

    async def _poll(
        self,
        client: _Client,
        state: BatchState,
        entries: Sequence[dict[str, Any]],
        progress: bool,
        description: str,
    ) -> None:
        """Poll until every batch has finished, with backoff, showing completed and failed
        counts from the batch objects."""
        total = sum(entry["requests"] for entry in entries)
        bar = tqdm(total=total, desc=f"{description} (batch)", unit="req", disable=not progress)
        delay = min(FIRST_POLL, self.limits.poll_seconds)
        try:
            while True:
                counts = [0, 0]
                for entry in entries:
                    if entry.get("status") not in FINISHED:
                        batch = await client.retrieve(entry["id"])
                        entry.update(
                            status=batch.status,
                            output_file_id=batch.output_file_id,
                            error_file_id=batch.error_file_id,
                            counts=_counts(batch),
                            errors=_batch_errors(batch),
                        )
                        state.save()
                    counts[0] += entry.get("counts", {}).get("completed", 0)
                    counts[1] += entry.get("counts", {}).get("failed", 0)
                bar.n = min(total, counts[0] + counts[1])
                bar.set_postfix(completed=counts[0], failed=counts[1], refresh=False)
                bar.refresh()
                if all(entry["status"] in FINISHED for entry in entries):
                    break
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.limits.poll_seconds)
        finally:
            bar.close()
        for entry in entries:
            if entry["status"] != "completed":
                logger.warning(
                    "batch %s %s: %s", entry["id"], entry["status"], entry.get("errors") or ""
                )

    def summary(self, cache: CompletionCache | None) -> dict[str, Any] | None:
        if not self._seen:
            return None
        keep = ("id", "status", "requests", "description", "counts", "errors", "results")
        results = [entry["results"] for entry in self._seen]
        return {
            "mode": "provider",
            "state": str(self.folder / "state.json"),
            "batches": [{k: entry.get(k) for k in keep} for entry in self._seen],
            **{
                name: sum(counts[name] for counts in results)
                for name in ("lines", "errors", "malformed", "duplicated", "unknown_ids")
            },
        }


def _counts(batch: Any) -> dict[str, int]:
    counts = getattr(batch, "request_counts", None)
    return {name: int(getattr(counts, name, 0) or 0) for name in ("completed", "failed", "total")}


def _batch_errors(batch: Any) -> list[str]:
    errors = getattr(getattr(batch, "errors", None), "data", None) or []
    return [f"{getattr(e, 'code', '')}: {getattr(e, 'message', '')}"[:200] for e in errors[:3]]


class _Client:
    """The files and batches calls of the teacher's client, errors as one line (scrubbed of
    the key), polling retried with backoff."""

    def __init__(self, teacher: BatchTeacher) -> None:
        import openai

        self.teacher = teacher
        self.openai = openai
        self.client = teacher.client

    def _failed(self, what: str, error: Exception) -> StepdistillError:
        status = getattr(error, "status_code", None)
        detail = f"HTTP {status}" if status else type(error).__name__
        message = self.teacher.scrub(f"{detail}: {str(error)[:200]}")
        hint = (
            "; this server may have no batch API: use --write-batch-file for an offline engine, "
            "or send the requests online"
            if status in (404, 405)
            else "; run the same command again: recorded batches are resumed, never resubmitted"
        )
        return StepdistillError(f"batch {what} failed ({message}){hint}")

    async def submit(
        self, state: BatchState, entry: dict[str, Any], window: str, endpoint: str
    ) -> None:
        """Upload the entry's input file and create its batch, unless already done (a batch
        created just before a crash is found again by its input file id)."""
        if entry.get("id"):
            return
        try:
            if not entry.get("input_file_id"):
                data = (state.folder / entry["input"]).read_bytes()
                uploaded = await self.client.files.create(
                    file=(entry["input"], data, "application/jsonl"), purpose="batch"
                )
                entry["input_file_id"] = uploaded.id
                state.save()
            else:
                entry["id"] = await self._created_for(entry["input_file_id"])
            if not entry.get("id"):
                batch = await self.client.batches.create(
                    input_file_id=entry["input_file_id"],
                    endpoint=endpoint,
                    completion_window=window,
                    metadata={METADATA_KEY: entry["input_file_id"]},
                )
                entry.update(id=batch.id, status=batch.status)
            state.save()
        except self.openai.APIError as error:
            raise self._failed("submission", error) from None
        logger.info("batch %s: %d requests submitted", entry["id"], entry["requests"])

    async def _created_for(self, input_file_id: str) -> str | None:
        """The batch already made from ``input_file_id`` (a crash came before its id was
        recorded), if any."""
        async for batch in self.client.batches.list(limit=100):
            if batch.input_file_id == input_file_id:
                return str(batch.id)
        return None

    async def retrieve(self, batch_id: str) -> Any:
        delay, attempts = FIRST_POLL, self.teacher.retry.max_attempts
        for attempt in range(1, attempts + 1):
            try:
                return await self.client.batches.retrieve(batch_id)
            except self.openai.APIError as error:
                if attempt == attempts:
                    raise self._failed(f"{batch_id} poll", error) from None
                await asyncio.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")

    async def results(self, entry: dict[str, Any]) -> Results:
        """The output and error files of a finished batch."""
        results = Results()
        for name in ("output_file_id", "error_file_id"):
            file_id = entry.get(name)
            if not file_id:
                continue
            try:
                content = await self.client.files.content(file_id)
            except self.openai.APIError as error:
                raise self._failed(f"{entry['id']} download", error) from None
            results.add_lines(content.content.splitlines(), f"{entry['id']} {name[:-8]}")
        return results
