"""Command-line options derived from config dataclasses: one option per field, with the
field's help, choices and default, so that a setting is declared once, in its config class."""

from __future__ import annotations

import argparse
import typing
from collections.abc import Sequence
from dataclasses import Field, fields
from typing import Any

from stepdistill.settings import default_of


def _scalar_type(annotation: Any) -> type:
    """``int`` for ``int | None`` or ``list[int]``; the annotation itself otherwise."""
    options = [a for a in typing.get_args(annotation) if a is not type(None)]
    if not options:
        return annotation
    return _scalar_type(options[0]) if typing.get_args(options[0]) else options[0]


def _help(config_field: Field) -> str:
    text = config_field.metadata.get("help", "")
    default = default_of(config_field)
    shown = ("on" if default else "off") if isinstance(default, bool) else repr(default)
    return f"{text} (default: {shown})".replace("%", "%%")


def option_strings(config_field: Field) -> list[str]:
    """``--field-name`` (the name a pipeline, recipe or ``--set`` uses too, shown in usage)
    and the field's short alias, if it has one, still accepted."""
    flag = "--" + config_field.name.replace("_", "-")
    alias = config_field.metadata.get("alias")
    return [flag, alias] if alias else [flag]


def add_config_options(
    parser: argparse.ArgumentParser,
    groups: Sequence[tuple[str, type]],
    *,
    only: Sequence[str] | None = None,
) -> list[str]:
    """Add one option per field of each ``(title, config class)``, in an argument group of
    that title; a field already added by an earlier class is not repeated.

    Every option defaults to None, so that only the options given reach the config (a method
    that has no such setting then says so instead of silently ignoring it).

    ``only``: add just these fields.

    Returns:
        The field names added.
    """
    added: list[str] = []
    for title, config_class in groups:
        hints = typing.get_type_hints(config_class)
        group = parser.add_argument_group(title)
        for config_field in fields(config_class):
            if config_field.name in added or (only is not None and config_field.name not in only):
                continue
            added.append(config_field.name)
            kind = _scalar_type(hints[config_field.name])
            options: dict[str, Any] = {"dest": config_field.name, "help": _help(config_field)}
            choices = config_field.metadata.get("choices")
            if config_field.metadata.get("repeatable"):
                # one value or several per flag, and the flag repeated: --filter a --filter b
                options.update(
                    action="extend", nargs="+", type=kind, metavar=config_field.name.upper()
                )
            elif kind is bool:
                options["action"] = argparse.BooleanOptionalAction
            elif choices:
                options.update(type=kind, choices=choices)
            else:
                options.update(type=kind, metavar=config_field.name.upper())
            group.add_argument(*option_strings(config_field), default=None, **options)
    return added


def config_overrides(args: argparse.Namespace, names: Sequence[str]) -> dict[str, Any]:
    """The config fields the user gave on the command line."""
    return {name: getattr(args, name) for name in names if getattr(args, name) is not None}
