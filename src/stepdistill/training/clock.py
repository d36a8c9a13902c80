"""``StepClock``: a Trainer callback that times each optimizer step and reports progress."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

from transformers import TrainerCallback

# what is told of each step: (steps done, steps in all)
StepHook = Callable[[int, int], None]


class StepClock(TrainerCallback):
    """The end time of every step (calibration), and ``hook(step, max_steps)`` after each
    (a run's overall progress line)."""

    def __init__(self, hook: StepHook | None = None) -> None:
        self.hook = hook
        self.ends: list[float] = []
        self.started = 0.0

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.started = time.perf_counter()

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.ends.append(time.perf_counter())
        if self.hook is not None:
            self.hook(state.global_step, state.max_steps)

    def steady_step_seconds(self) -> float | None:
        """The fastest step after the first: the first pays one-time set-up costs, the next
        ones are still warming up, and another process can only slow a step down (so the
        fastest is the one closest to a long run's steady pace)."""
        times = [self.started, *self.ends]
        durations = [end - start for start, end in itertools.pairwise(times)]
        steady = durations[1:] or durations
        return min(steady) if steady else None
