"""Entry point of the ``stepdistill`` command."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from stepdistill import __version__
from stepdistill.cli import (
    compare_commands,
    data_commands,
    demo_commands,
    experiment_commands,
    extract_commands,
    pipeline_commands,
    self_training_commands,
    serve_commands,
    task_commands,
    train_commands,
)
from stepdistill.errors import StepdistillError

# Each module adds its subcommands; a new command group is one more entry here.
COMMAND_GROUPS = (
    data_commands,
    task_commands,
    extract_commands,
    train_commands,
    serve_commands,
    compare_commands,
    experiment_commands,
    pipeline_commands,
    self_training_commands,
    demo_commands,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stepdistill",
        description="Distil an LLM into a small task-specific model (Distilling Step-by-Step).",
    )
    parser.add_argument("--version", action="version", version=f"stepdistill {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for group in COMMAND_GROUPS:
        group.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    # stepdistill's own progress messages (effective batch, counts) are shown by default
    logging.getLogger("stepdistill").setLevel(logging.INFO)
    try:
        return int(args.handler(args) or 0)
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0
    except StepdistillError as error:  # expected: one line, no traceback
        # a stop that is not a failure (a batch file written) exits 0
        print(f"stepdistill: {'error: ' if error.exit_code else ''}{error}", file=sys.stderr)
        return error.exit_code
    except OSError as error:
        print(f"stepdistill: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("stepdistill: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
