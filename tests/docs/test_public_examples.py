"""Every public class and function carries a runnable example (doctests run in the suite)."""

from __future__ import annotations

import importlib
import inspect

import pytest

PUBLIC_MODULES = (
    "bgdebias",
    "bgdebias.blocks",
    "bgdebias.losses",
    "bgdebias.moco",
    "bgdebias.models",
    "bgdebias.data",
    "bgdebias.data.synthetic",
    "bgdebias.training",
    "bgdebias.evaluation",
    "bgdebias.viz",
    "bgdebias.experiments",
)


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
