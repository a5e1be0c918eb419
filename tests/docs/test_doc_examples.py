"""Every ``python`` code block of the documentation runs (doctest blocks check their output)."""

from __future__ import annotations

import doctest
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from doc_examples import DOCS, CodeBlock, doc_pages, python_blocks
from doc_fixtures import PAGE_SETUP

PAGES = [page for page in doc_pages() if python_blocks(page)]
_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _run_doctest(block: CodeBlock, namespace: dict[str, object]) -> None:
    parser = doctest.DocTestParser()
    test = parser.get_doctest(block.code, namespace, block.where, str(block.page), block.line - 1)
    runner = doctest.DocTestRunner(optionflags=_FLAGS)
    report = io.StringIO()
    runner.run(test, out=report.write, clear_globs=False)
    namespace.update(test.globs)  # DocTest works on a copy; later blocks see these names
    if runner.failures:
        pytest.fail(f"doctest in {block.where} failed:\n{report.getvalue()}", pytrace=False)


def _run_script(block: CodeBlock, namespace: dict[str, object]) -> None:
    code = compile(block.code, block.where, "exec")
    exec(code, namespace)


def test_pages_have_examples() -> None:
    names = {page.relative_to(DOCS).as_posix() for page in PAGES}
    assert {"quickstart.md", "blocks/decoupler.md", "own_codebase.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(DOCS).as_posix())
def test_page_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    setup: Callable[[Path], None] | None = PAGE_SETUP.get(page.relative_to(DOCS).as_posix())
    if setup is not None:
        setup(tmp_path)
    namespace: dict[str, object] = {"__name__": "__doc_example__"}
    for block in python_blocks(page):
        if block.is_doctest:
            _run_doctest(block, namespace)
        else:
            _run_script(block, namespace)
