"""Argument checks of the visualisation module (arrays as well as tensors)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor

from bgdebias.viz.frames import clip_to_frames


def as_uint8_array(value: Any, name: str, ndim: int, layout: str) -> npt.NDArray[np.uint8]:
    """Check uint8 RGB data laid out as ``layout`` (last dimension 3) and return it as NumPy."""
    if isinstance(value, Tensor):
        value = value.detach().cpu().numpy()
    if not isinstance(value, np.ndarray):
        raise TypeError(
            f"`{name}` must be a numpy.ndarray or torch.Tensor of dtype uint8 with shape "
            f"{layout}, got {type(value).__name__}"
        )
    if value.dtype != np.uint8:
        raise TypeError(
            f"`{name}` must have dtype uint8 (RGB values 0..255) with shape {layout}, got "
            f"{value.dtype}; convert float clips with `bgdebias.viz.clip_to_frames`"
        )
    if value.ndim != ndim or value.shape[-1] != 3:
        raise ValueError(
            f"`{name}` must be a {ndim}D uint8 array of shape {layout}, got shape {value.shape}"
        )
    if min(value.shape) == 0:
        raise ValueError(f"`{name}` must not have an empty dimension, got shape {value.shape}")
    return value


def as_frames(
    value: Any,
    name: str,
    *,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
) -> npt.NDArray[np.uint8]:
    """Accept a float clip ``(C, T, H, W)`` or uint8 frames ``(T, H, W, 3)``; return frames."""
    if isinstance(value, Tensor) and value.is_floating_point():
        return clip_to_frames(value, mean=mean, std=std)
    if isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.floating):
        raise TypeError(
            f"`{name}` must be a float torch.Tensor clip (C, T, H, W) or uint8 frames "
            f"(T, H, W, 3), got a float NumPy array; wrap it with `torch.from_numpy`"
        )
    if mean is not None or std is not None:
        raise ValueError(
            f"`mean` and `std` undo the normalisation of float clips; `{name}` is already "
            "uint8 frames, so leave them None"
        )
    return as_uint8_array(value, name, 4, "(T, H, W, 3)")


def as_maps(value: Any, name: str, layouts: dict[int, str]) -> Tensor:
    """Check real-valued finite maps whose ndim is a key of ``layouts``; return float64."""
    if isinstance(value, np.ndarray):
        if not (np.issubdtype(value.dtype, np.number) or value.dtype == np.bool_):
            raise TypeError(f"`{name}` must hold real numbers, got dtype {value.dtype}")
        value = torch.from_numpy(np.ascontiguousarray(value))
    if not isinstance(value, Tensor):
        raise TypeError(
            f"`{name}` must be a torch.Tensor or numpy.ndarray, got {type(value).__name__}"
        )
    if value.is_complex():
        raise TypeError(f"`{name}` must hold real numbers, got dtype {value.dtype}")
    if value.ndim not in layouts:
        allowed = " or ".join(f"{n}D {layout}" for n, layout in layouts.items())
        raise ValueError(
            f"`{name}` must be {allowed}, got {value.ndim}D with shape {tuple(value.shape)}"
        )
    if min(value.shape) == 0:
        raise ValueError(
            f"`{name}` must not have an empty dimension, got shape {tuple(value.shape)}"
        )
    maps = value.detach().to(device="cpu", dtype=torch.float64)
    if not bool(torch.isfinite(maps).all()):
        bad = int((~torch.isfinite(maps)).sum())
        raise ValueError(f"`{name}` contains {bad} non-finite values (NaN or Inf)")
    return maps


def check_index(value: Any, name: str, size: int) -> int:
    """Check an int in ``[-size, size)`` and return it as a non-negative index."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"`{name}` must be an int, got {type(value).__name__} ({value!r})")
    if not -size <= value < size:
        raise ValueError(
            f"`{name}` must be in [{-size}, {size - 1}] for a batch of {size}, got {value}"
        )
    return value % size
