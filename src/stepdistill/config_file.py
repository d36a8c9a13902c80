"""The one way YAML settings files (pipelines, recipes, task files) are checked: known keys
(an unknown one named with the closest valid key), value types against the settings
dataclass's annotations, paths relative to the file, and ``--set KEY=VALUE`` overrides.

As TRL's ``TrlParser`` fills its config dataclasses from flags or YAML, every file's section
that holds a stage's settings is turned into that stage's dataclass here.
"""

from __future__ import annotations

import difflib
import os
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar

import yaml

from stepdistill.errors import DataError

SettingsT = TypeVar("SettingsT")

# a settings file is small: its values, aliases expanded, and its bytes are bounded, so that a
# few hundred bytes of nested aliases (a "billion laughs") cannot take gigabytes
MAX_YAML_VALUES = 100_000
MAX_YAML_BYTES = 10_000_000


def _expanded_size(root: yaml.Node) -> int:
    """How many values the document holds with every alias expanded, counted without
    expanding them (each node's size once) and without recursion."""
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    open_nodes: set[int] = set()
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        if isinstance(node, yaml.MappingNode):
            children = [item for pair in node.value for item in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        else:
            children = []
        if children_done or not children:
            open_nodes.discard(id(node))
            sizes[id(node)] = 1 + sum(sizes[id(child)] for child in children)
            continue
        if id(node) in open_nodes:
            raise DataError("an alias refers to a value that holds it (a recursive alias)")
        open_nodes.add(id(node))
        stack.append((node, True))
        stack.extend((child, False) for child in children if id(child) not in sizes)
    return sizes[id(root)]


def load_yaml(text: str) -> Any:
    """YAML text as Python values (the safe loader), refused as DataError when it is over
    ``MAX_YAML_BYTES``, expands to more than ``MAX_YAML_VALUES`` values through aliases, or
    nests deeper than the parser can follow; a malformed document raises ``yaml.YAMLError``."""
    if len(text) > MAX_YAML_BYTES:
        raise DataError(f"{len(text)} characters: more than a settings file holds")
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node) > MAX_YAML_VALUES:
            raise DataError(
                f"its aliases expand to more than {MAX_YAML_VALUES} values (an alias bomb?)"
            )
        return loader.construct_document(node)
    except RecursionError:
        raise DataError("nested deeper than a settings file is") from None
    finally:
        loader.dispose()


def resolve_path(value: Any, base: Path) -> Path:
    """``value`` (``~`` and ``$VARS`` expanded) as a path; a relative one is relative to
    ``base``, the folder of the file that names it."""
    path = Path(os.path.expandvars(str(value))).expanduser()
    return path if path.is_absolute() else Path(os.path.normpath(base / path))


def check_keys(mapping: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
    """Raise DataError naming the unknown keys of ``mapping``, the closest valid one of each,
    and the keys allowed."""
    allowed = list(allowed)
    unknown = sorted(set(mapping) - set(allowed))
    if not unknown:
        return
    hints = [
        f"{key!r}: did you mean {close[0]!r}?"
        for key in unknown
        if (close := difflib.get_close_matches(str(key), allowed, n=1))
    ]
    hint = f" ({'; '.join(hints)})" if hints else ""
    raise DataError(f"{where}: unknown keys {unknown}{hint}; it takes {sorted(allowed)}")


def section(
    data: Mapping[str, Any], key: str, allowed: Iterable[str], where: str
) -> dict[str, Any]:
    """The mapping under ``key`` (empty when absent), its keys checked."""
    value = data.get(key) or {}
    if not isinstance(value, dict):
        raise DataError(f"{where}: '{key}' must be a mapping, got {value!r}")
    check_keys(value, allowed, f"{where}: {key}")
    return dict(value)


def apply_overrides(data: dict[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """``key.sub=value`` overrides (the value read as YAML) applied to a file's contents."""
    for override in overrides:
        key, separator, text = override.partition("=")
        if not separator or not key:
            raise DataError(f"--set {override!r}: expected key=value, e.g. train.student=PATH")
        target = data
        *parents, last = key.split(".")
        for part in parents:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise DataError(f"--set {override!r}: {part!r} is not a section")
        try:
            target[last] = load_yaml(text)
        except DataError as error:
            raise DataError(f"--set {key}: {error}") from None
    return data


def _matches(value: Any, annotation: Any) -> bool:
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, argument) for argument in arguments)
    if annotation is type(None):
        return value is None
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation is str:
        return isinstance(value, str)
    if origin in (list, tuple):
        return isinstance(value, (list, tuple)) and all(
            _matches(item, arguments[0]) for item in value
        )
    if origin is dict:
        return isinstance(value, dict)
    return True


def _type_name(annotation: Any) -> str:
    return str(annotation).replace("typing.", "").replace("<class '", "").replace("'>", "")


def check_types(settings_class: type, values: Mapping[str, Any]) -> None:
    """Raise ValueError naming the first value that is not of its field's declared type
    (a YAML ``1e-4`` is text: write ``1.0e-4``)."""
    hints = typing.get_type_hints(settings_class)
    for name, value in values.items():
        if name in hints and not _matches(value, hints[name]):
            raise ValueError(
                f"{name} must be {_type_name(hints[name])}, got {value!r} ({type(value).__name__})"
            )


def settings_from(
    settings_class: type[SettingsT], values: Mapping[str, Any], where: str
) -> SettingsT:
    """``settings_class`` filled from a file's section: keys and types checked, then the
    dataclass's own checks; every problem is a DataError naming ``where``."""
    check_keys(values, [config_field.name for config_field in fields(settings_class)], where)  # type: ignore[arg-type]
    try:
        check_types(settings_class, values)
        return settings_class(**values)
    except (ValueError, TypeError) as error:
        raise DataError(f"{where}: {error}") from None
