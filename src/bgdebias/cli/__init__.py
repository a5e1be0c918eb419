"""The ``bgdebias`` command: ``pretrain``, ``evaluate``, ``heatmap`` and ``demo``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bgdebias._version import __version__
from bgdebias.cli import demo as demo
from bgdebias.cli import evaluate as evaluate
from bgdebias.cli import heatmap as heatmap
from bgdebias.cli import pretrain as pretrain

_COMMANDS = (pretrain, evaluate, heatmap, demo)


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

    Bad values end in one line on stderr (``bgdebias: error: ...``) and status 2, not a
    traceback.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except (ValueError, TypeError, FileNotFoundError, NotADirectoryError, RuntimeError) as error:
        print(f"bgdebias {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"bgdebias {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
