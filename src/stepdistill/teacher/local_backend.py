"""A local transformers causal LM as teacher: no server, the embedded default."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from typing import Any

from stepdistill.models.kinds import SEQ2SEQ
from stepdistill.teacher.base import Completion, TeacherRequest, Usage


class LocalTeacher:
    """Generates with a causal LM in this process (one request at a time).

    Chat requests use the tokenizer's chat template when it has one; sampling follows the
    request's temperature; the output is cut at the first stop sequence.
    """

    def __init__(self, model_name_or_path: str = "smollm2-135m", *, seed: int = 0) -> None:
        from stepdistill.models.loading import load_student

        student = load_student(model_name_or_path)
        self.model, self.tokenizer = student.model, student.tokenizer
        self.model.eval()
        self.kind = student.kind
        self.name = f"local:{model_name_or_path}"
        self.model_name = model_name_or_path
        self.seed = seed
        self._lock = threading.Lock()

    def identity(self) -> dict[str, Any]:
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

    def _generate(self, request: TeacherRequest) -> Completion:
        import torch

        settings = request.settings
        prompt_ids = self._prompt_ids(request)
        sampling = settings.temperature > 0
        with self._lock, torch.inference_mode():
            # the sample index makes repeated samples differ, and reruns reproduce them
            torch.manual_seed(self.seed * 1_000_003 + request.sample)
            output = self.model.generate(
                input_ids=torch.tensor([prompt_ids], device=self.model.device),
                attention_mask=torch.ones(
                    1, len(prompt_ids), dtype=torch.long, device=self.model.device
                ),
                max_new_tokens=settings.max_tokens,
                do_sample=sampling,
                temperature=settings.temperature if sampling else None,
                top_p=settings.top_p if sampling else None,
                stop_strings=list(settings.stop) or None,
                tokenizer=self.tokenizer,
                pad_token_id=self.tokenizer.pad_token_id,
            )
        # a seq2seq teacher returns only new tokens; a causal one returns the prompt too
        new = output[0] if self.kind == SEQ2SEQ else output[0, len(prompt_ids) :]
        text = self.tokenizer.decode(new, skip_special_tokens=True)
        for stop in settings.stop:
            text = text.split(stop, 1)[0]
        return Completion(text=text, usage=Usage(len(prompt_ids), int(new.shape[0])))

    async def complete(self, request: TeacherRequest) -> Completion:
        try:
            return await asyncio.to_thread(self._generate, request)
        except Exception as error:  # a failed generation is recorded, never fatal to the run
            return Completion(text=None, error=f"{type(error).__name__}: {error}")

    async def aclose(self) -> None:
        return None
