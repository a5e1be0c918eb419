"""Argument checks shared by every module, with messages that name the argument.

Each check raises ``TypeError`` for a wrong type and ``ValueError`` for a wrong value; the
message always says which argument, what was received and what is allowed.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import torch
from torch import Tensor


def check_tensor(value: Any, name: str) -> Tensor:
    """Return ``value`` if it is a tensor, else raise ``TypeError``."""
    if not isinstance(value, Tensor):
        raise TypeError(f"`{name}` must be a torch.Tensor, got {type(value).__name__}")
    return value


def check_floating(value: Tensor, name: str) -> None:
    """Raise ``TypeError`` unless ``value`` has a floating-point dtype."""
    if not value.is_floating_point():
        raise TypeError(
            f"`{name}` must have a floating-point dtype (float16, bfloat16, float32, float64), "
            f"got {value.dtype}; convert integer frames first, e.g. `clip.float() / 255`"
        )


def check_ndim(value: Tensor, name: str, ndim: int, layout: str) -> None:
    """Raise ``ValueError`` unless ``value`` has ``ndim`` dimensions laid out as ``layout``."""
    if value.ndim != ndim:
        raise ValueError(
            f"`{name}` must be a {ndim}D tensor of shape {layout}, "
            f"got {value.ndim}D with shape {tuple(value.shape)}"
        )


def check_clip(
    value: Any, name: str = "clip", *, min_frames: int = 1, min_batch: int = 1
) -> Tensor:
    """Check a float video batch of shape ``(B, C, T, H, W)`` and return it."""
    clip = check_tensor(value, name)
    check_ndim(clip, name, 5, "(B, C, T, H, W)")
    check_floating(clip, name)
    batch, _, frames, height, width = clip.shape
    if min(clip.shape) == 0:
        raise ValueError(
            f"`{name}` must not have an empty dimension, got shape {tuple(clip.shape)}"
        )
    if frames < min_frames:
        raise ValueError(
            f"`{name}` needs at least {min_frames} frames (dimension T of (B, C, T, H, W)) to "
            f"measure motion, got T={frames} in shape {tuple(clip.shape)}"
        )
    if batch < min_batch:
        raise ValueError(
            f"`{name}` needs a batch of at least {min_batch} clips (dimension B of "
            f"(B, C, T, H, W)), got B={batch}"
        )
    del height, width
    return clip


def check_finite(value: Tensor, name: str) -> None:
    """Raise ``ValueError`` if ``value`` holds NaN or infinity (synchronises on GPU)."""
    if not bool(torch.isfinite(value).all()):
        bad = int((~torch.isfinite(value)).sum())
        raise ValueError(
            f"`{name}` contains {bad} non-finite values (NaN or Inf); clean the input, or pass "
            "`check_finite=False` to let them propagate"
        )


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


def check_int(value: Any, name: str, *, minimum: int) -> int:
    """Check an integer (not a bool) of at least ``minimum`` and return it."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"`{name}` must be an int, got {type(value).__name__} ({value!r})")
    if value < minimum:
        raise ValueError(f"`{name}` must be an int >= {minimum}, got {value}")
    return value


def check_choice(value: Any, name: str, allowed: Collection[str]) -> str:
    """Check that ``value`` is one of ``allowed`` and return it."""
    if value not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"`{name}` must be one of {choices}; got {value!r}")
    return str(value)
