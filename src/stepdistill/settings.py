"""Settings declared once: a dataclass field carries its default, help text, command-line flag
and choices, and everything else (CLI options, help, validation) is derived from it."""

from __future__ import annotations

import math
from dataclasses import MISSING, Field, field, fields
from typing import Any


def setting(
    default: Any,
    help: str,
    *,
    alias: str | None = None,
    choices: tuple[str, ...] | None = None,
    trainer_argument: str | None = None,
    repeatable: bool = False,
) -> Any:
    """A config field and everything the CLI (and the Trainer) need to know about it.

    Args:
        default: The default, here and nowhere else (a list or dict default is copied per
            instance).
        help: One line for ``--help`` (the default is appended there).
        alias: A short flag besides ``--field-name`` (``--lr``).
        choices: The values allowed, checked by the CLI and by ``check_settings``.
        trainer_argument: The ``TrainingArguments`` argument the value is passed to as is.
        repeatable: A list setting given by repeating its flag (``--filter a --filter b``).
    """
    metadata = {
        "help": help,
        "alias": alias,
        "choices": choices,
        "hf": trainer_argument,
        "repeatable": repeatable,
    }
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=metadata)
    return field(default=default, metadata=metadata)


def default_of(config_field: Field) -> Any:
    """A field's default value (for help texts and tests)."""
    if config_field.default is not MISSING:
        return config_field.default
    factory = config_field.default_factory
    if callable(factory):
        return factory()
    return None


def check_settings(config: Any) -> None:
    """Raise ValueError naming the field: a value that is not one of its field's choices, or
    a number that is not finite (``nan`` and ``inf`` are never a setting's meaning; a run on
    them ends with loss 0.0 and accuracy 0.0, or every request timed out at once)."""
    for config_field in fields(config):
        choices = config_field.metadata.get("choices")
        value = getattr(config, config_field.name)
        values = value if config_field.metadata.get("repeatable") else [value]
        for item in values:
            if choices and item not in choices:
                raise ValueError(f"{config_field.name} must be one of {choices}, got {item!r}")
            if isinstance(item, float) and not math.isfinite(item):
                raise ValueError(f"{config_field.name} must be a finite number, got {item}")
