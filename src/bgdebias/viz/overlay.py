"""Heat maps on frames: resize, normalise, colour and alpha-blend."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F
from torch import Tensor

from bgdebias._validation import check_choice, check_int, check_unit
from bgdebias.viz._checks import as_frames, as_maps
from bgdebias.viz.colormaps import COLORMAPS, ColormapName, apply_colormap

HeatNormalization = Literal["clip", "frame", "none"]

_HEAT_LAYOUTS = {2: "(H', W')", 3: "(T', H', W')"}


def fit_heat(
    heat: Tensor | npt.NDArray[Any],
    *,
    size: tuple[int, int],
    frames: int | None = None,
    normalize: HeatNormalization = "clip",
    value_range: tuple[float, float] = (0.0, 1.0),
) -> npt.NDArray[np.float64]:
    """Resize heat maps to a frame size, match them to the frames in time, scale to [0, 1].

    Steps, in this order:

    1. Spatial resize to ``size`` with bilinear interpolation (``align_corners=False``).
    2. Scaling to [0, 1]: ``normalize="clip"`` min-max normalises all maps together (one
       scale for the clip, so frames stay comparable); ``"frame"`` min-max normalises each
       map on its own; ``"none"`` keeps the absolute scale, mapping ``value_range`` to
       [0, 1] and clipping outside it (use it for masks and for comparing clips). A
       constant map has no range: min-max normalisation makes it all zeros.
    3. Temporal matching to ``frames``: ``T' == frames`` is used as is, ``T' == 1`` (or a
       2D map) is repeated over all frames, and ``T'`` dividing ``frames`` repeats each map
       over ``frames / T'`` consecutive frames (a backbone with temporal stride
       ``frames / T'``). Anything else raises ``ValueError``.

    Args:
        heat: Real-valued maps. Shape: ``(T', H', W')`` or ``(H', W')``.
        size: Output ``(H, W)``.
        frames: Number of frames ``T`` to match, or ``None`` to keep ``T'``.
        normalize: ``"clip"``, ``"frame"`` or ``"none"`` (see above).
        value_range: ``(low, high)`` mapped to 0 and 1 when ``normalize="none"``.

    Returns:
        Heat in [0, 1]. Shape: ``(T, H, W)`` (``T = T'`` when ``frames`` is ``None``).

    Raises:
        TypeError: ``heat`` is not a real-valued tensor or array.
        ValueError: wrong ndim, non-finite values, unknown ``normalize``, a bad ``size``,
            ``frames`` or ``value_range``, or a ``T'`` that cannot be matched to ``frames``.

    Example:
        >>> import torch
        >>> from bgdebias.viz import fit_heat
        >>> heat = torch.tensor([[[0.0, 2.0]], [[4.0, 8.0]]])  # T' = 2 maps of 1 x 2
        >>> unit = fit_heat(heat, size=(1, 2), frames=4)  # one scale: x / 8
        >>> unit.shape, unit[:, 0, 1].tolist()  # each map covers 2 consecutive frames
        ((4, 1, 2), [0.25, 0.25, 1.0, 1.0])
        >>> fit_heat(heat, size=(1, 2), normalize="none", value_range=(0.0, 4.0))[:, 0, 1].tolist()
        [0.5, 1.0]
    """
    maps = as_maps(heat, "heat", _HEAT_LAYOUTS)
    mode = check_choice(normalize, "normalize", ("clip", "frame", "none"))
    low, high = _check_range(value_range)
    height, width = _check_size(size)
    if frames is not None:
        check_int(frames, "frames", minimum=1)
    if maps.ndim == 2:
        maps = maps.unsqueeze(0)
    if frames is not None:
        _check_frames_match(maps.shape[0], frames)
    if maps.shape[-2:] != (height, width):
        maps = F.interpolate(
            maps.unsqueeze(1), size=(height, width), mode="bilinear", align_corners=False
        ).squeeze(1)
    if mode == "none":
        scaled = ((maps - low) / (high - low)).clamp(0.0, 1.0)
    else:
        scaled = _minmax(maps, per_frame=mode == "frame")
    if frames is not None and scaled.shape[0] != frames:
        scaled = scaled.repeat_interleave(frames // scaled.shape[0], dim=0)
    return scaled.numpy()


def colorize(
    heat: Tensor | npt.NDArray[Any],
    *,
    size: tuple[int, int] | None = None,
    colormap: ColormapName = "viridis",
    normalize: HeatNormalization = "clip",
    value_range: tuple[float, float] = (0.0, 1.0),
) -> npt.NDArray[np.uint8]:
    """Colour heat maps with a colour map (no frames underneath).

    Args:
        heat: Real-valued maps. Shape: ``(T', H', W')`` or ``(H', W')``.
        size: Output ``(H, W)``; ``None`` keeps ``(H', W')``.
        colormap: One of :data:`~bgdebias.viz.COLORMAPS`.
        normalize: ``"clip"``, ``"frame"`` or ``"none"``, as in :func:`fit_heat`.
        value_range: ``(low, high)`` mapped to [0, 1] when ``normalize="none"``.

    Returns:
        Coloured maps. Shape: ``(T', H, W, 3)``, uint8.

    Example:
        >>> import torch
        >>> from bgdebias.viz import colorize
        >>> heat = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
        >>> grey = colorize(heat, colormap="gray")  # min-max: 0, 1/3, 2/3, 1
        >>> grey.shape, grey[0, :, :, 0].tolist()
        ((1, 2, 2, 3), [[0, 85], [170, 255]])
        >>> colorize(heat, size=(8, 8)).shape  # resized bilinearly
        (1, 8, 8, 3)
    """
    check_choice(colormap, "colormap", COLORMAPS)
    if size is None:
        shape = as_maps(heat, "heat", _HEAT_LAYOUTS).shape
        size = (shape[-2], shape[-1])
    unit = fit_heat(heat, size=size, normalize=normalize, value_range=value_range)
    return apply_colormap(unit, colormap)


def overlay(
    frames: Tensor | npt.NDArray[np.uint8],
    heat: Tensor | npt.NDArray[Any],
    *,
    alpha: float = 0.5,
    colormap: ColormapName = "viridis",
    normalize: HeatNormalization = "clip",
    value_range: tuple[float, float] = (0.0, 1.0),
    alpha_by_heat: bool = False,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
) -> npt.NDArray[np.uint8]:
    """Blend coloured heat maps onto the frames of a clip.

    The heat is resized (bilinear) to the frames, scaled to [0, 1] and matched in time by
    :func:`fit_heat` (by default min-max normalised over the whole clip; pass
    ``normalize="none"`` to keep an absolute scale), coloured with ``colormap`` and blended
    per pixel: ``out = (1 - w) * frame + w * colour`` with ``w = alpha``, or
    ``w = alpha * heat`` when ``alpha_by_heat`` (transparent where the heat is 0: a mask
    then colours only its foreground). ``alpha=0`` returns the frames unchanged and
    ``alpha=1`` (without ``alpha_by_heat``) the pure colour map.

    Args:
        frames: A float clip in [0, 1], shape ``(C, T, H, W)`` with ``C`` in {1, 3}
            (normalised clips: pass ``mean`` and ``std``), or uint8 RGB frames,
            shape ``(T, H, W, 3)``.
        heat: Real-valued maps. Shape: ``(T', H', W')`` or ``(H', W')``, where ``T'`` is
            ``T``, 1, or a divisor of ``T``.
        alpha: Opacity of the colours, in [0, 1].
        colormap: One of :data:`~bgdebias.viz.COLORMAPS`.
        normalize: ``"clip"``, ``"frame"`` or ``"none"``, as in :func:`fit_heat`.
        value_range: ``(low, high)`` mapped to [0, 1] when ``normalize="none"``.
        alpha_by_heat: Scale the opacity of each pixel by its heat.
        mean: Per-channel mean to undo on a normalised float clip.
        std: Per-channel standard deviation to undo on a normalised float clip.

    Returns:
        The blended frames. Shape: ``(T, H, W, 3)``, uint8.

    Raises:
        TypeError: ``frames`` is neither a float clip nor uint8 frames, ``heat`` is not
            real-valued, or ``alpha`` is not a number.
        ValueError: wrong shapes, ``T'`` that does not match ``T``, ``alpha`` outside
            [0, 1], an unknown ``colormap`` or ``normalize``, non-finite heat.

    Example:
        >>> import numpy as np
        >>> import torch
        >>> from bgdebias.viz import overlay
        >>> frames = np.full((2, 4, 4, 3), 100, np.uint8)
        >>> heat = torch.zeros(4, 4)
        >>> heat[0, 0] = 1.0  # one hot pixel
        >>> out = overlay(frames, heat, alpha=0.5, colormap="gray")
        >>> out.shape, int(out[1, 0, 0, 0]), int(out[1, 3, 3, 0])  # (100 + 255) / 2, 100 / 2
        ((2, 4, 4, 3), 178, 50)
        >>> int(overlay(frames, heat, colormap="gray", alpha_by_heat=True)[1, 3, 3, 0])  # clear
        100
    """
    opacity = check_unit(alpha, "alpha")
    check_choice(colormap, "colormap", COLORMAPS)
    rgb = as_frames(frames, "frames", mean=mean, std=std)
    count, height, width, _ = rgb.shape
    unit = fit_heat(
        heat, size=(height, width), frames=count, normalize=normalize, value_range=value_range
    )
    colours = apply_colormap(unit, colormap).astype(np.float64)
    weight = (opacity * unit if alpha_by_heat else np.full_like(unit, opacity))[..., None]
    blended = rgb.astype(np.float64) * (1.0 - weight) + colours * weight
    return np.clip(np.rint(blended), 0, 255).astype(np.uint8)


def _minmax(maps: Tensor, *, per_frame: bool) -> Tensor:
    dims = (1, 2) if per_frame else (0, 1, 2)
    low = maps.amin(dim=dims, keepdim=True)
    span = maps.amax(dim=dims, keepdim=True) - low
    flat = span <= 0
    return torch.where(flat, 0.0, (maps - low) / torch.where(flat, 1.0, span))


def _check_range(value_range: Any) -> tuple[float, float]:
    valid = (
        isinstance(value_range, tuple | list)
        and len(value_range) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value_range)
    )
    if not valid or not (np.isfinite(value_range).all() and value_range[0] < value_range[1]):
        raise ValueError(
            f"`value_range` must be a pair (low, high) of finite numbers with low < high, "
            f"got {value_range!r}"
        )
    return float(value_range[0]), float(value_range[1])


def _check_size(size: Any) -> tuple[int, int]:
    valid = (
        isinstance(size, tuple | list)
        and len(size) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in size)
    )
    if not valid:
        raise ValueError(f"`size` must be a pair (H, W) of ints >= 1, got {size!r}")
    return int(size[0]), int(size[1])


def _check_frames_match(maps: int, frames: int) -> None:
    if frames % maps == 0:
        return
    raise ValueError(
        f"`heat` has T'={maps} maps but the frames have T={frames}; T' must be 1, {frames} or "
        f"a divisor of {frames} (each map then covers T / T' consecutive frames)"
    )
