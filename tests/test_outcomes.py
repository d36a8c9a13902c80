"""Outcomes are typed values on records and completions, never read from message text."""

from __future__ import annotations

import asyncio
import dataclasses

from stepdistill.extraction.extract import ExtractionReport, build_record
from stepdistill.schema import REQUEST_FAILED, Example, Outcome, TeacherRecord
from stepdistill.tasks import get_task
from stepdistill.tasks.parsing import NO_ANSWER_MARKER
from stepdistill.teacher import Completion, TeacherRequest
from stepdistill.teacher.base import Usage
from stepdistill.teacher.runner import Budget, run_requests

EXAMPLE = Example("q-1", "Tom has 2 apples and gets 3. How many apples now?", "( 2.0 + 3.0 )")


def record(texts, errors):
    return build_record(
        EXAMPLE, get_task("svamp"), texts, errors, teacher_name="fake", provenance={}
    )


def test_each_record_has_one_outcome_from_its_fields():
    ok = record(["2 + 3 = 5. The answer is ( 2.0 + 3.0 )"], [None])
    failed = record([None], ["HTTP 500"])
    unparsable = record(["I do not know."], [None])
    assert (ok.outcome, failed.outcome, unparsable.outcome) == (
        Outcome.OK,
        Outcome.FAILED,
        Outcome.UNPARSABLE,
    )
    assert failed.reason == REQUEST_FAILED and unparsable.reason == NO_ANSWER_MARKER
    assert dataclasses.replace(ok, filtered="agree-with-gold: wrong").outcome == Outcome.FILTERED


def test_a_message_that_reads_like_a_failure_does_not_make_one():
    # a parser message beginning with the words of a failed request is still a parse failure
    misleading = TeacherRecord(
        "q-1", None, None, False, "request failed? no: no answer marker", reason=NO_ANSWER_MARKER
    )
    report = ExtractionReport()
    report.count_outcomes([misleading, dataclasses.replace(misleading, reason=REQUEST_FAILED)])
    assert (report.unparsable, report.failed) == (1, 1)


def test_a_record_written_and_read_back_keeps_its_outcome():
    failed = record([None], ["timed out"])
    assert TeacherRecord.from_dict(failed.to_dict()).outcome == Outcome.FAILED


class CountingTeacher:
    name = "counting"

    def identity(self):
        return {"backend": "counting"}

    async def complete(self, request):
        return Completion(text="The answer is 1", usage=Usage(10, 10))

    async def aclose(self):
        return None


def test_requests_not_sent_over_budget_say_so():
    requests = [TeacherRequest(prompt=f"q{i}") for i in range(3)]
    budget = Budget(max_cost=1.0, spent=lambda usage: usage.completion_tokens / 10)
    completions, stats = asyncio.run(
        run_requests(CountingTeacher(), requests, concurrency=1, progress=False, budget=budget)
    )
    assert [c.outcome for c in completions] == [
        Outcome.OK,
        Outcome.OVER_BUDGET,
        Outcome.OVER_BUDGET,
    ]
    assert stats.not_sent_over_budget == 2
    assert Completion(text=None, error="HTTP 500").outcome == Outcome.FAILED
