"""The progress bar of a pretraining run, and the number format of its readings."""

from __future__ import annotations

import math
from typing import Any

from bgdebias._validation import check_int


def format_significant(value: float, *, digits: int = 2) -> str:
    """``value`` rounded to ``digits`` significant figures, without an exponent.

    The progress bar shows the training speed with it: ``0.28`` clips/s on a CPU stays
    ``0.28`` (a fixed number of decimals would show ``0``), ``1234`` on GPUs becomes
    ``1200``.

    Args:
        value: Any float; ``nan`` and ``inf`` are written as Python writes them.
        digits: Significant figures, >= 1.

    Returns:
        The text.

    Example:
        >>> [format_significant(v) for v in (0.28, 3.456, 1234, 9.96, 0.0)]
        ['0.28', '3.5', '1200', '10', '0']
        >>> format_significant(0.0012345, digits=3)
        '0.00123'
    """
    check_int(digits, "digits", minimum=1)
    if not math.isfinite(value) or value == 0:
        return "0" if value == 0 else str(value)
    # Round first: 9.96 -> 10, whose number of decimals differs from 9.96's.
    rounded = float(f"{value:.{digits}g}")
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(rounded))))
    return f"{rounded:.{decimals}f}"


def progress_bar(enabled: bool, start: int, total: int) -> Any:
    """A tqdm bar over the steps ``start .. total`` (hidden when not ``enabled``)."""
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=start, disable=not enabled, unit="step", dynamic_ncols=True)
