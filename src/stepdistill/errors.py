"""Exceptions raised by stepdistill. Every message names the value or file at fault."""

from __future__ import annotations


class StepdistillError(Exception):
    """Base class of every error stepdistill raises on purpose; the command line prints its
    message on one line and exits with ``exit_code``."""

    exit_code = 2


class UnknownNameError(StepdistillError, ValueError):
    """A registry was asked for a name it does not hold."""


class DataError(StepdistillError, ValueError):
    """Input data is malformed: a file, line or field is not what the loader expects."""


class MissingSplitError(DataError, FileNotFoundError):
    """A split was asked for whose file is not there."""


class BudgetReached(StepdistillError):
    """The teacher's spending ceiling was reached before every request was sent."""


class NoUsableExamples(StepdistillError):
    """A training method found no example it can learn from (e.g. no rationale was kept)."""


class DiskFull(StepdistillError):
    """A write failed because its device is (all but) full; what was written completely is
    kept, and a rerun resumes from it."""
