"""Argument checks shared by every module, with messages that name the argument.

Each check raises ``TypeError`` for a wrong type and ``ValueError`` for a wrong value; the
message always says which argument, what was received and what is allowed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from bgdebias._scalar_checks import check_bool as check_bool
from bgdebias._scalar_checks import check_choice as check_choice
from bgdebias._scalar_checks import check_int as check_int
from bgdebias._scalar_checks import check_non_negative as check_non_negative
from bgdebias._scalar_checks import check_number as check_number
from bgdebias._scalar_checks import check_open_unit as check_open_unit
from bgdebias._scalar_checks import check_positive as check_positive
from bgdebias._scalar_checks import check_unit as check_unit


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
    value: Any,
    name: str = "clip",
    *,
    min_frames: int = 1,
    min_batch: int = 1,
    channels: int | None = None,
    channels_remedy: str = "",
    min_side: int = 1,
) -> Tensor:
    """Check a float video batch of shape ``(B, C, T, H, W)`` and return it.

    ``channels`` (when given) is checked before the frame count, so that a
    ``(B, T, C, H, W)`` batch is reported as a layout mistake rather than as too few
    frames; ``min_side`` is the smallest frame height and width accepted.
    """
    clip = check_tensor(value, name)
    check_ndim(clip, name, 5, "(B, C, T, H, W)")
    check_floating(clip, name)
    batch, _, frames, height, width = clip.shape
    if min(clip.shape) == 0:
        raise ValueError(
            f"`{name}` must not have an empty dimension, got shape {tuple(clip.shape)}"
        )
    if channels is not None:
        check_channels(clip, name, channels, remedy=channels_remedy)
    if frames < min_frames:
        raise ValueError(
            f"`{name}` needs at least {min_frames} frames (dimension T of (B, C, T, H, W)) to "
            f"measure motion, got T={frames} in shape {tuple(clip.shape)}"
        )
    if height < min_side or width < min_side:
        raise ValueError(
            f"`{name}` frames must be at least {min_side} x {min_side} pixels (dimensions H "
            f"and W of (B, C, T, H, W)), got H={height}, W={width} in shape "
            f"{tuple(clip.shape)}"
        )
    if batch < min_batch:
        raise ValueError(
            f"`{name}` needs a batch of at least {min_batch} clips (dimension B of "
            f"(B, C, T, H, W)), got B={batch}"
        )
    return clip


def check_channels(value: Tensor, name: str, channels: int, *, remedy: str = "") -> None:
    """Raise ``ValueError`` unless dimension 1 of a ``(B, C, T, H, W)`` tensor is ``channels``.

    The message names the layout and, when the shape matches a ``(B, T, C, H, W)`` or a
    channels-last ``(B, T, H, W, C)`` batch, the permutation that fixes it; ``remedy`` is
    appended (e.g. how to accept another channel count), with ``{found}`` replaced by the
    channel count received.
    """
    found = value.shape[1]
    if found == channels:
        return
    shape = tuple(value.shape)
    message = (
        f"`{name}` must have C={channels} channels in dimension 1 of the layout "
        f"(B, C, T, H, W), got C={found} in shape {shape}"
    )
    if value.ndim == 5 and shape[2] == channels:
        message += (
            f"; this looks like a (B, T, C, H, W) batch of {found} frames: pass "
            f"`{name}.permute(0, 2, 1, 3, 4)`"
        )
    elif value.ndim == 5 and shape[4] == channels:
        message += (
            f"; this looks like a channels-last (B, T, H, W, C) batch of {found} frames: "
            f"pass `{name}.permute(0, 4, 1, 2, 3)`"
        )
    raise ValueError(message + (f"; {remedy.format(found=found)}" if remedy else ""))


def check_finite(value: Tensor, name: str) -> None:
    """Raise ``ValueError`` if ``value`` holds NaN or infinity (synchronises on GPU).

    Skipped while ``torch.compile`` or ``torch.export`` traces the caller: the check needs
    the answer on the host, which would break the graph (compiled code lets NaN through).
    """
    if torch.compiler.is_compiling():
        return
    if not bool(torch.isfinite(value).all()):
        raise ValueError(_non_finite_message(value, name))


def check_all_finite(values: Mapping[str, Tensor | None]) -> None:
    """:func:`check_finite` for several named tensors (``None`` skipped), one sync in all.

    The message names the first tensor, in the mapping's order, that holds NaN or Inf.
    Only the types are checked while ``torch.compile`` or ``torch.export`` traces the
    caller (see :func:`check_finite`).
    """
    given = {name: check_tensor(value, name) for name, value in values.items() if value is not None}
    if not given or torch.compiler.is_compiling():
        return
    device = next(iter(given.values())).device
    flags = torch.stack([torch.isfinite(value).all().to(device) for value in given.values()])
    if bool(flags.all()):
        return
    for (name, value), finite in zip(given.items(), flags.tolist(), strict=True):
        if not finite:
            raise ValueError(_non_finite_message(value, name))


def _non_finite_message(value: Tensor, name: str) -> str:
    bad = int((~torch.isfinite(value)).sum())
    return (
        f"`{name}` contains {bad} non-finite values (NaN or Inf); clean the input, or pass "
        "`check_finite=False` to let them propagate"
    )
