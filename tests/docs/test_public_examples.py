"""Every public class and function carries a runnable example (doctests run in the suite)."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _documented_modules() -> list[str]:
    """The modules the API reference documents (``apigen_modules`` in docs/conf.py)."""
    tree = ast.parse((REPO / "docs" / "conf.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "apigen_modules" for t in node.targets
        ):
            modules: list[str] = ast.literal_eval(node.value)
            return modules
    raise AssertionError("docs/conf.py defines no apigen_modules")


PUBLIC_MODULES = _documented_modules()


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_every_public_callable_has_an_example(module_name: str) -> None:
    module = importlib.import_module(module_name)
    missing = []
    for name in module.__all__:
        obj = getattr(module, name)
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue  # constants and type aliases are described by their module
        doc = inspect.getdoc(obj) or ""
        if "Example:" not in doc:
            missing.append(name)
        elif ">>>" not in doc and "See :" not in doc.split("Example:", 1)[1]:
            missing.append(f"{name} (Example section without code or a reference)")
    assert not missing, f"{module_name}: no docstring example for {missing}"
