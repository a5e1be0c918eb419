"""Checks of plain Python values (numbers, choices), with messages that name the argument.

Kept apart from the tensor checks of :mod:`bgdebias._validation` so that configuration
classes can use them without importing torch.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, TypeVar

#: A string choice, usually a ``Literal[...]`` type: :func:`check_choice` returns it.
Choice = TypeVar("Choice", bound=str)


def check_open_unit(value: Any, name: str) -> float:
    """Check a number strictly between 0 and 1 and return it as a float."""
    number = check_number(value, name)
    if not 0.0 < number < 1.0:
        raise ValueError(f"`{name}` must be in the open interval (0, 1), got {value!r}")
    return number


def check_unit(value: Any, name: str) -> float:
    """Check a number in the closed interval [0, 1] and return it as a float."""
    number = check_number(value, name)
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"`{name}` must be in the closed interval [0, 1], got {value!r}")
    return number


def check_positive(value: Any, name: str) -> float:
    """Check a finite number greater than 0 and return it as a float."""
    number = check_number(value, name)
    if not number > 0.0 or number == float("inf"):
        raise ValueError(f"`{name}` must be a finite number > 0, got {value!r}")
    return number


def check_non_negative(value: Any, name: str) -> float:
    """Check a finite number greater than or equal to 0 and return it as a float."""
    number = check_number(value, name)
    if not number >= 0.0 or number == float("inf"):
        raise ValueError(f"`{name}` must be a finite number >= 0, got {value!r}")
    return number


def check_number(value: Any, name: str) -> float:
    """Check a real number (not a bool) and return it as a float."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"`{name}` must be a number, got {type(value).__name__} ({value!r})")
    return float(value)


def check_bool(value: Any, name: str) -> bool:
    """Check a bool (not an int such as 0 or 1) and return it."""
    if not isinstance(value, bool):
        raise TypeError(f"`{name}` must be a bool, got {type(value).__name__} ({value!r})")
    return value


def check_int(value: Any, name: str, *, minimum: int) -> int:
    """Check an integer (not a bool) of at least ``minimum`` and return it."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"`{name}` must be an int, got {type(value).__name__} ({value!r})")
    if value < minimum:
        raise ValueError(f"`{name}` must be an int >= {minimum}, got {value}")
    return value


def check_choice(value: Any, name: str, allowed: Collection[Choice]) -> Choice:
    """Check that ``value`` is one of ``allowed`` and return it, typed as an allowed choice.

    With ``allowed`` typed ``tuple[Mode, ...]`` (``Mode`` a ``Literal``), or a literal tuple
    assigned to a ``Mode`` variable, the result is a ``Mode``: no cast needed.

    Example:
        >>> check_choice("sum", "reduction", ("mean", "sum"))
        'sum'
        >>> check_choice("max", "reduction", ("mean", "sum"))
        Traceback (most recent call last):
        ...
        ValueError: `reduction` must be one of 'mean', 'sum'; got 'max'
    """
    for choice in allowed:
        if value == choice and isinstance(value, str):
            return choice
    choices = ", ".join(repr(a) for a in allowed)
    raise ValueError(f"`{name}` must be one of {choices}; got {value!r}")
