"""FAME's foreground mask (Ding et al., CVPR 2022), reproduced exactly in plain torch.

FAME (official code: ``Mark12Ding/FAME``, ``moco/loader.py``) marks the moving foreground of
a clip in two stages:

1. **Motion.** The absolute difference of adjacent frames, summed over channels and averaged
   over the ``T - 1`` steps, blurred with a Gaussian of odd size
   ``k = int(0.1 * side) // 2 * 2 + 1`` and ``sigma = k / 3`` (reflect borders, kornia's
   ``GaussianBlur2d``), then min-max normalised per clip as
   ``m -= m.min(); m /= m.max() + 1e-8``.
2. **Colour refinement.** The temporal mean frame is converted to HSV (kornia's
   ``rgb_to_hsv``: hue in radians) and binned into 10 x 10 x 10 colours. The colours of the
   top ``int(0.5 * H * W)`` pixels of the motion map give a foreground histogram, those of
   the bottom ``int(0.1 * H * W)`` pixels a background histogram (plus one per bin); each
   pixel scores ``p_fg / (p_fg + p_bg)`` for its colour. The score map is blurred and
   normalised like the motion map, and its top ``int(beta * H * W)`` pixels are the mask.

Two quirks of the official code are kept on purpose, since they decide which pixels win:

* the hue enters the colour bins as ``cos(h * 2 * pi)`` and ``sin(h * 2 * pi)`` although
  kornia's hue ``h`` is already in radians (``[0, 2 * pi]``), so the hue coordinate is an
  unusual function of the hue;
* the colour index ``h + 10 * (s - 1) + 100 * (v - 1)`` of bins ``h, s, v`` in 1..10 runs
  over 1..1000 while the histograms hold 1000 bins (0..999). Index 1000 needs ``h = s = 10``,
  that is ``S * cos(.) >= 8 / 9`` and ``S * sin(.) >= 8 / 9``, hence a saturation
  ``S >= 1.257``, which HSV never reaches: for frames in [0, 1] the largest index is 999 and
  FAME's ``scatter_add_`` never goes out of range (bin 0 stays empty). Values outside
  [0, 1] would overflow it (FAME then fails); here they are rejected, or, with
  ``check_range=False``, clipped into the histogram.

The Gaussian kernel and the HSV conversion are computed as kornia 0.6.3 to 0.6.9 compute
them (the 0.6 series was current when FAME's code was published, in April 2022):
``exp(-x**2 / (2 * sigma**2))`` for ``x = arange(k) - k // 2``, built on the CPU in float32
with ``sigma`` a Python float, normalised, applied along the width and then along the
height. Checked against the official ``FAME.getmask`` running on those kornia releases:
identical masks. Later kornia releases round a few kernel weights differently (by one
float32 ulp; 0.6.10 on) and the newest also fold a hue that rounds up to ``2 * pi`` to 0;
near-ties in the ``topk`` steps can then flip a few pixels.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from bgdebias._validation import check_channels, check_clip, check_int, check_open_unit
from bgdebias.blocks.motion_energy import MIN_FRAME_SIDE, MOTION_EPS

__all__ = ["FAME_EPS", "fame_blur_kernel_size", "fame_foreground_mask"]

#: FAME's ``eps`` in its min-max normalisation and histogram normalisation.
FAME_EPS = 1e-8
_COLOUR_LEVELS = 10  # bins per HSV coordinate: 10 x 10 x 10 colours
_FOREGROUND_SAMPLE = 0.5  # fraction of pixels (highest motion) that sample the actor's colours
_BACKGROUND_SAMPLE = 0.1  # fraction of pixels (lowest motion) that sample the scene's colours
_RGB_REMEDY = "FAME's colour histograms need RGB frames"


def fame_blur_kernel_size(side: int) -> int:
    """FAME's Gaussian kernel size for a crop of ``side`` pixels: ``int(0.1 * side) // 2 * 2 + 1``.

    The size is odd and about 10% of the side: ``0.1 * side`` rounded *down*, then down to
    an even number, plus one; so it is 1 (no blurring) below 20 pixels. The decoupler's
    :func:`~bgdebias.blocks.functional.auto_blur_kernel_size` (``round(0.1 * side)`` made
    odd upwards,
    at least 3) is the same for most sides, but 3 instead of 1 below 20 pixels and 2 larger
    whenever ``side % 20`` is 15 to 19 (e.g. 56: 7 instead of 5, 96: 11 instead of 9, 256:
    27 instead of 25).

    Args:
        side: Side of the (square) crop in pixels, >= 1. For ``H != W`` frames
            :func:`~bgdebias.blocks.fame_foreground_mask` passes the short side.

    Returns:
        The odd kernel size.

    Raises:
        TypeError: If ``side`` is not an int.
        ValueError: If ``side`` is below 1.

    Example:
        >>> [fame_blur_kernel_size(side) for side in (16, 20, 56, 96, 112, 224)]
        [1, 3, 5, 9, 11, 23]
    """
    check_int(side, "side", minimum=1)
    return int(0.1 * side) // 2 * 2 + 1


def fame_foreground_mask(clip: Tensor, *, beta: float = 0.5, check_range: bool = True) -> Tensor:
    """FAME's hard foreground mask: motion, refined by colour, top ``int(beta * H * W)`` pixels.

    Reproduces ``FAME.getmask`` of the official code bit for bit (same operations in the
    same order, in float32; see the module docstring for the steps and the quirks kept),
    with one deliberate difference: a clip in which nothing moves (the range of its motion
    energy is at most ``1e-6``) gets an empty mask, where FAME would normalise an all-zero
    map and pick ``int(beta * H * W)`` arbitrary pixels (whichever ``topk`` returns first
    among ties).

    FAME crops square frames and sizes the blur from the crop side; for ``H != W`` the
    kernel is sized from the short side (``fame_blur_kernel_size(min(H, W))``, in
    ``bgdebias.blocks.fame_mask``); everything else is per pixel and needs no choice.
    Computed in float32 whatever the input dtype, also inside ``torch.autocast``
    (disabled locally); ties in the ``topk`` steps are broken as ``torch.topk`` breaks
    them on the clip's device, as in FAME.

    Args:
        clip: RGB video batch with values in [0, 1] (raw frames, before any
            normalisation). Shape: ``(B, 3, T, H, W)`` with ``T >= 2`` and
            ``H, W >= MIN_FRAME_SIDE`` (4, ``bgdebias.blocks.motion_energy``); a
            ``(B, T, C, H, W)`` batch is rejected with the permutation that fixes it.
        beta: Foreground fraction, in (0, 1); the mask has exactly
            ``int(beta * H * W)`` pixels per moving clip (``int``, not ``round``, as FAME).
        check_range: Raise ``ValueError`` if a value lies outside [0, 1] or is NaN (one
            device synchronisation). With ``False`` such values are not checked and their
            colour index is clipped into the histogram, so nothing fails, but the mask is
            no longer FAME's. Skipped inside ``torch.compile`` and ``torch.export``.

    Returns:
        The mask in {0, 1}, in the clip's dtype. Shape: ``(B, H, W)``; reshape to
        ``(B, 1, 1, H, W)`` to broadcast against the clip.

    Raises:
        TypeError: If ``clip`` is not a floating-point tensor or ``beta`` not a number.
        ValueError: If ``clip`` is not ``(B, 3, T, H, W)`` with ``T >= 2`` and frames of at
            least 4 x 4 pixels, holds values
            outside [0, 1] (with ``check_range``), or ``beta`` is outside (0, 1).

    Example:
        >>> import torch
        >>> clip = torch.rand(2, 3, 4, 16, 16, generator=torch.Generator().manual_seed(0))
        >>> mask = fame_foreground_mask(clip, beta=0.3)
        >>> mask.shape, mask.sum(dim=(1, 2)).tolist()  # int(0.3 * 256) = 76 pixels per clip
        (torch.Size([2, 16, 16]), [76.0, 76.0])
        >>> still = clip[:, :, :1].expand(-1, -1, 4, -1, -1)  # nothing moves: empty mask
        >>> fame_foreground_mask(still).sum().item()
        0.0
    """
    check_clip(
        clip,
        "clip",
        min_frames=2,
        channels=3,
        channels_remedy=_RGB_REMEDY,
        min_side=MIN_FRAME_SIDE,
    )
    beta = check_open_unit(beta, "beta")
    mask, _ = _fame_mask_and_energy(clip, beta, check_range=bool(check_range))
    return mask


def _fame_mask_and_energy(clip: Tensor, beta: float, *, check_range: bool) -> tuple[Tensor, Tensor]:
    """FAME's mask and its normalised blurred motion energy, both ``(B, H, W)``.

    The arguments are not validated except the channels and value range: callers check
    ``clip`` with :func:`~bgdebias._validation.check_clip` and ``beta`` first. The energy
    is FAME's motion map before the colour refinement (zero for clips without motion).
    """
    check_channels(clip, "clip", 3, remedy=_RGB_REMEDY)
    if check_range:
        _check_unit_range(clip)
    height, width = clip.shape[-2:]
    kernel = fame_blur_kernel_size(min(height, width))
    with torch.autocast(device_type=clip.device.type, enabled=False):
        frames = clip.float()
        energy = (frames[:, :, :-1] - frames[:, :, 1:]).abs().sum(dim=1).mean(dim=1)
        flat = energy.flatten(1)
        moving = (flat.amax(dim=1) - flat.amin(dim=1)) > MOTION_EPS
        energy = _normalise(_blur(energy, kernel))
        mask = _refine_by_colour(energy, frames.mean(dim=2), kernel, beta)
        mask = mask * moving.view(-1, 1, 1).to(mask.dtype)
    return mask.to(clip.dtype), energy.to(clip.dtype)


def _check_unit_range(clip: Tensor) -> None:
    if torch.compiler.is_compiling():  # needs the host, as check_finite: skipped in graphs
        return
    inside = (clip >= 0) & (clip <= 1)
    if not bool(inside.all()):
        outside = int((~inside).sum())
        low, high = clip.min().item(), clip.max().item()
        raise ValueError(
            f"`clip` must hold RGB values in [0, 1] for FAME's colour histograms, got "
            f"{outside} values outside it or NaN (min {low:.4g}, max {high:.4g}); compute the "
            "mask on raw frames before normalising, or clamp them"
        )


def _blur(maps: Tensor, kernel: int) -> Tensor:
    """kornia 0.6 ``GaussianBlur2d((k, k), (k / 3, k / 3))``: width pass, then height pass."""
    sigma = kernel / 3
    # Built on the CPU, as kornia builds it, so that every device gets the same weights.
    offsets = torch.arange(kernel, dtype=maps.dtype) - kernel // 2
    weights = torch.exp(-offsets.pow(2.0) / (2 * sigma**2))
    weights = (weights / weights.sum()).to(maps.device)
    pad = kernel // 2
    x = maps.unsqueeze(1)
    x = F.conv2d(F.pad(x, [pad, pad, 0, 0], mode="reflect"), weights.view(1, 1, 1, kernel))
    x = F.conv2d(F.pad(x, [0, 0, pad, pad], mode="reflect"), weights.view(1, 1, kernel, 1))
    return x.squeeze(1)


def _normalise(maps: Tensor) -> Tensor:
    """FAME's ``norm_batch``: subtract the minimum, then divide by the new maximum + eps."""
    flat = maps.flatten(1)
    flat = flat - flat.min(dim=-1, keepdim=True).values
    flat = flat / (flat.max(dim=-1, keepdim=True).values + FAME_EPS)
    return flat.view_as(maps)


def _hsv(image: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """kornia 0.6 ``rgb_to_hsv``: hue in radians [0, 2 pi], saturation, value. ``(B, 3, H, W)``."""
    red, green, blue = image.unbind(dim=1)
    high = image.amax(dim=1)
    chroma = high - image.amin(dim=1)
    saturation = chroma / (high + FAME_EPS)
    chroma = torch.where(chroma == 0, torch.ones_like(chroma), chroma)
    red_gap, green_gap, blue_gap = (high.unsqueeze(1) - image).unbind(dim=1)
    from_green = (red_gap - blue_gap) + 2.0 * chroma
    from_blue = (green_gap - red_gap) + 4.0 * chroma
    # The sector of the first maximal channel (red, then green), as torch.max(dim) picks it.
    red_first = (red >= green) & (red >= blue)
    hue = torch.where(
        red_first, blue_gap - green_gap, torch.where(green >= blue, from_green, from_blue)
    )
    hue = (hue / chroma / 6.0) % 1.0
    return 2.0 * math.pi * hue, saturation, high


def _refine_by_colour(energy: Tensor, mean_frame: Tensor, kernel: int, beta: float) -> Tensor:
    """FAME's ``getSeg``. Shapes: energy ``(B, H, W)``, mean_frame ``(B, 3, H, W)``."""
    batch, height, width = energy.shape
    pixels = height * width
    scores = energy.reshape(batch, -1)
    foreground = torch.topk(scores, k=int(_FOREGROUND_SAMPLE * pixels), dim=-1).indices
    background = torch.topk(scores, k=int(_BACKGROUND_SAMPLE * pixels), dim=-1, largest=False)
    hue, saturation, value = _hsv(mean_frame)
    levels = _COLOUR_LEVELS
    # FAME's quirk: the hue is already in radians and is scaled by 2 pi once more.
    hue_x = (saturation * torch.cos(hue * 2 * math.pi) + 1) / 2
    hue_y = (saturation * torch.sin(hue * 2 * math.pi) + 1) / 2
    bin_h = torch.round(hue_x * (levels - 1) + 1)
    bin_s = torch.round(hue_y * (levels - 1) + 1)
    bin_v = torch.round(value * (levels - 1) + 1)
    colour = bin_h + (bin_s - 1) * levels + (bin_v - 1) * levels * levels
    colour = colour.reshape(batch, -1).long()
    colours = levels**3
    # A no-op for frames in [0, 1] (indices 1..999); guards unchecked out-of-range input.
    colour = colour.clamp(0, colours - 1)
    counts_fg = _bincount(colour.gather(-1, foreground), colours).float()
    counts_bg = _bincount(colour.gather(-1, background.indices), colours).float() + 1
    counts_fg = counts_fg / (counts_fg.sum(dim=-1, keepdim=True) + FAME_EPS)
    counts_bg = counts_bg / (counts_bg.sum(dim=-1, keepdim=True) + FAME_EPS)
    p_fg = counts_fg.gather(1, colour)
    p_bg = counts_bg.gather(1, colour)
    refined = (p_fg / (p_bg + p_fg)).reshape(batch, height, width)
    refined = _normalise(_blur(refined, kernel))
    count = int(beta * height * width)
    top = torch.topk(refined.reshape(batch, -1), k=count, dim=-1).indices
    mask = torch.zeros_like(refined).reshape(batch, -1).scatter_(1, top, 1.0)
    return mask.view(batch, height, width)


def _bincount(index: Tensor, bins: int) -> Tensor:
    """Per-row histogram of integer ``index`` ``(B, K)`` into ``bins`` bins (int64)."""
    counts = torch.zeros(index.shape[0], bins, dtype=index.dtype, device=index.device)
    return counts.scatter_add_(1, index, torch.ones_like(index))
