"""The install instructions say what to do first: the CPU build of torch, FFmpeg for videos.

A CPU-only user who runs ``pip install ".[video]"`` before reading further downloads
gigabytes of CUDA wheels, so both notes must come before the first install command.
"""

from __future__ import annotations

import re

import pytest
from doc_examples import REPO, code_blocks

CPU_TORCH = "pip install torch torchvision --index-url https://download.pytorch.org/whl/cpu"
#: ``pip install`` of the library itself (``.``, ``".[video]"``, ``-e ".[dev]"``, ...).
INSTALLS_BGDEBIAS = re.compile(r"""pip install (-e )?["']?\.(\[[a-z,]+\])?["']?(\s|$)""")


def _first_library_install(text: str) -> int:
    found = INSTALLS_BGDEBIAS.search(text)
    assert found, "no `pip install .` command found"
    return found.start()


@pytest.mark.parametrize("page", ["README.md", "docs/quickstart.md", "docs/installation.md"])
def test_cpu_torch_and_ffmpeg_come_before_the_install_command(page: str) -> None:
    text = (REPO / page).read_text(encoding="utf-8")
    install = _first_library_install(text)
    cpu_blocks = [block for block in code_blocks(REPO / page) if CPU_TORCH in block.code]
    assert cpu_blocks, f"{page} shows no `{CPU_TORCH}` command"
    assert text.index(CPU_TORCH) < install, f"{page}: the CPU build of torch comes too late"
    assert "apt-get install -y ffmpeg" in text[:install], f"{page}: FFmpeg comes too late"
    assert "PyAV" in text[:install], f"{page}: the PyAV fallback comes too late"


def test_the_readme_keeps_its_test_command() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    marker = text.index("<!-- test-command -->")
    block = text[marker:].split("```", 2)[1]
    assert block.startswith('bash\npip install -e ".[test,docs]" && ruff check . && ')
