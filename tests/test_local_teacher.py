"""The local teacher batches greedy requests over a cached shared prefix, with the answers of
one request at a time; sampled requests reproduce per (seed, sample)."""

from __future__ import annotations

import asyncio

import pytest

from stepdistill.teacher import GenerationSettings, TeacherRequest
from stepdistill.teacher.local_backend import LocalTeacher, common_prefix_length

FEW_SHOT = "".join(
    f"Q: Tom has {a} apples and gets {b}.\nA: {a} + {b} = {a + b}. The answer is ({a} + {b}).\n\n"
    for a, b in ((3, 4), (10, 2), (7, 7))
)


def prompts(n: int) -> list[str]:
    return [
        f"{FEW_SHOT}Q: Ann has {i} pens and gets {i % 4 + 1}{'.' * (i % 3)}\nA:" for i in range(n)
    ]


async def ask(teacher: LocalTeacher, requests: list[TeacherRequest]) -> list:
    try:
        return await asyncio.gather(*(teacher.complete(r) for r in requests))
    finally:
        await teacher.aclose()


def test_common_prefix_leaves_every_prompt_a_token():
    assert common_prefix_length([[1, 2, 3, 4], [1, 2, 3, 5], [1, 2, 3, 4, 6]]) == 3
    assert common_prefix_length([[1, 2], [1, 2]]) == 1
    assert common_prefix_length([[9], [1]]) == 0


def test_batched_greedy_answers_are_those_of_one_request_at_a_time(tiny_llama_dir):
    settings = GenerationSettings(max_tokens=12, stop=("\n\nQ:",))
    requests = [TeacherRequest(prompt=p, settings=settings) for p in prompts(10)]
    one_by_one = LocalTeacher(str(tiny_llama_dir), batch_size=1)
    sequential = [asyncio.run(ask(one_by_one, [r]))[0] for r in requests]
    batched_teacher = LocalTeacher(str(tiny_llama_dir), batch_size=4)
    batched = asyncio.run(ask(batched_teacher, requests))
    assert [c.text for c in batched] == [c.text for c in sequential]
    assert all(c.ok for c in batched)
    assert [c.usage.prompt_tokens for c in batched] == [c.usage.prompt_tokens for c in sequential]
    completion_tokens = [c.usage.completion_tokens for c in sequential]
    assert [c.usage.completion_tokens for c in batched] == completion_tokens
    assert len(batched_teacher._prefix) >= 16  # the few-shot part was computed once and reused


def test_sampling_reproduces_per_seed_and_sample(tiny_llama_dir):
    settings = GenerationSettings(max_tokens=10, temperature=1.0)
    requests = [
        TeacherRequest(prompt=p, settings=settings, sample=k) for p in prompts(2) for k in (0, 1)
    ]
    first = asyncio.run(ask(LocalTeacher(str(tiny_llama_dir), seed=3), requests))
    again = asyncio.run(ask(LocalTeacher(str(tiny_llama_dir), seed=3), requests))
    other = asyncio.run(ask(LocalTeacher(str(tiny_llama_dir), seed=4), requests))
    assert [c.text for c in first] == [c.text for c in again]
    assert [c.text for c in first] != [c.text for c in other]
    assert first[0].text != first[1].text  # samples 0 and 1 of one prompt differ


def test_a_bad_batch_falls_back_to_one_request_at_a_time(tiny_llama_dir, monkeypatch):
    teacher = LocalTeacher(str(tiny_llama_dir), batch_size=4)
    real = teacher._generate

    def fail_batches(prompt_ids, settings, sample):
        if len(prompt_ids) > 1:
            raise RuntimeError("out of memory")
        return real(prompt_ids, settings, sample)

    monkeypatch.setattr(teacher, "_generate", fail_batches)
    settings = GenerationSettings(max_tokens=6)
    completions = asyncio.run(
        ask(teacher, [TeacherRequest(prompt=p, settings=settings) for p in prompts(4)])
    )
    assert all(c.ok for c in completions)


def test_batch_size_is_checked(tiny_llama_dir):
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        LocalTeacher(str(tiny_llama_dir), batch_size=0)
