"""The ``bgdebias`` command: ``pretrain``, ``evaluate``, ``heatmap`` and ``demo``."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence

from bgdebias._version import __version__
from bgdebias.cli import demo as demo
from bgdebias.cli import evaluate as evaluate
from bgdebias.cli import export as export
from bgdebias.cli import heatmap as heatmap
from bgdebias.cli import pretrain as pretrain
from bgdebias.training.interruption import RunInterrupted, stop_on_signals

_COMMANDS = (pretrain, evaluate, heatmap, demo, export)


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one sub-command per module in :mod:`bgdebias.cli`."""
    parser = argparse.ArgumentParser(
        prog="bgdebias",
        description="Remove background bias from contrastive video representation learning.",
    )
    parser.add_argument("--version", action="version", version=f"bgdebias {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in _COMMANDS:
        command.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status.

    Bad values, unusable files and failed reads or writes end in one line on stderr
    (``bgdebias <command>: error: ...``) and status 2, not a traceback. The first SIGINT
    or SIGTERM stops the command (a pretraining run after its current step, with a
    checkpoint), says what was saved and returns 130 or 143 (128 + the signal number); a
    second one ends the process at once.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with stop_on_signals():
            return int(args.run(args))
    except RunInterrupted as interruption:
        print(f"bgdebias {args.command}: {interruption}", file=sys.stderr)
        return interruption.exit_code
    except KeyboardInterrupt:
        print(f"bgdebias {args.command}: interrupted", file=sys.stderr)
        return 130
    except (ValueError, TypeError, OSError, RuntimeError) as error:
        message = as_command_line(one_line(error))
        print(f"bgdebias {args.command}: error: {message}", file=sys.stderr)
        return 2


def one_line(error: BaseException) -> str:
    """The error's message on one line (YAML, OS and torch errors may span several).

    Example:
        >>> one_line(RuntimeError("Error(s) in loading state_dict:\\n\\tMissing key(s): x"))
        'Error(s) in loading state_dict: Missing key(s): x'
        >>> one_line(PermissionError(13, "Permission denied", "/runs/x"))
        "[Errno 13] Permission denied: '/runs/x'"
    """
    return " ".join(part.strip() for part in str(error).splitlines() if part.strip())


#: Library arguments that errors advise, and the command-line options that set them.
_OPTION_SPELLINGS = (
    (re.compile(r"""missing_files\s*=\s*['"](raise|skip)['"]"""), r"--missing-files \1"),
    (re.compile(r"`root` is required"), "--root is required"),
    (re.compile(r"\(dataset, root\)"), "(--dataset, --root)"),
)


def as_command_line(message: str) -> str:
    """Advice written for the library (``missing_files='skip'``) as the option that gives it.

    Example:
        >>> as_command_line("ucf101: 1 listed video(s) are missing; pass missing_files='skip'")
        'ucf101: 1 listed video(s) are missing; pass --missing-files skip'
        >>> as_command_line("`root` is required for dataset 'ucf101'")
        "--root is required for dataset 'ucf101'"
    """
    for pattern, option in _OPTION_SPELLINGS:
        message = pattern.sub(option, message)
    return message


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
