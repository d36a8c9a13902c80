"""OpenAI batch files: the input file (one request a line, ``custom_id`` its cache key), the
output and error files (as OpenAI's Batch API and ``vllm run-batch`` write them), and the file
mode that answers a run's requests from result files, writing the unanswered ones for an
offline engine."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from stepdistill.errors import StepdistillError
from stepdistill.teacher.base import Completion, Teacher, TeacherRequest, Usage
from stepdistill.teacher.cache import CompletionCache
from stepdistill.teacher.retry import RetryPolicy
from stepdistill.teacher.runner import Pending, Unanswered

PROBLEMS_SHOWN = 3  # lines quoted in a report, per kind of problem


class BatchTeacher(Teacher, Protocol):
    """A teacher whose requests can be written as batch lines (an OpenAI-compatible one)."""

    @property
    def path(self) -> str: ...

    def body(self, request: TeacherRequest) -> dict[str, Any]: ...

    def answer_of(self, data: Any, request: TeacherRequest) -> tuple[str, Usage]: ...

    @property
    def client(self) -> Any: ...  # an ``openai.AsyncOpenAI``: its files and batches calls

    @property
    def retry(self) -> RetryPolicy: ...

    def scrub(self, text: str) -> str: ...


class BatchFileWritten(StepdistillError):
    """The requests a run still needs were written to a batch input file; the run stops there
    (its command succeeded: exit 0) until their results are read back."""

    exit_code = 0


def request_lines(teacher: BatchTeacher, pending: Sequence[Pending]) -> list[bytes]:
    """One batch input line per distinct request (a key asked twice is sent once)."""
    lines: dict[str, bytes] = {}
    for item in pending:
        if item.key not in lines:
            line = {
                "custom_id": item.key,
                "method": "POST",
                "url": teacher.path,
                "body": teacher.body(item.request),
            }
            lines[item.key] = (json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8")
    return list(lines.values())


def split_lines(lines: Sequence[bytes], max_requests: int, max_bytes: int) -> list[list[bytes]]:
    """``lines`` cut into files of at most ``max_requests`` lines and ``max_bytes`` bytes.

    Raises:
        StepdistillError: one request alone is larger than ``max_bytes``.
    """
    chunks: list[list[bytes]] = []
    current: list[bytes] = []
    size = 0
    for line in lines:
        if len(line) > max_bytes:
            raise StepdistillError(
                f"one batch request is {len(line):,} bytes, over the per-batch limit of "
                f"{max_bytes:,} (batch_max_bytes)"
            )
        if current and (len(current) >= max_requests or size + len(line) > max_bytes):
            chunks.append(current)
            current, size = [], 0
        current.append(line)
        size += len(line)
    if current:
        chunks.append(current)
    return chunks


def custom_ids(lines: Iterable[bytes | str]) -> list[str]:
    """The ``custom_id`` of every line of a batch input file."""
    return [json.loads(line)["custom_id"] for line in lines if line.strip()]


@dataclass(frozen=True)
class ResultLine:
    """One answered request of a result file: the completion's body, or why there is none."""

    custom_id: str
    body: Any = None
    error: str | None = None

    def completion(self, teacher: BatchTeacher, request: TeacherRequest) -> Completion:
        """The completion this line gives (a failed one for an error or a body that is not a
        completion)."""
        if self.error is not None:
            return Completion(text=None, error=self.error)
        try:
            text, usage = teacher.answer_of(self.body, request)
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as bad:
            return Completion(text=None, error=f"unreadable response: {type(bad).__name__}")
        return Completion(text=text, usage=usage)


def _result_of(row: Any) -> ResultLine:
    """A result line from its JSON (``response.body`` as OpenAI and vLLM write it; a bare
    completion in ``response`` is taken too).

    Raises:
        ValueError: the row is not a result line.
    """
    if not isinstance(row, dict) or not isinstance(row.get("custom_id"), str):
        raise ValueError("no custom_id")
    custom_id, error, response = row["custom_id"], row.get("error"), row.get("response")
    if error:
        if isinstance(error, dict):
            return ResultLine(custom_id, error=f"{error.get('code')}: {error.get('message')}")
        return ResultLine(custom_id, error=str(error)[:200])
    if not isinstance(response, dict):
        raise ValueError("neither a response nor an error")
    if "body" not in response:
        return ResultLine(custom_id, body=response)
    status = response.get("status_code", 200)
    if status != 200:
        body = response.get("body")
        message = body.get("error", {}).get("message") if isinstance(body, dict) else None
        return ResultLine(custom_id, error=f"HTTP {status}: {str(message)[:200]}")
    return ResultLine(custom_id, body=response["body"])


@dataclass
class Results:
    """The result lines of one or more files, by ``custom_id``, and what could not be used."""

    answers: dict[str, ResultLine] = field(default_factory=dict)
    lines: int = 0
    errors: int = 0
    malformed: int = 0
    duplicated: int = 0
    problems: list[str] = field(default_factory=list)

    def add_lines(self, lines: Iterable[bytes | str], source: str) -> None:
        """Take the lines of one file (``source`` names it in the problems shown)."""
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            self.lines += 1
            try:
                result = _result_of(json.loads(raw))
            except ValueError as bad:  # a UnicodeDecodeError too
                self.malformed += 1
                self._note(f"{source}:{number}: malformed ({bad})")
                continue
            self.errors += result.error is not None
            known = self.answers.get(result.custom_id)
            if known is not None:
                self.duplicated += 1
                self._note(f"{source}:{number}: {result.custom_id[:12]}... given again")
                if known.error is None or result.error is not None:
                    continue  # a success is kept over a later line; an error is replaced
            self.answers[result.custom_id] = result

    def _note(self, problem: str) -> None:
        if len(self.problems) < PROBLEMS_SHOWN:
            self.problems.append(problem)

    @classmethod
    def read(cls, paths: Sequence[Path]) -> Results:
        """The result lines of ``paths``.

        Raises:
            StepdistillError: a file cannot be read.
        """
        results = cls()
        for path in paths:
            try:
                with open(path, "rb") as handle:
                    results.add_lines(handle, str(path))
            except OSError as error:
                raise StepdistillError(f"batch results {path}: {error.strerror}") from None
        return results

    def counts(self) -> dict[str, Any]:
        return {
            "lines": self.lines,
            "errors": self.errors,
            "malformed": self.malformed,
            "duplicated": self.duplicated,
            "problems": self.problems,
        }


def write_lines(path: Path, lines: Sequence[bytes]) -> None:
    """Write a batch input file atomically (a crash never leaves half a file)."""
    from stepdistill.data.io import write_lines as write_text_lines

    write_text_lines(path, (line.decode("utf-8") for line in lines))


@dataclass
class BatchFiles:
    """File mode: requests answered from result files (``results``); those still unanswered
    (and, with a file to write, those the engine failed) are written to ``write`` (a batch
    input file, for ``vllm run-batch`` or any engine that takes the OpenAI batch format), and
    the run stops until they are answered. Without ``write``, a failed answer is a failed
    record, as a request that failed online."""

    write: Path | None = None
    results: Sequence[Path] = ()
    _read: Results | None = None
    _used: set[str] = field(default_factory=set)

    @property
    def answers(self) -> Results:
        if self._read is None:
            self._read = Results.read(self.results)
        return self._read

    async def send(self, work: Unanswered) -> None:
        batch_teacher: BatchTeacher = work.teacher  # type: ignore[assignment]  # settings check
        answers = self.answers.answers
        missing = []
        for item in work.pending:
            answer = answers.get(item.key)
            # with a file to write, a request the engine failed is asked again there
            if answer is None or (self.write is not None and answer.error is not None):
                missing.append(item)
                continue
            self._used.add(item.key)
            work.stats.sent += 1
            # cached as it is read
            work.done(item, answer.completion(batch_teacher, item.request))
        if missing:
            self._stop(batch_teacher, missing, work.description)

    def _stop(self, teacher: BatchTeacher, missing: Sequence[Pending], description: str) -> None:
        """Write the unanswered requests to the input file (or say that they are missing)."""
        read = f" ({len(self.answers.answers)} answers read)" if self.results else ""
        if self.write is None:
            raise StepdistillError(
                f"{len(missing)} {description} requests have no answer in the batch results"
                f"{read}: write them with --write-batch-file FILE, answer them, and read the "
                "answers back with --read-batch-results"
            )
        lines = request_lines(teacher, missing)
        write_lines(self.write, lines)
        raise BatchFileWritten(
            f"wrote {len(lines)} {description} requests to {self.write}{read}; answer them "
            f"(e.g. vllm run-batch -i {self.write} -o results.jsonl --model MODEL) and run the "
            "same command again with --read-batch-results results.jsonl"
        )

    def summary(self, cache: CompletionCache | None) -> dict[str, Any] | None:
        """What the result files held: lines used, ids that match no request, duplicates,
        errors and malformed lines (never dropped silently)."""
        if not self.results:
            return None
        unused = [key for key in self.answers.answers if key not in self._used]
        cached = sum(cache is not None and cache.get(key) is not None for key in unused)
        return {
            "mode": "files",
            "results": [str(path) for path in self.results],
            **self.answers.counts(),
            "used": len(self._used),
            "already_cached": cached,
            "unknown_ids": len(unused) - cached,
        }
