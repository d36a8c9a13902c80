"""How fast this machine did a kind of work, and the estimates made from it (``--dry-run``).

Every training and extraction run records what it measured in one JSON file per user
(``$STEPDISTILL_THROUGHPUT``, else ``~/.cache/stepdistill/throughput.json``), keyed by the
machine (CPU model, cores, accelerator) and the workload (student, batch, lengths; teacher).
A dry run estimates from those records, or times a few steps when there are none.
"""

from __future__ import annotations

import json
import logging
import math
import os
import platform
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

THROUGHPUT_ENV = "STEPDISTILL_THROUGHPUT"
KEEP = 5  # measurements kept per workload: the newest
# how wrong an estimate can be, either way: a few timed steps (the test bound), and the
# smallest spread claimed for records however alike they are (a shared, noisy machine)
CALIBRATED_FACTOR = 2.0
RECORDED_MIN_FACTOR = 1.25

RECORDED, CALIBRATED, UNKNOWN = "recorded", "calibrated", "unknown"


def throughput_path() -> Path:
    """The throughput file of this user: ``$STEPDISTILL_THROUGHPUT`` or the cache folder's."""
    path = os.environ.get(THROUGHPUT_ENV)
    return Path(path) if path else Path.home() / ".cache" / "stepdistill" / "throughput.json"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    """This machine as far as speed goes: CPU model, cores, and the accelerator if any."""
    accelerator = "cpu"
    try:
        import torch

        if torch.cuda.is_available():
            count = torch.cuda.device_count()
            accelerator = f"{count}x {torch.cuda.get_device_name(0)}"
    except ImportError:  # the teacher side runs without torch
        pass
    return f"{_cpu_model()} / {os.cpu_count()} cores / {accelerator}"


def workload_key(kind: str, workload: Mapping[str, Any]) -> str:
    return json.dumps({"kind": kind, "machine": machine(), **workload}, sort_keys=True)


@dataclass(frozen=True)
class Measurement:
    """One run's throughput: ``values`` (seconds per unit of work, fixed seconds) and how it
    was taken (a real run, or a calibration)."""

    values: dict[str, float]
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {"values": self.values, "source": self.source}


class ThroughputLog:
    """The throughput file: the newest ``KEEP`` measurements of each (machine, workload)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or throughput_path()

    def _read(self) -> dict[str, list[dict[str, Any]]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            logger.warning("%s is unreadable: throughput records start afresh", self.path)
            return {}
        return data if isinstance(data, dict) else {}

    def measurements(self, kind: str, workload: Mapping[str, Any]) -> list[Measurement]:
        """This machine's measurements of the workload: real runs' if any, else calibrations'."""
        found = [
            Measurement({k: float(v) for k, v in entry["values"].items()}, entry["source"])
            for entry in self._read().get(workload_key(kind, workload), [])
            if isinstance(entry, dict) and isinstance(entry.get("values"), dict)
        ]
        recorded = [m for m in found if m.source == RECORDED]
        return recorded or found

    def record(self, kind: str, workload: Mapping[str, Any], measurement: Measurement) -> None:
        """Keep ``measurement`` (a calibration never displaces a real run's). A file that
        cannot be written is a warning: a run never fails for its speed record."""
        values = measurement.values
        if not values or not all(math.isfinite(v) and v >= 0 for v in values.values()):
            return
        data = self._read()
        key = workload_key(kind, workload)
        entries = [e for e in data.get(key, []) if isinstance(e, dict)]
        if measurement.source == CALIBRATED and any(e.get("source") == RECORDED for e in entries):
            return
        data[key] = [*entries, measurement.to_dict()][-KEEP:]
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(
                "w", dir=self.path.parent, suffix=".tmp", delete=False, encoding="utf-8"
            ) as handle:
                json.dump(data, handle, indent=1)
            os.replace(handle.name, self.path)
        except OSError as error:
            logger.warning("could not record throughput in %s: %s", self.path, error)


def spread(measurements: Iterable[Measurement], seconds: Any) -> float:
    """How far apart the estimates of the same work from each measurement are (max / min)."""
    estimates = [seconds(m.values) for m in measurements]
    low, high = min(estimates), max(estimates)
    return max(RECORDED_MIN_FACTOR, high / low if low > 0 else RECORDED_MIN_FACTOR)


@dataclass(frozen=True)
class Estimate:
    """How long some work will take here: ``seconds`` (None: not known), where that came from
    (recorded runs, a calibration now, unknown) and ``factor``: it may be off by that factor
    either way."""

    seconds: float | None
    source: str
    factor: float | None = None
    note: str = ""

    @classmethod
    def unknown(cls, note: str) -> Estimate:
        return cls(None, UNKNOWN, None, note)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Estimate:
        return cls(data["seconds"], data["source"], data.get("within_factor"), data["note"])

    @classmethod
    def nothing(cls) -> Estimate:
        """A stage that is done: nothing left to do."""
        return DONE

    @classmethod
    def from_measurements(
        cls, measurements: list[Measurement], seconds: Any, note: str = ""
    ) -> Estimate:
        """The mean of each measurement's estimate, bounded by their spread (recorded runs)
        or by ``CALIBRATED_FACTOR`` (a calibration)."""
        values = [seconds(m.values) for m in measurements]
        source = RECORDED if measurements[0].source == RECORDED else CALIBRATED
        factor = spread(measurements, seconds) if source == RECORDED else CALIBRATED_FACTOR
        runs = f"{len(values)} earlier run{'s' * (len(values) != 1)} on this machine"
        where = runs if source == RECORDED else "a calibration on this machine"
        return cls(sum(values) / len(values), source, factor, f"{where}{note}")

    def line(self) -> str:
        """``about 4 min 10 s (calibrated here; may be off by 2x either way)``, for people."""
        if self.seconds is None:
            return f"unknown ({self.note})" if self.note else "unknown"
        bound = f"; may be off by {self.factor:.3g}x either way" if self.factor else ""
        note = f"; {self.note}" if self.note else ""
        return f"about {duration_text(self.seconds)} ({self.source} here{bound}{note})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "seconds": None if self.seconds is None else round(self.seconds, 1),
            "readable": duration_text(self.seconds),
            "source": self.source,
            "within_factor": None if self.factor is None else round(self.factor, 2),
            "note": self.note,
        }


DONE = Estimate(0.0, RECORDED, 1.0, "done")


def total(estimates: Iterable[Estimate]) -> Estimate:
    """The sum of several estimates: as wrong as the worst of them; the unknown ones named."""
    parts = list(estimates)
    known = [e for e in parts if e.seconds is not None]
    unknown = len(parts) - len(known)
    sources = sorted({e.source for e in known if e != DONE})
    factor = max((e.factor or 1.0 for e in known), default=None)
    note = f"{unknown} stage{'s' * (unknown != 1)} not estimated, not counted" if unknown else ""
    seconds = sum(e.seconds or 0.0 for e in known)
    if not known:
        return Estimate.unknown(note)
    return Estimate(seconds, "+".join(sources) or RECORDED, factor, note)


def duration_text(seconds: float | None) -> str:
    """``1 h 5 min``, ``4 min 10 s``, ``12 s``; ``unknown`` for None."""
    if seconds is None:
        return "unknown"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def fixed_estimate(kind: str, workload: Mapping[str, Any]) -> Estimate:
    """A stage whose time hardly depends on its size (an export, a report): as it took
    before on this machine, or unknown."""
    found = ThroughputLog().measurements(kind, workload)
    if not found:
        return Estimate.unknown("no earlier run on this machine")
    return Estimate.from_measurements(found, lambda values: values.get("overhead_seconds", 0.0))


def record_fixed(kind: str, workload: Mapping[str, Any], seconds: float) -> None:
    ThroughputLog().record(kind, workload, Measurement({"overhead_seconds": seconds}, RECORDED))
