"""Ready-made figures that show what each debiasing block does to a clip.

Every panel is a :class:`Panel`: rows of uint8 frames with labels, laid out as one PNG
strip (frames left to right, one row per view) and as GIF frames (the rows stacked, one
GIF frame per time step). Panels show one clip of a batch, chosen by ``index``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from torch import Tensor

from bgdebias._validation import check_floating, check_tensor
from bgdebias.blocks import DecoupledClip, MixedBatch, MotionDecomposition
from bgdebias.viz._checks import as_maps, as_uint8_array, check_index
from bgdebias.viz.colormaps import ColormapName, apply_colormap
from bgdebias.viz.frames import clip_to_frames
from bgdebias.viz.gif import save_gif
from bgdebias.viz.overlay import HeatNormalization, colorize, fit_heat, overlay
from bgdebias.viz.strips import frame_strip, save_png

_BACKGROUND = 255


@dataclass(frozen=True)
class Panel:
    """A labelled figure of several views of one clip.

    Attributes:
        rows: The views, uint8 RGB frames of one size. Shape: each ``(T_r, H, W, 3)``.
        labels: One name per row.
        image: The strip: row ``r`` holds the frames of ``rows[r]`` left to right, with the
            labels in a left margin (see :func:`~bgdebias.viz.frame_strip`).
            Shape: ``(H_img, W_img, 3)``, uint8.
        animation: One frame per time step: frame ``t`` of every row, stacked top to bottom
            and labelled; rows shorter than ``T = max(T_r)`` show the background colour.
            Shape: ``(T, H_anim, W_anim, 3)``, uint8.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> import torch
        >>> from bgdebias import StaticDynamicDecoupler
        >>> from bgdebias.viz import decoupler_panel
        >>> clip = torch.rand(1, 3, 4, 16, 16, generator=torch.Generator().manual_seed(0))
        >>> panel = decoupler_panel(clip, StaticDynamicDecoupler()(clip))
        >>> panel.labels, len(panel.rows), panel.animation.shape[0]  # 4 views, T = 4 steps
        (('clip', 'mask', 'static', 'dynamic'), 4, 4)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     png = panel.save_png(Path(folder) / "panel.png")
        ...     gif = panel.save_gif(Path(folder) / "panel.gif", fps=4)
        ...     sorted(path.name for path in Path(folder).iterdir())
        ['panel.gif', 'panel.png']
    """

    rows: tuple[npt.NDArray[np.uint8], ...]
    labels: tuple[str, ...]
    image: npt.NDArray[np.uint8]
    animation: npt.NDArray[np.uint8]

    def save_png(self, path: str | os.PathLike[str]) -> Path:
        """Write :attr:`image` as a PNG file and return its path."""
        return save_png(self.image, path)

    def save_gif(self, path: str | os.PathLike[str], *, fps: float = 8.0) -> Path:
        """Write :attr:`animation` as a GIF looping forever and return its path."""
        return save_gif(self.animation, path, fps=fps)


def build_panel(
    rows: Sequence[npt.NDArray[np.uint8]], labels: Sequence[str], *, gap: int = 2
) -> Panel:
    """Assemble a :class:`Panel` from rows of frames (for figures of your own).

    Args:
        rows: uint8 RGB frames of one size per row. Shape: each ``(T_r, H, W, 3)``.
        labels: One text per row.
        gap: Pixels between frames and rows, >= 0.

    Returns:
        The panel with its strip and its animation.

    Example:
        >>> import numpy as np
        >>> from bgdebias.viz import build_panel
        >>> rows = [np.zeros((3, 8, 8, 3), np.uint8), np.full((2, 8, 8, 3), 128, np.uint8)]
        >>> panel = build_panel(rows, ["three", "two"], gap=2)
        >>> panel.image.shape[0], panel.animation.shape[:2]  # 2 rows of 8 px + a gap; T = 3
        (18, (3, 18))
        >>> int(panel.animation[1, 10:, -8:].min()), int(panel.animation[2, 10:, -8:].min())
        (128, 255)
    """
    image = frame_strip(rows, labels=labels, gap=gap, background=_BACKGROUND)
    rows = [as_uint8_array(row, f"rows[{i}]", 4, "(T, H, W, 3)") for i, row in enumerate(rows)]
    height, width = rows[0].shape[1:3]
    blank = np.full((1, height, width, 3), _BACKGROUND, dtype=np.uint8)
    steps = max(row.shape[0] for row in rows)
    animation = np.stack(
        [
            frame_strip(
                [row[t : t + 1] if t < row.shape[0] else blank for row in rows],
                labels=labels,
                gap=gap,
                background=_BACKGROUND,
            )
            for t in range(steps)
        ]
    )
    return Panel(tuple(rows), tuple(labels), image, animation)


def decoupler_panel(
    clip: Tensor,
    decoupled: DecoupledClip,
    *,
    index: int = 0,
    alpha: float = 0.5,
    colormap: ColormapName = "viridis",
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
    gap: int = 2,
) -> Panel:
    """What :class:`~bgdebias.StaticDynamicDecoupler` made of a clip.

    Rows: the clip; its foreground mask over it (the frame where the mask is 0, blended
    with the colour map's hottest colour at opacity ``alpha * mask``); the static factor;
    the dynamic factor. Factors are shown like the clip (``mean``/``std`` undone, then
    clipped to [0, 1]): a residual dynamic factor's negative values appear black.

    Args:
        clip: The decoupler's input. Shape: ``(B, C, T, H, W)`` or ``(C, T, H, W)``.
        decoupled: The decoupler's output for ``clip``.
        index: Which clip of the batch to show.
        alpha: Opacity of the mask colour, in [0, 1].
        colormap: One of :data:`~bgdebias.viz.COLORMAPS`.
        mean: Per-channel mean to undo on a normalised clip.
        std: Per-channel standard deviation to undo on a normalised clip.
        gap: Pixels between frames and rows.

    Returns:
        A :class:`Panel` with 4 rows of ``T`` frames.

    Example:
        >>> import torch
        >>> from bgdebias import StaticDynamicDecoupler
        >>> from bgdebias.viz import clip_to_frames, decoupler_panel
        >>> clip = torch.rand(2, 3, 4, 16, 16, generator=torch.Generator().manual_seed(0))
        >>> panel = decoupler_panel(clip, StaticDynamicDecoupler()(clip), index=1)
        >>> panel.labels, panel.image.shape[0]  # 4 rows of 16 px + 3 gaps of 2
        (('clip', 'mask', 'static', 'dynamic'), 70)
        >>> bool((panel.rows[0] == clip_to_frames(clip[1])).all())  # row 0: clip 1 as it is
        True
    """
    if not isinstance(decoupled, DecoupledClip):
        raise TypeError(f"`decoupled` must be a DecoupledClip, got {type(decoupled).__name__}")
    batch, i = _batched_clip(clip, index)
    _check_batch(decoupled.mask, "decoupled.mask", batch.shape[0], batch.shape[2:])
    frames = clip_to_frames(batch[i], mean=mean, std=std)
    rows = [
        frames,
        overlay(
            frames,
            decoupled.mask[i, 0],
            alpha=alpha,
            colormap=colormap,
            normalize="none",
            alpha_by_heat=True,
        ),
        clip_to_frames(decoupled.static[i], mean=mean, std=std),
        clip_to_frames(decoupled.dynamic[i], mean=mean, std=std),
    ]
    return build_panel(rows, ["clip", "mask", "static", "dynamic"], gap=gap)


def mixer_panel(
    clips: Tensor,
    mixed_batch: MixedBatch,
    index: int = 0,
    *,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
    gap: int = 2,
) -> Panel:
    """What :class:`~bgdebias.SemiNegativePairMixer` made of clip ``index``.

    Rows: the clip ``i``; its partner's clip ``j``; the mixed clip (``i``'s actor on ``j``'s
    background; labelled "(unchanged)" when it was not mixed); the background hard
    negative (``i``'s own static scene).

    Args:
        clips: The mixer's input batch. Shape: ``(B, C, T, H, W)``.
        mixed_batch: The mixer's output for ``clips``.
        index: Which clip to show.
        mean: Per-channel mean to undo on normalised clips.
        std: Per-channel standard deviation to undo on normalised clips.
        gap: Pixels between frames and rows.

    Returns:
        A :class:`Panel` with 4 rows of ``T`` frames.

    Example:
        >>> import torch
        >>> from bgdebias import SemiNegativePairMixer
        >>> from bgdebias.viz import mixer_panel
        >>> clips = torch.rand(3, 3, 4, 16, 16, generator=torch.Generator().manual_seed(0))
        >>> panel = mixer_panel(clips, SemiNegativePairMixer(partner="roll")(clips), index=2)
        >>> panel.labels, panel.rows[2].shape  # clip 2's actor on clip 0's scene
        (('clip 2', 'partner 0', 'mixed', 'background'), (4, 16, 16, 3))
    """
    if not isinstance(mixed_batch, MixedBatch):
        raise TypeError(f"`mixed_batch` must be a MixedBatch, got {type(mixed_batch).__name__}")
    batch, i = _batched_clip(clips, index, name="clips")
    _check_batch(mixed_batch.mixed, "mixed_batch.mixed", batch.shape[0], batch.shape[2:])
    j = int(mixed_batch.partner[i])
    mixed_label = "mixed" if bool(mixed_batch.applied[i]) else "mixed (unchanged)"
    views = (batch[i], batch[j], mixed_batch.mixed[i], mixed_batch.background[i])
    rows = [clip_to_frames(view, mean=mean, std=std) for view in views]
    return build_panel(rows, [f"clip {i}", f"partner {j}", mixed_label, "background"], gap=gap)


def saliency_panel(
    clip: Tensor,
    decomposition: MotionDecomposition,
    *,
    index: int = 0,
    alpha: float = 0.5,
    colormap: ColormapName = "viridis",
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
    gap: int = 2,
) -> Panel:
    """What :class:`~bgdebias.MotionAwareDecomposition` found in the features of a clip.

    Rows: the clip; the salient map resized to the frames, min-max normalised again (bilinear
    upsampling lowers an inner peak; an all-zero map, nothing moved, stays cold) and
    overlaid on every frame; the ``T' - 1`` per-step maps, resized and coloured on one
    scale (min-max over all steps). The step maps live on the feature time axis,
    so they are shown without the frames underneath.

    Args:
        clip: The backbone's input. Shape: ``(B, C, T, H, W)`` or ``(C, T, H, W)``.
        decomposition: The decomposition of that clip's backbone features.
        index: Which clip of the batch to show.
        alpha: Opacity of the saliency colours, in [0, 1].
        colormap: One of :data:`~bgdebias.viz.COLORMAPS`.
        mean: Per-channel mean to undo on a normalised clip.
        std: Per-channel standard deviation to undo on a normalised clip.
        gap: Pixels between frames and rows.

    Returns:
        A :class:`Panel` with rows of ``T``, ``T`` and ``T' - 1`` frames.

    Example:
        >>> import torch
        >>> from bgdebias import MotionAwareDecomposition
        >>> from bgdebias.viz import saliency_panel
        >>> g = torch.Generator().manual_seed(0)
        >>> clip = torch.rand(1, 3, 8, 16, 16, generator=g)
        >>> features = torch.randn(1, 4, 4, 4, 4, generator=g)  # a backbone stage, T' = 4
        >>> panel = saliency_panel(clip, MotionAwareDecomposition()(features))
        >>> panel.labels, [row.shape[0] for row in panel.rows]  # T, T and T' - 1 frames
        (('clip', 'saliency', 'steps'), [8, 8, 3])
    """
    if not isinstance(decomposition, MotionDecomposition):
        raise TypeError(
            f"`decomposition` must be a MotionDecomposition, got {type(decomposition).__name__}"
        )
    batch, i = _batched_clip(clip, index)
    _check_batch(decomposition.saliency, "decomposition.saliency", batch.shape[0], None)
    frames = clip_to_frames(batch[i], mean=mean, std=std)
    size = (frames.shape[1], frames.shape[2])
    rows = [
        frames,
        overlay(
            frames, decomposition.saliency[i], alpha=alpha, colormap=colormap, normalize="clip"
        ),
        colorize(decomposition.step_maps[i], size=size, colormap=colormap, normalize="clip"),
    ]
    return build_panel(rows, ["clip", "saliency", "steps"], gap=gap)


def cam_panel(
    clip: Tensor,
    cam: Tensor,
    *,
    index: int = 0,
    alpha: float = 0.5,
    colormap: ColormapName = "viridis",
    normalize: HeatNormalization = "clip",
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
    gap: int = 2,
) -> Panel:
    """Where a backbone looks: a class-activation (or any) map over the clip.

    Rows: the clip; the map overlaid (resized in space, each of the ``T'`` maps repeated
    over ``T / T'`` frames); the map alone, coloured at full size and repeated in time the
    same way, so that every frame of the animation shows a map.

    Args:
        clip: The backbone's input. Shape: ``(B, C, T, H, W)`` or ``(C, T, H, W)``.
        cam: Maps from :mod:`bgdebias.viz.cam`, for the batch or for the one clip shown.
            Shape: ``(B, T', H', W')`` or ``(T', H', W')``, ``T'`` dividing ``T``.
        index: Which clip of the batch to show.
        alpha: Opacity of the map colours, in [0, 1].
        colormap: One of :data:`~bgdebias.viz.COLORMAPS`.
        normalize: ``"clip"``, ``"frame"`` or ``"none"``, as in
            :func:`~bgdebias.viz.fit_heat`.
        mean: Per-channel mean to undo on a normalised clip.
        std: Per-channel standard deviation to undo on a normalised clip.
        gap: Pixels between frames and rows.

    Returns:
        A :class:`Panel` with three rows of ``T`` frames.

    Example:
        >>> import torch
        >>> from bgdebias.viz import activation_norm_map, cam_panel
        >>> g = torch.Generator().manual_seed(0)
        >>> clip = torch.rand(2, 3, 8, 16, 16, generator=g)
        >>> cam = activation_norm_map(torch.randn(2, 4, 4, 4, 4, generator=g))  # (B, T', H', W')
        >>> panel = cam_panel(clip, cam, index=1)
        >>> panel.labels, [row.shape[0] for row in panel.rows]  # each of T' = 4 maps on 2 frames
        (('clip', 'CAM overlay', 'CAM'), [8, 8, 8])
    """
    batch, i = _batched_clip(clip, index)
    maps = as_maps(cam, "cam", {3: "(T', H', W')", 4: "(B, T', H', W')"})
    if maps.ndim == 4:
        _check_batch(maps, "cam", batch.shape[0], None)
        maps = maps[i]
    elif batch.shape[0] != 1:
        raise ValueError(
            f"`cam` of shape {tuple(maps.shape)} holds one clip's maps but `clip` holds "
            f"{batch.shape[0]} clips; pass the maps of the whole batch, (B, T', H', W')"
        )
    frames = clip_to_frames(batch[i], mean=mean, std=std)
    size = (frames.shape[1], frames.shape[2])
    # A stage with temporal stride has T' < T maps: repeat them to the clip's T frames, or
    # the animation would show an empty row once the T' maps ran out.
    over_time = fit_heat(maps, size=size, frames=frames.shape[0], normalize=normalize)
    rows = [
        frames,
        overlay(frames, maps, alpha=alpha, colormap=colormap, normalize=normalize),
        apply_colormap(over_time, colormap),
    ]
    return build_panel(rows, ["clip", "CAM overlay", "CAM"], gap=gap)


def _batched_clip(clip: Any, index: int, *, name: str = "clip") -> tuple[Tensor, int]:
    check_tensor(clip, name)
    if clip.ndim not in (4, 5):
        raise ValueError(
            f"`{name}` must be 5D (B, C, T, H, W) or 4D (C, T, H, W), got {clip.ndim}D with "
            f"shape {tuple(clip.shape)}"
        )
    check_floating(clip, name)
    batch = clip if clip.ndim == 5 else clip.unsqueeze(0)
    return batch, check_index(index, "index", batch.shape[0])


def _check_batch(value: Tensor, name: str, batch: int, trailing: tuple[int, ...] | None) -> None:
    if value.shape[0] != batch:
        raise ValueError(
            f"`{name}` holds {value.shape[0]} clips but the clip batch has {batch}; pass the "
            "result computed from this very batch"
        )
    if trailing is not None and tuple(value.shape[-len(trailing) :]) != tuple(trailing):
        raise ValueError(
            f"`{name}` has shape {tuple(value.shape)}, which does not match the clip's "
            f"(T, H, W) = {tuple(trailing)}; pass the result computed from this very batch"
        )
