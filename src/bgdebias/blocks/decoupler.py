"""StaticDynamicDecoupler: split a clip into its static scene and its moving actor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor, nn

from bgdebias._choices import MaskMode as MaskMode  # re-exported: the blocks own them
from bgdebias._choices import ThresholdMode as ThresholdMode
from bgdebias._random import draw_device
from bgdebias._validation import (
    check_choice,
    check_clip,
    check_finite,
    check_int,
    check_open_unit,
    check_positive,
)
from bgdebias.blocks.fame_mask import _fame_mask_and_energy
from bgdebias.blocks.motion_energy import (
    MIN_FRAME_SIDE,
    MOTION_EPS,
    NOISE_K,
    auto_blur_kernel_size,
    frame_difference_energy,
    gaussian_blur_maps,
    leave_one_out_residual_energy,
    median3_filter_maps,
    minmax_normalize_maps,
    noise_gated_mask,
    otsu_mask,
    quantile_soft_mask,
    static_residual_energy,
    temporal_middle_values,
    top_fraction_mask,
)

#: What the decoupler's channel error suggests for clips that are not RGB.
_CHANNELS_REMEDY = (
    "if the clips really have {found} channels, build the StaticDynamicDecoupler (also "
    "the one given to a mixer) with `channels={found}` (or `channels=None` for any number)"
)
StaticEstimator = Literal["median", "mean", "random_frame"]
DynamicMode = Literal["masked", "residual"]


@dataclass(frozen=True)
class DecoupledClip:
    """The two factors of a clip and the maps they came from.

    All tensors broadcast against the input clip ``(B, C, T, H, W)``; ``static``, and
    ``mask``/``energy`` in ``mask_mode="clip"``, are expanded views over ``T`` (no copy):
    call ``.contiguous()`` before writing into them.

    Attributes:
        static: The scene with the actor removed, repeated over time.
            Shape: ``(B, C, T, H, W)``.
        dynamic: The moving actor: ``clip * mask`` (or ``clip - static``).
            Shape: ``(B, C, T, H, W)``.
        mask: Foreground (moving) pixels, in {0, 1} (hard) or [0, 1] (soft).
            Shape: ``(B, 1, T, H, W)``.
        energy: Blurred motion energy normalised to [0, 1] per map. Shape: ``(B, 1, T, H, W)``.
        has_motion: ``False`` for clips in which nothing moves (all frames equal); their
            mask and energy are all zeros. Shape: ``(B,)``, bool.

    Example:
        >>> import torch
        >>> from bgdebias import StaticDynamicDecoupler
        >>> clip = torch.full((2, 3, 4, 16, 16), 0.5)  # grey scenes; clip 1 stays still
        >>> for t in range(4):
        ...     clip[0, :, t, 6:10, 3 * t : 3 * t + 4] = 1.0  # a square moving right
        >>> out = StaticDynamicDecoupler(beta=0.25)(clip)
        >>> out.has_motion.tolist(), out.static.unique().tolist()  # the median drops the square
        ([True, False], [0.5])
        >>> out.mask[1].sum().item(), bool(torch.equal(out.dynamic, clip * out.mask))
        (0.0, True)
    """

    static: Tensor
    dynamic: Tensor
    mask: Tensor
    energy: Tensor
    has_motion: Tensor


# A pytree node, so that torch.export can return it (torch.compile needs nothing).
torch.export.register_dataclass(DecoupledClip, serialized_type_name="bgdebias.blocks.DecoupledClip")


class StaticDynamicDecoupler(nn.Module):
    """Split a clip into a static factor (the scene) and a dynamic factor (the actor).

    Motion energy is the mean absolute difference of adjacent frames, averaged over
    channels and time (``mask_mode="clip"``, one map for all frames, like FAME's), or
    each frame's absolute difference from the temporal median (``mask_mode="frame"``, a
    map per frame that follows the actor: our reading, since a per-clip mask covers the
    actor's whole trail and lets the clip's own background inside the trail leak into a
    mixed clip). The energy is blurred with a Gaussian (odd kernel of about 10% of the short
    side, ``sigma = kernel / 3``) and min-max normalised per map. The foreground is then

    * ``threshold="fraction"``: the top ``beta`` fraction of pixels (exactly
      ``round(beta * H * W)``), or, with ``soft=True``,
      ``sigmoid((E - q_beta) / soft_temperature)`` with ``q_beta`` the ``1 - beta`` quantile;
    * ``threshold="otsu"``: pixels above Otsu's threshold of the energy histogram, which
      adapts to the actor's size (a fixed ``beta = 0.5`` marks half the frame as foreground
      even when the actor covers 5% of it);
    * ``threshold="fame"``: FAME's exact mask (:func:`~bgdebias.blocks.fame_foreground_mask`:
      its own blur, colour-histogram refinement, top ``int(beta * H * W)`` pixels), one per
      clip. It needs ``mask_mode="clip"``, ``soft=False`` and ``blur_kernel_size=None``
      (FAME sizes its kernel itself), RGB clips in [0, 1] (checked with ``check_finite``),
      and ``energy`` is then FAME's normalised motion map before the colour refinement.
      A clip without motion still gets an empty mask, where FAME would pick
      ``int(beta * H * W)`` arbitrary pixels.
    * ``threshold="noise"``: an absolute, noise-relative gate instead of a per-map
      relative one. With ``mask_mode="frame"`` each frame's energy is its distance to the
      temporal median of the *other* frames (``leave_one_out_residual_energy``: a frame
      does not vote for its own background, so an actor that covers a pixel in half of
      the frames is not taken for the scene). The energy is not blurred but median-filtered
      over 3x3 pixels (``median3_filter_maps``: drops isolated noisy pixels without
      widening the actor), and a pixel is foreground where it exceeds ``noise_k`` times
      the clip's noise level, the median of its filtered energy over all pixels and maps,
      at least 1 / 255 (``noise_gated_mask``; all three in
      ``bgdebias.blocks.motion_energy``). Frames in which only noise changes get (almost)
      empty masks, where Otsu's threshold always splits a frame in two, and small or
      faint actors are not lost next to a brighter one. Needs ``blur_kernel_size=None``;
      ``energy`` is the filtered energy min-max normalised per map. Measured against
      OpenCV's MOG2 on real footage in ``docs/benchmarks/masks.md``.

    The other thresholds do not reproduce FAME numerically: FAME's kernel is
    ``int(0.1 * side) // 2 * 2 + 1`` (1 below 20 pixels; 2 smaller than ours whenever
    ``side % 20`` is 15 to 19), ``"fraction"`` counts ``round(beta * H * W)`` pixels where
    FAME takes ``int(beta * H * W)``, and FAME always refines its motion map by colour.

    The static factor is the per-pixel temporal median (the actor vanishes wherever it
    covers a pixel in fewer than half of the frames; a slow or large actor leaves a ghost),
    the temporal mean, or one random frame per clip (as DCLR and BE use).

    A clip in which nothing moves has zero energy: its mask is all zeros (nothing is
    foreground) and ``has_motion`` is ``False``; outputs stay finite. Non-finite input
    raises ``ValueError`` unless ``check_finite=False``, in which case NaN propagates to the
    outputs of the affected clips. Half-precision inputs are processed in float32 and
    returned in their own dtype.

    Every configuration compiles with ``torch.compile(fullgraph=True)`` and exports with
    ``torch.export`` (:class:`DecoupledClip` is registered as a pytree), except
    ``static="random_frame"`` with a ``generator``, which Dynamo cannot trace: seed with
    ``torch.manual_seed`` instead.

    Clips are laid out ``(B, C, T, H, W)``. The channel count is checked (``channels``, 3 by
    default), so that a ``(B, T, C, H, W)`` batch is not taken for a clip of ``T`` channels;
    frames must be at least ``MIN_FRAME_SIDE`` (4) pixels high and wide, room for the blur
    and for a mask around a 2-pixel actor (``bgdebias.blocks.motion_energy.MIN_FRAME_SIDE``).

    Args:
        beta: Foreground fraction for ``threshold="fraction"`` and ``"fame"``, in (0, 1).
        threshold: ``"fraction"`` (top ``beta``), ``"otsu"`` (adaptive), ``"fame"``
            (FAME's exact mask) or ``"noise"`` (above ``noise_k`` noise levels).
        soft: Return a soft mask in [0, 1] instead of a hard {0, 1} mask.
        soft_temperature: Temperature of the soft mask's sigmoid, > 0.
        mask_mode: ``"clip"`` (one mask for all frames) or ``"frame"`` (a mask per frame).
        static: Static estimator: ``"median"``, ``"mean"`` or ``"random_frame"``.
        dynamic: ``"masked"`` (``clip * mask``) or ``"residual"`` (``clip - static``).
        blur_kernel_size: Odd Gaussian kernel size, at most the frame's short side; ``None``
            picks about 10% of the short side; ``1`` disables blurring.
        check_finite: Raise ``ValueError`` on NaN/Inf input (one device sync per call);
            with ``threshold="fame"`` also on values outside [0, 1]. Skipped inside
            ``torch.compile`` and ``torch.export``, which cannot trace the sync.
        noise_k: Gate of ``threshold="noise"`` in units of the clip's noise level, > 0;
            the default 6 is about 4 standard deviations of Gaussian noise.
        channels: Channels ``C`` every clip must have (3: RGB); ``None`` accepts any
            number. ``threshold="fame"`` needs 3.

    Example:
        >>> import torch
        >>> from bgdebias import StaticDynamicDecoupler
        >>> clip = torch.rand(2, 3, 8, 32, 32)
        >>> out = StaticDynamicDecoupler(beta=0.25)(clip)
        >>> out.static.shape, out.mask.shape
        (torch.Size([2, 3, 8, 32, 32]), torch.Size([2, 1, 8, 32, 32]))
        >>> out.mask[:, :, 0].mean().item()
        0.25
    """

    def __init__(
        self,
        *,
        beta: float = 0.5,
        threshold: ThresholdMode = "fraction",
        soft: bool = False,
        soft_temperature: float = 0.05,
        mask_mode: MaskMode = "clip",
        static: StaticEstimator = "median",
        dynamic: DynamicMode = "masked",
        blur_kernel_size: int | None = None,
        check_finite: bool = True,
        noise_k: float = NOISE_K,
        channels: int | None = 3,
    ) -> None:
        super().__init__()
        self.beta = check_open_unit(beta, "beta")
        self.threshold: ThresholdMode = check_choice(
            threshold, "threshold", ("fraction", "otsu", "fame", "noise")
        )
        self.soft = bool(soft)
        self.soft_temperature = check_positive(soft_temperature, "soft_temperature")
        self.mask_mode: MaskMode = check_choice(mask_mode, "mask_mode", ("clip", "frame"))
        self.static: StaticEstimator = check_choice(
            static, "static", ("median", "mean", "random_frame")
        )
        self.dynamic: DynamicMode = check_choice(dynamic, "dynamic", ("masked", "residual"))
        if blur_kernel_size is not None:
            check_int(blur_kernel_size, "blur_kernel_size", minimum=1)
            if blur_kernel_size % 2 == 0:
                raise ValueError(f"`blur_kernel_size` must be odd, got {blur_kernel_size}")
        self.blur_kernel_size = blur_kernel_size
        self.check_finite = bool(check_finite)
        self.noise_k = check_positive(noise_k, "noise_k")
        self.channels = None if channels is None else check_int(channels, "channels", minimum=1)
        if self.threshold == "fame":
            self._check_fame_options()
        if self.threshold == "noise" and blur_kernel_size is not None:
            raise ValueError(
                "`threshold='noise'` filters the energy with a 3x3 median, not a Gaussian: "
                f"`blur_kernel_size` must be None, got {blur_kernel_size}"
            )

    def forward(self, clip: Tensor, *, generator: torch.Generator | None = None) -> DecoupledClip:
        """Decouple a batch of clips.

        Args:
            clip: Float video batch. Shape: ``(B, C, T, H, W)`` with ``C == channels``,
                ``T >= 2`` and ``H, W >= MIN_FRAME_SIDE`` (4).
            generator: Random source for ``static="random_frame"``; ignored otherwise.

        Returns:
            A :class:`DecoupledClip` whose tensors broadcast against ``clip``.
        """
        self.check_input(clip)
        if self.check_finite:
            check_finite(clip, "clip")
        kernel = self._kernel_size(clip.shape[-2], clip.shape[-1])
        work = clip if clip.dtype in (torch.float32, torch.float64) else clip.float()
        if self.mask_mode == "clip":
            static_frame = self._static_frame(work, generator)
            raw = frame_difference_energy(work).unsqueeze(1)
        elif self.threshold == "noise":
            lower, upper = temporal_middle_values(work)  # one sort gives both medians
            static_frame = lower if self.static == "median" else self._static_frame(work, generator)
            raw = leave_one_out_residual_energy(work, lower, upper)
        else:
            static_frame = self._static_frame(work, generator)
            reference = static_frame if self.static == "median" else _median_frame(work)
            raw = static_residual_energy(work, reference)
        batch, maps, height, width = raw.shape
        if self.threshold == "fame":
            mask, energy = _fame_mask_and_energy(clip, self.beta, check_range=self.check_finite)
        elif self.threshold == "noise":
            filtered = median3_filter_maps(raw.reshape(batch * maps, height, width))
            mask = noise_gated_mask(
                filtered.view(batch, maps, height, width),
                self.noise_k,
                soft=self.soft,
                temperature=self.soft_temperature,
            )
            energy = minmax_normalize_maps(filtered)
        else:
            flat_raw = raw.reshape(batch * maps, height, width)
            energy = minmax_normalize_maps(gaussian_blur_maps(flat_raw, kernel))
            mask = self._threshold(energy)
        mask = mask.view(batch, 1, maps, height, width)
        energy = energy.view(batch, 1, maps, height, width)
        span = raw.flatten(2).amax(dim=2) - raw.flatten(2).amin(dim=2)
        has_motion = (span > MOTION_EPS).any(dim=1)
        if self.threshold == "fame":  # our rule, not FAME's: no motion, no foreground
            mask = mask * has_motion.view(batch, 1, 1, 1, 1).to(mask.dtype)
        frames = clip.shape[2]
        shape = (batch, 1, frames, height, width)
        mask = mask.expand(shape).to(clip.dtype)
        energy = energy.expand(shape).to(clip.dtype)
        static = static_frame.to(clip.dtype).expand_as(clip)
        dynamic = clip * mask if self.dynamic == "masked" else clip - static
        return DecoupledClip(static, dynamic, mask, energy, has_motion)

    def check_input(self, clip: Tensor, name: str = "clip", *, min_batch: int = 1) -> None:
        """Check a clip batch as :meth:`forward` does (layout, channels, frames, frame size).

        Raises:
            TypeError: If ``clip`` is not a floating-point tensor.
            ValueError: If ``clip`` is not ``(B, C, T, H, W)`` with ``C == channels``,
                ``T >= 2``, ``H, W >= MIN_FRAME_SIDE`` and ``B >= min_batch``.
        """
        check_clip(
            clip,
            name,
            min_frames=2,
            min_batch=min_batch,
            channels=self.channels,
            channels_remedy=_CHANNELS_REMEDY,
            min_side=MIN_FRAME_SIDE,
        )

    def _check_fame_options(self) -> None:
        if self.mask_mode != "clip":
            raise ValueError(
                "`threshold='fame'` needs `mask_mode='clip'` (FAME computes one mask per "
                f"clip), got mask_mode={self.mask_mode!r}"
            )
        if self.soft:
            raise ValueError("`threshold='fame'` gives a hard mask: `soft` must be False, got True")
        if self.channels not in (3, None):
            raise ValueError(
                "`threshold='fame'` bins RGB colours: `channels` must be 3 (or None), "
                f"got {self.channels}"
            )
        if self.blur_kernel_size is not None:
            raise ValueError(
                "`threshold='fame'` sizes its blur as FAME does (int(0.1 * side) // 2 * 2 + 1): "
                f"`blur_kernel_size` must be None, got {self.blur_kernel_size}"
            )

    def _kernel_size(self, height: int, width: int) -> int:
        if self.blur_kernel_size is None:
            return min(auto_blur_kernel_size(height, width), _largest_odd(min(height, width)))
        if self.blur_kernel_size > min(height, width):
            raise ValueError(
                f"`blur_kernel_size` ({self.blur_kernel_size}) must not exceed the frame's "
                f"short side (H={height}, W={width})"
            )
        return self.blur_kernel_size

    def _static_frame(self, clip: Tensor, generator: torch.Generator | None) -> Tensor:
        if self.static == "median":
            return _median_frame(clip)
        if self.static == "mean":
            return clip.mean(dim=2, keepdim=True)
        index = torch.randint(
            clip.shape[2], (clip.shape[0],), generator=generator, device=draw_device(generator)
        )
        index = index.to(clip.device).view(-1, 1, 1, 1, 1)
        gather_index = index.expand(-1, clip.shape[1], 1, clip.shape[3], clip.shape[4])
        return clip.gather(2, gather_index)

    def _threshold(self, energy: Tensor) -> Tensor:
        if self.threshold == "otsu":
            return otsu_mask(energy, soft=self.soft, temperature=self.soft_temperature)
        if self.soft:
            return quantile_soft_mask(energy, self.beta, self.soft_temperature)
        return top_fraction_mask(energy, self.beta)

    def extra_repr(self) -> str:
        return (
            f"beta={self.beta}, threshold={self.threshold!r}, soft={self.soft}, "
            f"mask_mode={self.mask_mode!r}, static={self.static!r}, dynamic={self.dynamic!r}, "
            f"blur_kernel_size={self.blur_kernel_size}, channels={self.channels}"
            + (f", noise_k={self.noise_k}" if self.threshold == "noise" else "")
        )


def _median_frame(clip: Tensor) -> Tensor:
    """Per-pixel temporal median (the lower one for even T). Shape: ``(B, C, 1, H, W)``."""
    # torch 2.14's median returns wrong values along a stride-0 (expanded) dimension.
    return clip.contiguous().median(dim=2, keepdim=True).values


def _largest_odd(value: int) -> int:
    return value if value % 2 == 1 else value - 1
