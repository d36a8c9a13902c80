"""One overall progress line across a run's stages, with the time left: the stages'
estimates, corrected by how fast the run has gone so far."""

from __future__ import annotations

import logging
import time

from stepdistill.throughput import Estimate, duration_text

logger = logging.getLogger(__name__)

EVERY_SECONDS = 30.0  # a line within a stage at most this often (and at each stage's ends)


class RunProgress:
    """Where a run is among its stages: ``begin``, ``advance`` (a share of the stage) and
    ``end`` each stage; a stage's beginning logs one line, so does the last one's end, and
    within a stage a line comes at most every ``EVERY_SECONDS``."""

    def __init__(self, estimates: dict[str, Estimate], every: float = EVERY_SECONDS) -> None:
        self.estimates = dict(estimates)
        self.every = every
        self.finished: set[str] = set()
        self.current: str | None = None
        self.share = 0.0
        self.detail = ""
        self.spent = 0.0  # seconds spent in finished stages that had an estimate
        self.started_at = self.stage_started = self.last_line = time.perf_counter()

    def unestimated(self) -> bool:
        """Whether a stage still to run has no estimate (so a new record may give one)."""
        return any(
            self._seconds(name) is None for name in self.estimates if name not in self.finished
        )

    def update(self, estimates: dict[str, Estimate]) -> None:
        """Estimates of stages that had none (a record that came with an earlier stage)."""
        for name, found in estimates.items():
            if self.estimates.get(name, Estimate.unknown("")).seconds is None:
                self.estimates[name] = found

    def begin(self, stage: str) -> None:
        self.current, self.share, self.detail = stage, 0.0, ""
        self.stage_started = time.perf_counter()
        self.log()

    def advance(self, done: int, total: int, unit: str = "step") -> None:
        """``done`` of ``total`` units of the current stage are done."""
        self.share = done / total if total else 0.0
        self.detail = f"{unit} {done} of {total}"
        if time.perf_counter() - self.last_line >= self.every:
            self.log()

    def end(self, stage: str) -> None:
        if self._seconds(stage) is not None:
            self.spent += time.perf_counter() - self.stage_started
        self.finished.add(stage)
        self.current, self.share, self.detail = None, 0.0, ""
        if self.finished >= set(self.estimates):  # the next stage's begin says the rest
            self.log()

    def _seconds(self, stage: str) -> float | None:
        return self.estimates.get(stage, Estimate.unknown("")).seconds

    def line(self) -> str:
        """``progress 40%: train standard (step 20 of 50), stage 2 of 4; 1 min 5 s elapsed,
        about 1 min 40 s left``."""
        known = {name: s for name in self.estimates if (s := self._seconds(name)) is not None}
        planned = sum(known.values())
        done = sum(s for name, s in known.items() if name in self.finished)
        spent = self.spent
        if self.current in known:
            done += self.share * known[self.current]
            spent += time.perf_counter() - self.stage_started
        # the run's pace so far: its real seconds per estimated second
        pace = spent / done if done > 0 and spent > 0 else 1.0
        left = max(0.0, planned - done) * pace
        if self.finished >= set(self.estimates):
            took = duration_text(time.perf_counter() - self.started_at)
            return f"progress 100%: all {len(self.estimates)} stages done in {took}"
        unknown = [n for n in self.estimates if n not in known and n not in self.finished]
        share = done / planned if planned else 0.0
        head = f"progress {share:.0%}"
        left_text = f"about {duration_text(left)} left"
        if unknown:
            # no share of the whole is known: the estimated stages' time left is a lower bound
            head = "progress"
            bound = f"at least {duration_text(left)} left" if left > 0 else "time left unknown"
            left_text = f"{bound} ({len(unknown)} stage(s) not estimated yet)"
        position = len(self.finished) + (self.current is not None)
        where = f"{self.current} ({self.detail})" if self.current and self.detail else self.current
        where = where or "between stages"
        elapsed = duration_text(time.perf_counter() - self.started_at)
        return (
            f"{head}: {where}, stage {position} of {len(self.estimates)}; "
            f"{elapsed} elapsed, {left_text}"
        )

    def log(self) -> None:
        self.last_line = time.perf_counter()
        logger.info("%s", self.line())
