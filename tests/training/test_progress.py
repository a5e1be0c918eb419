"""The progress bar's speed reading keeps two significant figures."""

from __future__ import annotations

import math

import pytest

from bgdebias.training import format_significant


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.28, "0.28"),  # a CPU run read "clips_s=0"
        (3.456, "3.5"),
        (1234, "1200"),
        (9.96, "10"),  # rounding up adds a digit before the point, not after
        (0.0012345, "0.0012"),
        (-3.456, "-3.5"),
        (0.0, "0"),
        (math.inf, "inf"),
    ],
)
def test_two_significant_figures(value: float, text: str) -> None:
    assert format_significant(value) == text


def test_other_numbers_of_figures() -> None:
    assert format_significant(1234, digits=3) == "1230"
    assert format_significant(0.28, digits=1) == "0.3"
    assert format_significant(math.nan) == "nan"
    with pytest.raises(ValueError, match="`digits` must be an int >= 1, got 0"):
        format_significant(1.0, digits=0)
