"""Find the code examples of the documentation's Markdown pages.

Every fenced block whose info string is ``python`` is an example that must run:

- a block that starts with ``>>>`` is a doctest: its printed output is checked;
- any other block is executed as a script (and checks itself with ``assert``).

The blocks of one page run in order in one namespace, like a notebook. ``bash`` blocks are
not run; the ``bgdebias`` commands in them are parsed by the real argument parser instead
(see ``test_doc_commands.py``).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"

#: Pages written by others or generated: not scanned for examples here.
EXCLUDED = ("_build", "api", "benchmarks", "dev", "_templates", "_static")

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^\n`]*)$")


@dataclass(frozen=True)
class CodeBlock:
    """One fenced block of a page."""

    page: Path
    line: int
    language: str
    code: str

    @property
    def is_doctest(self) -> bool:
        return self.code.lstrip().startswith(">>>")

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line}"


def doc_pages() -> list[Path]:
    """The Markdown pages of ``docs/`` that hold examples to run."""
    return sorted(
        path
        for path in DOCS.rglob("*.md")
        if not any(part in EXCLUDED for part in path.relative_to(DOCS).parts[:-1])
    )


def code_blocks(page: Path) -> list[CodeBlock]:
    """Fenced blocks of ``page`` in order (MyST directive fences such as ``{figure}`` skipped)."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks: list[CodeBlock] = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if match is None:
            i += 1
            continue
        indent, fence, info = match["indent"], match["fence"], match["info"].strip()
        body: list[str] = []
        j = i + 1
        while j < len(lines):
            closing = lines[j].strip()
            if closing.startswith(fence[0] * len(fence)) and set(closing) == {fence[0]}:
                break
            body.append(lines[j][len(indent) :] if lines[j].startswith(indent) else lines[j])
            j += 1
        language = info.split()[0] if info else ""
        if not language.startswith("{"):
            blocks.append(CodeBlock(page, i + 2, language, "\n".join(body) + "\n"))
        i = j + 1
    return blocks


def python_blocks(page: Path) -> list[CodeBlock]:
    return [block for block in code_blocks(page) if block.language in ("python", "py", "pycon")]


def shell_commands(block: CodeBlock) -> list[list[str]]:
    """The commands of a ``bash`` block, split into words (continuations joined)."""
    text = re.sub(r"\\\n", " ", block.code)
    commands: list[list[str]] = []
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        for part in re.split(r"&&|\|\||;", line):
            words = shlex.split(part)
            if words:
                commands.append(words)
    return commands


def bgdebias_arguments(words: list[str]) -> list[str] | None:
    """The arguments after ``bgdebias`` / ``python -m bgdebias`` / ``torchrun ... -m bgdebias``."""
    for index, word in enumerate(words):
        if word == "bgdebias" and (index == 0 or words[index - 1] == "-m"):
            return words[index + 1 :]
    return None
