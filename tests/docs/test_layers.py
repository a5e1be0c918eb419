"""Every import of ``src/bgdebias`` follows the layer diagram of docs/dev/conventions.md."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "bgdebias"
CONVENTIONS = ROOT / "docs" / "dev" / "conventions.md"


def documented_layers() -> dict[str, int]:
    """``{package: layer}``, 0 the bottom, from the diagram's ```text block."""
    text = CONVENTIONS.read_text()
    block = re.search(r"## Package layers.*?```text\n(.*?)```", text, re.DOTALL)
    assert block is not None, "no ```text diagram under '## Package layers'"
    lines = block.group(1).strip().splitlines()
    layers = {}
    for depth, line in enumerate(reversed(lines)):
        names = re.split(r"\s{3,}", line.strip())[0]  # a description follows 3+ spaces
        for name in names.split():
            layers[name] = depth
    return layers


def imports_of(path: Path) -> set[str]:
    """The top-level ``bgdebias`` packages or modules that ``path`` imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "bgdebias" and len(parts) > 1:
                found.add(parts[1])
    return found


def test_the_diagram_names_every_package_and_private_module() -> None:
    layers = documented_layers()
    present = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    present |= {p.stem for p in PACKAGE.glob("_*.py") if p.stem not in {"__init__", "__main__"}}
    assert set(layers) == present


def test_every_import_points_down() -> None:
    layers = documented_layers()
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        own = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        if own not in layers:  # bgdebias/__init__.py and __main__.py sit above the layers
            continue
        for imported in imports_of(path) - {own}:
            upward = layers[imported] > layers[own]
            sideways = layers[imported] == layers[own] > 0  # the bottom's helpers may
            if upward or sideways:
                wrong.append(f"{path.relative_to(ROOT)} imports bgdebias.{imported}")
    assert wrong == []


def test_no_module_reaches_into_another_package_private_names() -> None:
    """``bgdebias.<pkg>._module`` and ``_name`` imports stay inside ``<pkg>``."""
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        own = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.ImportFrom) and node.module and node.level == 0):
                continue
            parts = node.module.split(".")
            if parts[0] != "bgdebias" or len(parts) < 3 or parts[1] == own:
                continue
            private = [p for p in parts[2:] if p.startswith("_")]
            private += [a.name for a in node.names if a.name.startswith("_")]
            if private:
                wrong.append(f"{path.relative_to(ROOT)}: from {node.module} import ...")
    assert wrong == []
