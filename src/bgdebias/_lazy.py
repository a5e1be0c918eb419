"""Package attributes imported on first use, so that light entry points stay light.

``bgdebias --help`` imports the package and :mod:`bgdebias.training` for its options; with
their exports imported lazily it never imports torch, which takes seconds.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A module ``__getattr__`` and ``__dir__`` that import each export on first access.

    Args:
        package: The package's ``__name__``.
        exports: ``{public name: module that defines it}``.

    Returns:
        ``(__getattr__, __dir__)`` for the package's namespace. The first access of a name
        imports its module and keeps the value as a plain attribute of the package.

    Example:
        >>> import sys, types
        >>> package = types.ModuleType("demo_package")
        >>> sys.modules["demo_package"] = package
        >>> getattr_, dir_ = lazy_exports("demo_package", {"sqrt": "math"})
        >>> getattr_("sqrt")(9.0), "sqrt" in vars(package), "sqrt" in dir_()
        (3.0, True, True)
        >>> getattr_("cube")
        Traceback (most recent call last):
        ...
        AttributeError: module 'demo_package' has no attribute 'cube'
        >>> del sys.modules["demo_package"]
    """

    def get_attribute(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    def list_attributes() -> list[str]:
        return sorted({*vars(sys.modules[package]), *exports})

    return get_attribute, list_attributes
