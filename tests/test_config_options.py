"""Training settings have one home: every config field is a `stepdistill train` option whose
help shows the dataclass default, and the Trainer's arguments come from the same fields."""

from __future__ import annotations

import argparse
import re
from dataclasses import fields

import pytest

from stepdistill.cli.config_options import config_overrides, option_strings
from stepdistill.cli.main import build_parser
from stepdistill.settings import default_of
from stepdistill.training import METHODS, TrainConfig, make_config


def train_help(monkeypatch) -> str:
    monkeypatch.setenv("COLUMNS", "400")  # one line per option: no wrapping inside a help text
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return subparsers.choices["train"].format_help()


def help_entries(help_text: str) -> list[tuple[list[str], str]]:
    """(option strings, help text) of every option in an argparse help."""
    entries: list[tuple[list[str], str]] = []
    for line in help_text.splitlines():
        if re.match(r"^  -", line):
            head, _, text = line.strip().partition("  ")
            options = [part.split()[0] for part in head.split(", ")]
            entries.append((options, text.strip()))
        elif entries and line.startswith("    "):
            options, text = entries[-1]
            entries[-1] = (options, f"{text} {line.strip()}".strip())
    return entries


def shown(value) -> str:
    return ("on" if value else "off") if isinstance(value, bool) else repr(value)


def every_field():
    seen = {}
    for name in METHODS.names():
        for config_field in fields(METHODS.get(name).config_class):
            seen.setdefault(config_field.name, config_field)
    return list(seen.values())


@pytest.mark.parametrize("config_field", every_field(), ids=lambda f: f.name)
def test_every_setting_is_an_option_showing_the_dataclass_default(config_field, monkeypatch):
    flag = "--" + config_field.name.replace("_", "-")
    assert flag in option_strings(config_field)
    entries = help_entries(train_help(monkeypatch))
    matching = [text for options, text in entries if flag in options]
    assert len(matching) == 1, f"{flag} is not an option of `stepdistill train --help`"
    assert matching[0].endswith(f"(default: {shown(default_of(config_field))})")


def test_every_train_config_field_is_covered():
    assert {f.name for f in fields(TrainConfig)} <= {f.name for f in every_field()}


def test_options_reach_the_config_and_only_given_ones(tmp_path):
    parser = build_parser()
    required = ["train", "--task", "svamp", "--student", "s", "--output", str(tmp_path)]
    given = ["--lr", "1e-3", "--weight-decay", "0.1", "--no-group-by-length", "--shared-input"]
    args = parser.parse_args([*required, *given])

    overrides = config_overrides(args, args.config_fields)
    assert overrides == {
        "learning_rate": 1e-3,
        "weight_decay": 0.1,
        "group_by_length": False,
        "shared_input": True,
    }
    config = make_config("step-by-step", **overrides)
    assert (config.learning_rate, config.weight_decay, config.group_by_length) == (1e-3, 0.1, False)


def test_training_arguments_come_from_the_config_fields(tmp_path):
    config = make_config(
        "standard", learning_rate=3e-4, weight_decay=0.01, lr_scheduler_type="cosine", max_steps=0
    )
    args = config.to_training_arguments(tmp_path, has_valid=True)
    assert args.learning_rate == 3e-4 and args.weight_decay == 0.01
    assert args.lr_scheduler_type.value == "cosine" and args.optim.value == "adamw_torch"
    assert args.max_steps == -1 and args.num_train_epochs == 1.0
    assert args.metric_for_best_model == "accuracy" and args.save_steps == config.eval_steps
    passed_as_is = [f for f in fields(config) if f.metadata.get("hf")]
    assert {f.metadata["hf"] for f in passed_as_is} <= set(vars(args))


def subcommand_actions(parser: argparse.ArgumentParser, prefix: str = ""):
    """(command path, action) for every option of every subcommand, nested ones included."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from subcommand_actions(sub, f"{prefix} {name}".strip())
        elif action.option_strings:
            yield prefix, action


def test_every_settings_field_has_its_yaml_name_as_the_flag_shown_first():
    """A pipeline's or recipe's key and the command line's flag are one name; aliases
    (``--lr``, ``--batch-size``) stay accepted after it."""
    from stepdistill.extraction import TeacherSettings
    from stepdistill.pipeline import SelfTrainingConfig
    from stepdistill.serving import ServeLimits
    from stepdistill.training import RunSettings

    classes = [TeacherSettings, RunSettings, ServeLimits, SelfTrainingConfig]
    classes += [METHODS.get(name).config_class for name in METHODS.names()]
    names = {f.name for cls in classes for f in fields(cls)}
    checked = 0
    for command, action in subcommand_actions(build_parser()):
        if action.dest in names:
            flag = "--" + action.dest.replace("_", "-")
            assert action.option_strings[0] == flag, (command, action.option_strings)
            checked += 1
    assert checked > 100  # extract, judge, train, serve and self-train options
    aliased = [f for cls in classes for f in fields(cls) if f.metadata.get("alias")]
    assert {f.name for f in aliased} >= {"learning_rate", "per_device_batch_size"}
    parser = build_parser()
    short = parser.parse_args(
        ["train", "--task", "t", "--student", "s", "--output", "o", "--batch-size", "4"]
    )
    assert short.per_device_batch_size == 4  # the alias still works
