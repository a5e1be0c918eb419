"""The ``bgdebias`` commands shown in the documentation parse with the real command line.

Commands are not run (they train for hours on GPUs); each is parsed by
:func:`bgdebias.cli.build_parser`, so a renamed option, a bad choice or a wrong type in the
docs fails here. ``--help`` commands are checked to name an existing sub-command.
"""

from __future__ import annotations

import contextlib
import io

import pytest
from doc_examples import REPO, CodeBlock, bgdebias_arguments, code_blocks, doc_pages, shell_commands

from bgdebias.cli import build_parser


def _commands() -> list[tuple[str, list[str]]]:
    pages = [*doc_pages(), REPO / "README.md"]
    found = []
    for page in pages:
        for block in code_blocks(page):
            if block.language not in ("bash", "sh", "console", "shell"):
                continue
            for words in shell_commands(block):
                arguments = bgdebias_arguments(words)
                if arguments is not None:
                    found.append((_where(block), arguments))
    return found


def _where(block: CodeBlock) -> str:
    return f"{block.page.relative_to(REPO)}:{block.line}"


COMMANDS = _commands()


def test_docs_show_every_command() -> None:
    shown = {
        arguments[0] for _, arguments in COMMANDS if arguments and not arguments[0].startswith("-")
    }
    assert {"pretrain", "evaluate", "heatmap", "demo"} <= shown


@pytest.mark.parametrize(("where", "arguments"), COMMANDS, ids=[w for w, _ in COMMANDS])
def test_documented_command_parses(where: str, arguments: list[str]) -> None:
    parser = build_parser()
    if "--help" in arguments or "--version" in arguments:
        subcommands = {a for a in arguments if not a.startswith("-")}
        choices = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
        assert choices is not None
        assert subcommands <= set(choices), f"{where}: unknown command {subcommands}"
        return
    errors = io.StringIO()
    try:
        with contextlib.redirect_stderr(errors):
            parser.parse_args(arguments)
    except SystemExit:
        pytest.fail(
            f"{where}: `bgdebias {' '.join(arguments)}` does not parse:\n{errors.getvalue()}",
            pytrace=False,
        )
