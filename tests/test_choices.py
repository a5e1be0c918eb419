"""``check_choice`` returns the allowed choice, typed as the allowed tuple's element type."""

from __future__ import annotations

import re
from typing import Literal

import pytest
from typing_extensions import assert_type

from bgdebias._validation import check_choice

Colour = Literal["red", "green"]
COLOURS: tuple[Colour, ...] = ("red", "green")


def test_returns_the_allowed_choice_typed_as_it() -> None:
    colour = check_choice("green", "colour", COLOURS)
    assert_type(colour, Colour)  # checked by mypy: no cast or `type: ignore` at call sites
    assert colour == "green"
    assert colour is COLOURS[1]


def test_a_literal_tuple_takes_the_type_of_the_variable_it_is_assigned_to() -> None:
    colour: Colour = check_choice("red", "colour", ("red", "green"))
    assert colour == "red"


@pytest.mark.parametrize("value", ["blue", 1, None, b"red"])
def test_other_values_name_the_argument_the_value_and_the_choices(value: object) -> None:
    expected = f"`colour` must be one of 'red', 'green'; got {value!r}"
    with pytest.raises(ValueError, match=re.escape(expected)):
        check_choice(value, "colour", COLOURS)
