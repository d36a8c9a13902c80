"""A local transformers causal LM as teacher: no server, the embedded default.

Greedy requests are gathered into batches (``batch_size``), and the prompt prefix that they
share (the instruction and the few-shot exemplars) is computed once: its key/value cache is
kept and every batch continues from it, each row's own question padded between the prefix and
its end (the attention mask skips the padding, position ids stay those of the unpadded prompt).
The outputs are those of one request at a time. Sampled requests (temperature above 0) run one
at a time from the same prefix cache, seeded by (seed, sample index), so that they reproduce.
"""

from __future__ import annotations

import copy
import inspect
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from stepdistill.models.batcher import MicroBatcher
from stepdistill.models.kinds import SEQ2SEQ
from stepdistill.teacher.base import Completion, GenerationSettings, TeacherRequest, Usage

DEFAULT_BATCH_SIZE = 8
# a shared prefix shorter than this is not worth a cache of its own
MIN_PREFIX_TOKENS = 16


def common_prefix_length(sequences: Sequence[Sequence[int]]) -> int:
    """Tokens that every sequence starts with, leaving at least one token of each."""
    limit = min(len(sequence) for sequence in sequences) - 1
    length = 0
    while length < limit and all(s[length] == sequences[0][length] for s in sequences):
        length += 1
    return length


class LocalTeacher:
    """Generates with a causal LM in this process.

    Chat requests use the tokenizer's chat template when it has one; the output is cut at the
    first stop sequence.

    Args:
        model_name_or_path: A preset (``smollm2-135m``), local folder or model name.
        seed: Seed of sampled requests (with each request's sample index).
        batch_size: Greedy requests generated together.
    """

    def __init__(
        self,
        model_name_or_path: str = "smollm2-135m",
        *,
        seed: int = 0,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        from stepdistill.models.loading import load_student

        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        student = load_student(model_name_or_path)
        self.model, self.tokenizer = student.model, student.tokenizer
        self.model.eval()
        self.kind = student.kind
        self.name = f"local:{model_name_or_path}"
        self.model_name = model_name_or_path
        self.seed = seed
        self.batch_size = batch_size
        self._lock = threading.Lock()
        self._prefix: list[int] = []
        self._prefix_cache: Any = None
        forward = inspect.signature(self.model.forward).parameters
        self._cache_argument = "cache" if "cache" in forward else "past_key_values"
        self._batcher: MicroBatcher | None = None

    def identity(self) -> dict[str, Any]:
        # the batch size is not part of it: batched answers are those of one request at a time
        return {"backend": "local", "model": self.model_name, "seed": self.seed}

    def _prompt_ids(self, request: TeacherRequest) -> list[int]:
        if request.messages and getattr(self.tokenizer, "chat_template", None):
            ids = self.tokenizer.apply_chat_template(
                request.message_list, add_generation_prompt=True, tokenize=True
            )
            # transformers returns a BatchEncoding (a Mapping) or a plain list, by version
            return list(ids["input_ids"] if isinstance(ids, Mapping) else ids)
        prompt = request.prompt
        if prompt is None:
            prompt = "\n\n".join(message["content"] for message in request.message_list)
        return self.tokenizer(prompt)["input_ids"]

    # --- the shared prefix ------------------------------------------------------------------

    def _cached_prefix(self, prompts: Sequence[list[int]]) -> int:
        """Length of the cached prefix that every prompt starts with, after updating the
        cache when this batch shares a longer or another prefix (0: none to use)."""
        import torch

        if self.kind == SEQ2SEQ:
            return 0  # an encoder reads the whole input at once: nothing to continue from
        shortest = min(len(prompt) for prompt in prompts)
        cached = len(self._prefix)
        if cached and cached < shortest and all(p[:cached] == self._prefix for p in prompts):
            return cached
        length = common_prefix_length(prompts) if len(prompts) > 1 else 0
        if length < MIN_PREFIX_TOKENS:
            return 0
        self._prefix = list(prompts[0][:length])
        with torch.inference_mode():
            output = self.model(input_ids=torch.tensor([self._prefix], device=self.model.device))
        # the key/value cache is ``cache`` in current transformers (``past_key_values``, which
        # they warn about, before)
        self._prefix_cache = output["cache"] if "cache" in output else output["past_key_values"]
        return length

    # --- generation -------------------------------------------------------------------------

    def _generate(
        self, prompts: Sequence[list[int]], settings: GenerationSettings, sample: int | None
    ) -> list[tuple[str, Usage]]:
        """One batch of prompts with the same settings (``sample``: seed a sampled request)."""
        import torch

        prefix = self._cached_prefix(prompts)
        pad = self.tokenizer.pad_token_id
        suffixes = [prompt[prefix:] for prompt in prompts]
        width = max(len(suffix) for suffix in suffixes)
        # padding goes between the shared prefix and each row's own end
        rows = [self._prefix[:prefix] + [pad] * (width - len(s)) + s for s in suffixes]
        mask = [[1] * prefix + [0] * (width - len(s)) + [1] * len(s) for s in suffixes]
        extra: dict[str, Any] = {}
        if prefix:
            cache = copy.deepcopy(self._prefix_cache)
            cache.batch_repeat_interleave(len(prompts))
            extra[self._cache_argument] = cache
        sampling = settings.temperature > 0
        device = self.model.device
        with torch.inference_mode():
            if sample is not None:
                # the sample index makes repeated samples differ, and reruns reproduce them
                torch.manual_seed(self.seed * 1_000_003 + sample)
            output = self.model.generate(
                input_ids=torch.tensor(rows, device=device),
                attention_mask=torch.tensor(mask, device=device),
                max_new_tokens=settings.max_tokens,
                do_sample=sampling,
                temperature=settings.temperature if sampling else None,
                top_p=settings.top_p if sampling else None,
                stop_strings=list(settings.stop) or None,
                tokenizer=self.tokenizer,
                pad_token_id=pad,
                **extra,
            )
        # a seq2seq teacher returns only new tokens; a causal one returns the prompt too
        new = output if self.kind == SEQ2SEQ else output[:, len(rows[0]) :]
        # a row that finished early is padded to the batch's length; the end-of-text token
        # (often the pad token too) is dropped alike, so usage counts the same at any batch size
        ends = {pad, self.tokenizer.eos_token_id}
        results = []
        for prompt, tokens in zip(prompts, new.tolist(), strict=True):
            while tokens and tokens[-1] in ends:
                tokens.pop()
            text = self.tokenizer.decode(tokens, skip_special_tokens=True)
            for stop in settings.stop:
                text = text.split(stop, 1)[0]
            results.append((text, Usage(len(prompt), len(tokens))))
        return results

    def _run_batch(self, requests: list[TeacherRequest], settings: tuple) -> list[Completion]:
        """Greedy requests together; if the batch fails, each alone, so that one bad request
        fails only itself."""
        prompts = [self._prompt_ids(request) for request in requests]
        with self._lock:
            try:
                results = self._generate(prompts, requests[0].settings, None)
                return [Completion(text=text, usage=usage) for text, usage in results]
            except Exception:
                if len(requests) == 1:
                    raise
        return [self._one(request) for request in requests]

    def _one(self, request: TeacherRequest) -> Completion:
        try:
            with self._lock:
                sample = request.sample if request.settings.temperature > 0 else None
                [(text, usage)] = self._generate(
                    [self._prompt_ids(request)], request.settings, sample
                )
            return Completion(text=text, usage=usage)
        except Exception as error:  # a failed generation is recorded, never fatal to the run
            return Completion(text=None, error=f"{type(error).__name__}: {error}")

    async def complete(self, request: TeacherRequest) -> Completion:
        import asyncio

        if request.settings.temperature > 0:
            return await asyncio.to_thread(self._one, request)
        if self._batcher is None:
            self._batcher = MicroBatcher(self._run_batch, max_batch=self.batch_size, max_wait=0.05)
            self._batcher.start()
        try:
            [completion] = await self._batcher.submit([request], (request.settings,))
            return completion
        except Exception as error:  # a failed generation is recorded, never fatal to the run
            return Completion(text=None, error=f"{type(error).__name__}: {error}")

    async def aclose(self) -> None:
        if self._batcher is not None:
            await self._batcher.stop()
            self._batcher = None
