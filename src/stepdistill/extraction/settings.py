"""Every setting of a teacher extraction, declared once: ``stepdistill extract``'s options and a
pipeline's ``teacher:`` section are both derived from ``TeacherSettings``."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from stepdistill.config_file import settings_from
from stepdistill.data.task_source import TaskSource
from stepdistill.errors import StepdistillError
from stepdistill.extraction.extract import ANSWER_STAGE_MAX_TOKENS, SELECTIONS, ExtractionConfig
from stepdistill.extraction.filters import FILTERS, parse_filter
from stepdistill.extraction.rationalization import RATIONALIZATIONS
from stepdistill.prompts import (
    Exemplar,
    JudgePrompt,
    PromptStyle,
    builtin_exemplars,
    load_exemplars,
    load_hint,
    load_judge,
    style_for,
)
from stepdistill.settings import check_settings, setting
from stepdistill.teacher import (
    DEFAULT_TEACHER,
    BatchFiles,
    BatchLimits,
    GenerationSettings,
    ProviderBatches,
    RetryPolicy,
    Teacher,
    teacher_backend,
)
from stepdistill.teacher import make_teacher as build_teacher
from stepdistill.teacher.base import CHARS_PER_TOKEN
from stepdistill.teacher.openai_backend import ENDPOINTS
from stepdistill.teacher.runner import Budget, Sender

# the settings that decide how requests travel, not what is asked (left out of fingerprints)
SENDING = (
    "batch",
    "batch_discount",
    "batch_max_requests",
    "batch_max_bytes",
    "batch_poll_seconds",
    "write_batch_file",
    "read_batch_results",
)


@dataclass
class TeacherSettings:
    """Which teacher, how it is prompted and sampled, how its requests are sent and paid for."""

    teacher: str = setting(
        DEFAULT_TEACHER, "backend:model, e.g. openai:gpt-4o-mini, or a local model"
    )
    base_url: str | None = setting(
        None, "OpenAI-compatible API root, e.g. http://127.0.0.1:8080/v1"
    )
    endpoint: str = setting("chat", "chat or completions endpoint", choices=ENDPOINTS)
    api_key_env: str = setting(
        "OPENAI_API_KEY", "environment variable holding the API key (never logged or stored)"
    )
    split: str = setting("train", "the split whose examples the teacher explains")
    limit: int | None = setting(None, "only the first N examples of the split")
    n: int = setting(1, "samples per example; more than 1: self-consistency (majority vote)")
    temperature: float | None = setting(None, "sampling temperature; None: 0 for n=1, else 0.7")
    top_p: float = setting(1.0, "nucleus sampling")
    max_tokens: int = setting(256, "tokens per rationale")
    zero_shot: bool = setting(False, "zero-shot chain of thought instead of few-shot exemplars")
    exemplars: str | None = setting(
        None,
        "few-shot exemplar file (JSON list or JSON lines of input, rationale, label); None: the "
        "task file's, the built-in ones of a paper task, else zero-shot",
    )
    max_exemplars: int | None = setting(
        None, "only the first N few-shot exemplars (a shorter prompt for a small teacher)"
    )
    filters: list[str] = setting(
        [],
        f"set aside records a filter rejects: {', '.join(FILTERS.names())} "
        "(judge-min=SCORE); repeat for several",
        alias="--filter",
        repeatable=True,
    )
    select: str = setting(
        "first",
        "which agreeing rationale a record keeps: the first, or the one the judge scores best",
        choices=SELECTIONS,
    )
    judge: str | None = setting(
        None, "judge model (backend:model) that rates rationales; None: the teacher itself"
    )
    judge_base_url: str | None = setting(None, "the judge's API root, for an openai: judge")
    rationalization: str = setting(
        "off",
        "show the teacher the gold label (STaR rationalization): off; hinted (every labeled "
        "example); two-pass (ask without it first, again with it where the answer was wrong or "
        "unreadable)",
        choices=tuple(RATIONALIZATIONS.names()),
    )
    hint_prompt: str | None = setting(
        None,
        "rationalization prompt file (JSON: name, version, instruction, hint, echo_phrases, "
        "echo_min_words); None: the built-in one",
    )
    judge_prompt: str | None = setting(
        None,
        "judge prompt file (JSON: name, version, scale, instruction, template); None: the "
        "built-in rubric",
    )
    concurrency: int = setting(16, "requests in flight at once")
    batch_size: int = setting(8, "a local teacher's requests generated together")
    timeout: float = setting(120.0, "seconds one attempt may take")
    max_attempts: int = setting(6, "attempts per request, the first included")
    price_per_1k_prompt: float | None = setting(None, "price of 1,000 prompt tokens")
    price_per_1k_completion: float | None = setting(None, "price of 1,000 completion tokens")
    max_cost: float | None = setting(
        None,
        "stop sending requests once the spend (from the server's token usage and the prices, "
        "cached requests included) reaches this; a later run with a higher budget continues",
    )
    cache: str | None = setting(None, "SQLite cache of completions (default: OUTPUT.cache.sqlite)")
    batch: bool = setting(
        False,
        "send the requests the cache cannot answer as provider batch jobs (OpenAI's Batch API "
        "and compatible ones: cheaper, answered within the completion window); the batches are "
        "recorded in OUTPUT.batches/, so the same command resumes polling them",
    )
    batch_discount: float = setting(
        0.5, "fraction taken off the prices for batch requests (OpenAI's Batch API: 0.5)"
    )
    batch_max_requests: int = setting(50_000, "requests in one provider batch; more are split")
    batch_max_bytes: int = setting(
        200 * 1024 * 1024, "bytes of one provider batch input file; more are split"
    )
    batch_poll_seconds: float = setting(
        60.0, "the longest wait between two polls of a batch (backoff from 1 s)"
    )
    write_batch_file: str | None = setting(
        None,
        "write the requests the cache cannot answer to this OpenAI batch input file (for vllm "
        "run-batch or any engine of that format), send nothing, and stop",
    )
    read_batch_results: list[str] = setting(
        [],
        "batch result files (OpenAI batch output format, as vllm run-batch writes them) that "
        "answer the requests; with --write-batch-file, the still unanswered ones are written",
        repeatable=True,
    )

    def __post_init__(self) -> None:
        check_settings(self)
        counts = ("n", "concurrency", "batch_size", "max_attempts", "max_tokens")
        for name in (*counts, "batch_max_requests", "batch_max_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.timeout <= 0:
            raise ValueError(f"timeout must be above 0 seconds, got {self.timeout}")
        for spec in self.filters:
            try:
                parse_filter(spec)
            except StepdistillError as error:
                raise ValueError(str(error)) from None
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"limit must be at least 1, got {self.limit}")
        if self.max_exemplars is not None and self.max_exemplars < 1:
            raise ValueError(f"max_exemplars must be at least 1, got {self.max_exemplars}")
        if not 0 <= self.batch_discount < 1:
            raise ValueError(f"batch_discount must be in [0, 1), got {self.batch_discount}")
        if not self.batch_poll_seconds > 0:
            raise ValueError(f"batch_poll_seconds must be above 0, got {self.batch_poll_seconds}")
        files = bool(self.write_batch_file or self.read_batch_results)
        if self.batch and files:
            raise ValueError(
                "batch (provider jobs) and batch files (write_batch_file, read_batch_results) "
                "are two ways of sending: choose one"
            )
        if (self.batch or files) and not teacher_backend(self.teacher)[0].batches:
            raise ValueError(
                f"batch mode needs a teacher whose requests are OpenAI batch lines (openai:...), "
                f"not {self.teacher}"
            )
        for name in ("price_per_1k_prompt", "price_per_1k_completion"):
            price = getattr(self, name)
            if price is not None and price < 0:
                raise ValueError(f"{name} must not be negative, got {price}")
        if self.temperature is not None and self.temperature < 0:
            raise ValueError(f"temperature must not be negative, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.max_cost is not None:
            if self.max_cost <= 0:
                raise ValueError(f"max_cost must be above 0, got {self.max_cost}")
            if self.price_per_1k_prompt is None and self.price_per_1k_completion is None:
                raise ValueError(
                    "max_cost needs price_per_1k_prompt and/or price_per_1k_completion"
                )

    @classmethod
    def from_options(cls, options: dict[str, Any], where: str) -> TeacherSettings:
        """Settings from a mapping (a pipeline's ``teacher:`` section, CLI options).

        Raises:
            DataError: an unknown setting or a bad value, naming ``where``.
        """
        return settings_from(cls, options, where)

    def to_dict(self) -> dict[str, Any]:
        return {
            config_field.name: getattr(self, config_field.name) for config_field in fields(self)
        }

    def identity(self) -> dict[str, Any]:
        """The settings that decide what the teacher is asked (``to_dict`` without those that
        only decide how the requests travel: batch jobs or files), for fingerprints."""
        return {k: v for k, v in self.to_dict().items() if k not in SENDING}

    def sender(self, output: Path) -> Sender | None:
        """How the requests the cache cannot answer are sent: provider batches recorded in
        ``OUTPUT.batches/``, batch files, or None (online)."""
        if self.batch:
            limits = BatchLimits(
                max_requests=self.batch_max_requests,
                max_bytes=self.batch_max_bytes,
                poll_seconds=self.batch_poll_seconds,
            )
            return ProviderBatches(output.with_name(output.name + ".batches"), limits)
        if self.write_batch_file or self.read_batch_results:
            write = Path(self.write_batch_file) if self.write_batch_file else None
            return BatchFiles(write, [Path(path) for path in self.read_batch_results])
        return None

    def generation(self, style: PromptStyle) -> GenerationSettings:
        temperature = self.temperature
        if temperature is None:
            temperature = 0.0 if self.n == 1 else 0.7
        return GenerationSettings(
            max_tokens=self.max_tokens, temperature=temperature, top_p=self.top_p, stop=style.stop
        )

    def extraction_config(self, style: PromptStyle, zero_shot: bool) -> ExtractionConfig:
        backend, _ = teacher_backend(self.teacher)
        try:
            return ExtractionConfig(
                n=self.n,
                settings=self.generation(style),
                zero_shot=zero_shot,
                chat=backend.chat_only or self.endpoint == "chat",
                filters=tuple(self.filters),
                concurrency=backend.concurrency(self.concurrency),
                select=self.select,
                rationalization=self.rationalization,
                hint=load_hint(self.hint_prompt),
            )
        except ValueError as error:
            raise StepdistillError(str(error)) from None

    def make_judge(self, teacher: Teacher | None = None) -> tuple[Teacher, JudgePrompt]:
        """The judge and its rubric: the named judge; else ``teacher`` (also when the judge
        is the same spec), or, without one, the teacher these settings name."""
        prompt = load_judge(self.judge_prompt)
        if teacher is not None and (self.judge is None or self.judge == self.teacher):
            return teacher, prompt
        if self.judge is None:
            return self.make_teacher(), prompt
        return self._build(self.judge, self.judge_base_url), prompt

    def make_teacher(self) -> Teacher:
        """The teacher, given the options its backend takes (the rest are for HTTP teachers)."""
        return self._build(self.teacher, self.base_url)

    def _build(self, spec: str, base_url: str | None) -> Teacher:
        backend, _ = teacher_backend(spec)
        options = {
            "base_url": base_url,
            "endpoint": self.endpoint,
            "api_key_env": self.api_key_env,
            "retry": RetryPolicy(max_attempts=self.max_attempts, timeout=self.timeout),
            "batch_size": self.batch_size,
        }
        return build_teacher(spec, **{k: v for k, v in options.items() if k in backend.options})

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float | None:
        """What that many tokens cost at the given prices, less ``batch_discount`` in batch
        mode (None: no prices given)."""
        if self.price_per_1k_prompt is None and self.price_per_1k_completion is None:
            return None
        online = (prompt_tokens / 1000) * (self.price_per_1k_prompt or 0.0) + (
            completion_tokens / 1000
        ) * (self.price_per_1k_completion or 0.0)
        return online * (1 - self.batch_discount) if self.batch else online

    def budget(self) -> Budget | None:
        if self.max_cost is None:
            return None
        return Budget(
            self.max_cost,
            lambda usage: self.cost(usage.prompt_tokens, usage.completion_tokens) or 0.0,
        )


def prompting(
    source: TaskSource, settings: TeacherSettings
) -> tuple[PromptStyle, list[Exemplar], bool]:
    """The task's teacher prompt style, its few-shot exemplars, and whether it is zero-shot.

    Exemplars: ``settings.exemplars``; else the task file's; else the paper task's built-in
    ones; a task file without exemplars is prompted zero-shot. At most
    ``settings.max_exemplars`` of them are kept.
    """
    style, exemplars, zero_shot = _prompting(source, settings)
    return style, exemplars[: settings.max_exemplars], zero_shot


def _prompting(
    source: TaskSource, settings: TeacherSettings
) -> tuple[PromptStyle, list[Exemplar], bool]:
    task = source.task
    style = style_for(task)
    if settings.zero_shot:
        return style, [], True
    if settings.exemplars:
        return style, load_exemplars(task, Path(settings.exemplars)), False
    if source.task_file is not None:
        if source.task_file.exemplars is None:
            return style, [], True
        return style, load_exemplars(task, source.task_file.exemplars), False
    return style, builtin_exemplars(task), False


def estimate(requests: list[Any], settings: TeacherSettings, zero_shot: bool) -> dict[str, Any]:
    """Requests, estimated prompt tokens, the completion-token ceiling and the cost ceiling of
    an extraction, without calling anything."""
    prompt_chars = sum(
        len(r.prompt or "") + sum(len(m["content"]) for m in r.message_list) for r in requests
    )
    answer_stage = len(requests) if zero_shot else 0
    prompt_tokens = prompt_chars // CHARS_PER_TOKEN * (2 if zero_shot else 1)
    completion_tokens = len(requests) * settings.max_tokens + answer_stage * ANSWER_STAGE_MAX_TOKENS
    return {
        "requests": len(requests) + answer_stage,
        "estimated_prompt_tokens": prompt_tokens,
        "max_completion_tokens": completion_tokens,
        "estimated_max_cost": settings.cost(prompt_tokens, completion_tokens),
    }
