"""Motion energy maps of clips and the thresholds that turn them into foreground masks.

Plain functions (no state) used by :class:`~bgdebias.blocks.StaticDynamicDecoupler`;
public so that users can inspect or reuse each step.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

#: Energy ranges below this are treated as "no motion" (a static clip).
MOTION_EPS = 1e-6

#: Smallest frame height and width (pixels) that the clip blocks accept: the decoupler, the
#: mixer and FAME's mask. Their default blur has 3 taps and ``threshold="noise"`` filters
#: with a 3x3 median, so the smallest actor they keep is about 2 x 2 pixels, and a mask
#: needs scene around it. Measured on a 2 x 2 square moving one pixel between two frames
#: over random textures: each of the decoupler's thresholds finds it in 4 x 4 frames (mean
#: IoU >= 0.5 over 10 scenes); in 3-pixel frames ``"noise"`` loses it (IoU 0), and in
#: 1-pixel frames neither blur nor median runs and the mask was half the frame.
MIN_FRAME_SIDE = 4

#: Smallest noise level of :func:`clip_noise_level`: one step of 8-bit video (1 / 255).
NOISE_FLOOR = 1.0 / 255.0

#: Default gate of :func:`noise_gated_mask`, in units of the clip's noise level.
NOISE_K = 6.0


def auto_blur_kernel_size(height: int, width: int) -> int:
    """Odd Gaussian kernel size of about 10% of the short side (at least 3).

    Args:
        height: Frame height in pixels.
        width: Frame width in pixels.

    Returns:
        The kernel size the decoupler uses when ``blur_kernel_size`` is ``None``.

    Example:
        >>> auto_blur_kernel_size(112, 112)
        11
        >>> auto_blur_kernel_size(64, 64)  # 6.4 rounds to 6, made odd
        7
        >>> auto_blur_kernel_size(16, 20)
        3
    """
    size = max(3, round(0.1 * min(height, width)))
    return size if size % 2 == 1 else size + 1


def gaussian_blur_maps(maps: Tensor, kernel_size: int) -> Tensor:
    """Blur each 2D map with a separable Gaussian of ``sigma = kernel_size / 3``.

    Borders are padded by reflection. ``kernel_size`` of 1 returns the input unchanged.
    Computed in float32 (float64 for float64 maps), also inside ``torch.autocast``, which
    is disabled locally (it would run the convolutions in bf16/fp16), and returned in the
    maps' dtype.

    Shape:
        maps: ``(N, H, W)``; returns ``(N, H, W)``.

    Example:
        >>> import torch
        >>> impulse = torch.zeros(1, 9, 9)
        >>> impulse[0, 4, 4] = 1.0
        >>> blurred = gaussian_blur_maps(impulse, 3)  # sigma = 1
        >>> blurred.shape, round(blurred.sum().item(), 4), round(blurred[0, 4, 4].item(), 4)
        (torch.Size([1, 9, 9]), 1.0, 0.2042)
        >>> bool(torch.equal(gaussian_blur_maps(impulse, 1), impulse))
        True
    """
    if kernel_size == 1:
        return maps
    work_dtype = maps.dtype if maps.dtype == torch.float64 else torch.float32
    with torch.autocast(device_type=maps.device.type, enabled=False):
        sigma = kernel_size / 3.0
        offsets = torch.arange(kernel_size, device=maps.device, dtype=work_dtype)
        offsets = offsets - kernel_size // 2
        weights = torch.exp(-0.5 * (offsets / sigma) ** 2)
        weights = weights / weights.sum()
        pad = kernel_size // 2
        x = maps.to(work_dtype).unsqueeze(1)
        x = F.conv2d(F.pad(x, (pad, pad, 0, 0), mode="reflect"), weights.view(1, 1, 1, -1))
        x = F.conv2d(F.pad(x, (0, 0, pad, pad), mode="reflect"), weights.view(1, 1, -1, 1))
    return x.squeeze(1).to(maps.dtype)


def minmax_normalize_maps(maps: Tensor) -> Tensor:
    """Rescale each map to [0, 1]; a constant map (no motion) becomes all zeros.

    Shape:
        maps: ``(N, H, W)``; returns ``(N, H, W)``.

    Example:
        >>> import torch
        >>> maps = torch.tensor([[[2.0, 4.0], [6.0, 10.0]], [[3.0, 3.0], [3.0, 3.0]]])
        >>> minmax_normalize_maps(maps).tolist()  # (x - 2) / 8; the constant map gives zeros
        [[[0.0, 0.25], [0.5, 1.0]], [[0.0, 0.0], [0.0, 0.0]]]
    """
    flat = maps.flatten(1)
    low = flat.amin(dim=1, keepdim=True)
    span = flat.amax(dim=1, keepdim=True) - low
    moving = span > MOTION_EPS
    scaled = torch.where(moving, (flat - low) / span.clamp_min(MOTION_EPS), torch.zeros_like(flat))
    return scaled.view_as(maps)


def frame_difference_energy(clip: Tensor) -> Tensor:
    """Mean absolute difference of adjacent frames, averaged over channels and time.

    Shape:
        clip: ``(B, C, T, H, W)`` with ``T >= 2``; returns ``(B, H, W)``.

    Example:
        >>> import torch
        >>> clip = torch.zeros(1, 3, 3, 4, 4)
        >>> clip[:, :, 2:, 0, 0] = 1.0  # one pixel switches on at t = 2 and stays on
        >>> energy = frame_difference_energy(clip)
        >>> energy.shape, energy[0, 0, 0].item(), energy[0, 1, 1].item()  # (0 + 1) / 2 steps
        (torch.Size([1, 4, 4]), 0.5, 0.0)
    """
    return (clip[:, :, 1:] - clip[:, :, :-1]).abs().mean(dim=(1, 2))


def static_residual_energy(clip: Tensor, static_frame: Tensor) -> Tensor:
    """Per-frame distance to the static scene, averaged over channels.

    Shape:
        clip: ``(B, C, T, H, W)``; static_frame: ``(B, C, 1, H, W)``; returns ``(B, T, H, W)``.

    Example:
        >>> import torch
        >>> clip = torch.zeros(1, 3, 2, 4, 4)
        >>> clip[0, 0, 1, 2, 2] = 0.9  # the red channel of one pixel changes in frame 1
        >>> energy = static_residual_energy(clip, torch.zeros(1, 3, 1, 4, 4))
        >>> energy.shape, round(energy[0, 1, 2, 2].item(), 4), energy[0, 0].sum().item()  # 0.9 / 3
        (torch.Size([1, 2, 4, 4]), 0.3, 0.0)
    """
    return (clip - static_frame).abs().mean(dim=1)


def top_fraction_mask(energy: Tensor, beta: float) -> Tensor:
    """Hard mask of exactly ``round(beta * H * W)`` highest-energy pixels of each map.

    Ties are broken by position, so the foreground fraction is exact. Maps without motion
    (all values equal) give an empty mask.

    Shape:
        energy: ``(N, H, W)``; returns ``(N, H, W)`` with values in {0, 1}.

    Example:
        >>> import torch
        >>> energy = torch.rand(2, 8, 8, generator=torch.Generator().manual_seed(0))
        >>> mask = top_fraction_mask(energy, 0.25)
        >>> mask.shape, mask.sum(dim=(1, 2)).tolist()  # round(0.25 * 64) = 16 pixels per map
        (torch.Size([2, 8, 8]), [16.0, 16.0])
        >>> bool(energy[0][mask[0] == 1].min() > energy[0][mask[0] == 0].max())
        True
        >>> top_fraction_mask(torch.ones(1, 4, 4), 0.25).sum().item()  # no motion: empty
        0.0
    """
    flat = energy.flatten(1)
    count = max(1, min(flat.shape[1], round(beta * flat.shape[1])))
    top = flat.topk(count, dim=1).indices
    mask = torch.zeros_like(flat).scatter_(1, top, 1.0)
    return (mask * _has_motion(flat)).view_as(energy)


def quantile_soft_mask(energy: Tensor, beta: float, temperature: float) -> Tensor:
    """Soft mask ``sigmoid((E - q) / temperature)`` with ``q`` the ``1 - beta`` quantile.

    Shape:
        energy: ``(N, H, W)`` normalised to [0, 1]; returns ``(N, H, W)`` in [0, 1].

    Example:
        >>> import torch
        >>> energy = torch.linspace(0, 1, 16).view(1, 4, 4)  # q = 0.75 quantile = 0.75
        >>> soft = quantile_soft_mask(energy, 0.25, temperature=0.05)
        >>> soft.shape, (soft > 0.5).float().mean().item()  # the top quarter is above 0.5
        (torch.Size([1, 4, 4]), 0.25)
        >>> round(soft[0, 0, 0].item(), 3), round(soft[0, 3, 3].item(), 3)  # sigmoid(-15), (5)
        (0.0, 0.993)
    """
    flat = energy.flatten(1)
    threshold = torch.quantile(flat.float(), 1.0 - beta, dim=1, keepdim=True).to(flat.dtype)
    mask = torch.sigmoid((flat - threshold) / temperature)
    return (mask * _has_motion(flat)).view_as(energy)


def otsu_threshold(energy: Tensor, bins: int = 256) -> Tensor:
    """Otsu's threshold of each map: the level that maximises between-class variance.

    Values are binned into ``bins`` levels over [0, 1]; the returned threshold lies on the
    upper edge of the last background bin, so ``energy > threshold`` selects exactly the
    bins above it. Computed in float64: the optimum is often flat, and float32 round-off
    picks a neighbouring level.

    Shape:
        energy: ``(N, H, W)`` with values in [0, 1]; returns ``(N, 1)``.

    Example:
        >>> import torch
        >>> energy = torch.full((1, 8, 8), 0.1)
        >>> energy[0, :2] = 0.9  # a bright quarter on a dim background
        >>> threshold = otsu_threshold(energy)
        >>> threshold.shape, bool(0.1 < threshold.item() < 0.9)
        (torch.Size([1, 1]), True)
        >>> (energy > threshold).float().mean().item()  # the bright quarter is foreground
        0.25
    """
    flat = energy.flatten(1).double().clamp(0.0, 1.0)
    index = (flat * (bins - 1)).round().long()
    histogram = torch.zeros(flat.shape[0], bins, device=flat.device, dtype=flat.dtype)
    histogram.scatter_add_(1, index, torch.ones_like(flat))
    probability = histogram / flat.shape[1]
    levels = torch.linspace(0.0, 1.0, bins, device=flat.device, dtype=flat.dtype)
    weight_low = probability.cumsum(dim=1)
    mass_low = (probability * levels).cumsum(dim=1)
    mass_total = mass_low[:, -1:]
    weight_high = 1.0 - weight_low
    spread = (weight_low * weight_high).clamp_min(1e-12)
    between = (mass_total * weight_low - mass_low) ** 2 / spread
    between = torch.where((weight_low > 0) & (weight_high > 0), between, torch.zeros_like(between))
    best = between.argmax(dim=1, keepdim=True)
    return (levels[best] + 0.5 / (bins - 1)).to(energy.dtype)


def otsu_mask(energy: Tensor, *, soft: bool = False, temperature: float = 0.05) -> Tensor:
    """Foreground where the energy exceeds Otsu's threshold (hard) or a sigmoid of it (soft).

    Adapts to the actor's size, unlike a fixed fraction: a walker covering 5% of the frame
    gets a mask of about 5%.

    Shape:
        energy: ``(N, H, W)`` normalised to [0, 1]; returns ``(N, H, W)`` in [0, 1].

    Example:
        >>> import torch
        >>> energy = torch.zeros(1, 20, 20)
        >>> energy[0, :4, :5] = 1.0  # an actor on 20 of 400 pixels
        >>> round(otsu_mask(energy).mean().item(), 4), top_fraction_mask(energy, 0.5).mean().item()
        (0.05, 0.5)
    """
    flat = energy.flatten(1)
    threshold = otsu_threshold(energy)
    if soft:
        mask = torch.sigmoid((flat - threshold) / temperature)
    else:
        mask = (flat > threshold).to(flat.dtype)
    return (mask * _has_motion(flat)).view_as(energy)


def temporal_middle_values(clip: Tensor) -> tuple[Tensor, Tensor]:
    """Lower and upper temporal median of every pixel: the two middle values over time.

    For an even number of frames ``T`` they are the ``T / 2``-th and ``T / 2 + 1``-th
    smallest values (the lower one is what ``torch.median`` returns); for odd ``T`` both
    are the median. One sort over time gives both.

    Shape:
        clip: ``(B, C, T, H, W)``; returns two ``(B, C, 1, H, W)`` tensors.

    Example:
        >>> import torch
        >>> clip = torch.tensor([0.4, 0.1, 0.3, 0.2]).view(1, 1, 4, 1, 1)  # one pixel, T = 4
        >>> lower, upper = temporal_middle_values(clip)
        >>> lower.shape, round(lower.item(), 4), round(upper.item(), 4)
        (torch.Size([1, 1, 1, 1, 1]), 0.2, 0.3)
    """
    ordered = clip.contiguous().sort(dim=2).values
    frames = clip.shape[2]
    lower = ordered.narrow(2, (frames - 1) // 2, 1).contiguous()
    upper = ordered.narrow(2, frames // 2, 1).contiguous()
    return lower, upper


def leave_one_out_residual_energy(clip: Tensor, lower: Tensor, upper: Tensor) -> Tensor:
    """Each frame's distance to the temporal median of the other frames, channel-averaged.

    A frame does not vote for its own background. For even ``T`` the median of the
    ``T - 1`` other values is the middle value on the far side of ``x_t`` (``upper`` if
    ``x_t <= lower``, else ``lower``), so the distance is
    ``max(|x_t - lower|, |x_t - upper|)`` with ``lower`` and ``upper`` from
    :func:`temporal_middle_values`. An actor that covers a pixel in half of the frames is
    then found there in every frame it covers, where the plain (lower) median takes it
    for the background whenever it is darker than the scene; the price is that the
    pixel's other frames are flagged too. For odd ``T``, ``lower == upper`` and this is
    :func:`static_residual_energy` against the median.

    Shape:
        clip: ``(B, C, T, H, W)``; lower, upper: ``(B, C, 1, H, W)``; returns
        ``(B, T, H, W)``.

    Example:
        >>> import torch
        >>> clip = torch.ones(1, 1, 4, 1, 1)  # a bright scene ...
        >>> clip[0, 0, 1:3] = 0.0  # ... under a dark actor in frames 1 and 2 of 4
        >>> lower, upper = temporal_middle_values(clip)
        >>> static_residual_energy(clip, lower).flatten().tolist()  # the actor looks static
        [1.0, 0.0, 0.0, 1.0]
        >>> leave_one_out_residual_energy(clip, lower, upper).flatten().tolist()
        [1.0, 1.0, 1.0, 1.0]
    """
    return torch.maximum((clip - lower).abs(), (clip - upper).abs()).mean(dim=1)


def median3_filter_maps(maps: Tensor) -> Tensor:
    """Separable 3x3 median of each map: the median of 3 along rows, then along columns.

    Removes isolated pixels (sensor noise, compression speckle) without widening the
    actor, as a Gaussian blur does; the edges and corners of a region at least 2 pixels
    wide survive. Borders are padded by replication. Close to the exact 3x3 median at a
    fraction of its cost: 8 elementwise minima and maxima per pixel, no sort and no
    9-fold temporary.

    Shape:
        maps: ``(N, H, W)``; returns ``(N, H, W)``.

    Example:
        >>> import torch
        >>> maps = torch.zeros(1, 6, 6)
        >>> maps[0, 1:4, 1:4] = 1.0  # a 3x3 actor
        >>> maps[0, 5, 3] = 1.0  # an isolated noisy pixel
        >>> filtered = median3_filter_maps(maps)
        >>> bool(torch.equal(filtered[0, 1:4, 1:4], torch.ones(3, 3))), filtered.sum().item()
        (True, 9.0)
    """
    return _median3_along(_median3_along(maps, -1), -2)


def clip_noise_level(energy: Tensor, *, floor: float = NOISE_FLOOR) -> Tensor:
    """Robust noise level of each clip: the median of its energy over all maps and pixels.

    Most pixels of a clip are background, so the median is the typical background
    residual (sensor noise, compression, flicker) and ignores the actor as long as it
    covers under half of the clip's pixels. It is at least ``floor`` (one 8-bit step by
    default), so that on a noise-free (rendered) clip every visible change counts.

    Shape:
        energy: ``(B, M, H, W)``, ``M`` maps per clip (its frames, or 1); returns
        ``(B, 1, 1, 1)``.

    Example:
        >>> import torch
        >>> energy = torch.full((2, 4, 8, 8), 0.02)  # a background residual of 0.02
        >>> energy[0, :, :2] = 0.5  # clip 0: an actor on a quarter of every frame
        >>> energy[1] = 0.0  # clip 1: noise-free, the floor of 1 / 255 applies
        >>> [round(level, 4) for level in clip_noise_level(energy).flatten().tolist()]
        [0.02, 0.0039]
    """
    level = energy.flatten(1).median(dim=1).values.clamp_min(floor)
    return level.view(-1, 1, 1, 1)


def noise_gated_mask(
    energy: Tensor,
    noise_k: float = NOISE_K,
    *,
    floor: float = NOISE_FLOOR,
    soft: bool = False,
    temperature: float = 0.05,
) -> Tensor:
    """Foreground where the energy exceeds ``noise_k`` times its clip's noise level.

    The threshold is ``noise_k * clip_noise_level(energy, floor=floor)``, one per clip: an
    absolute level, so a frame in which nothing but noise changes gets an (almost) empty
    mask, where a per-frame Otsu or top-fraction threshold always finds a foreground. The
    default ``noise_k = 6`` is about 4 standard deviations of Gaussian noise (the median
    of ``|N(0, s)|`` is ``0.674 s``), the gate of OpenCV's MOG2 background subtractor
    (``varThreshold = 16``). ``soft=True`` gives ``sigmoid((E / threshold - 1) /
    temperature)``, 0.5 at the threshold. Maps without motion (constant) are empty.

    Shape:
        energy: ``(B, M, H, W)``, ``M`` maps per clip; returns ``(B, M, H, W)`` in [0, 1].

    Example:
        >>> import torch
        >>> energy = torch.full((1, 2, 8, 8), 0.01)  # one clip of 2 frames, noise 0.01
        >>> energy[0, 0, 2:4, 2:4] = 0.05  # 5 noise levels in frame 0: below the gate
        >>> energy[0, 1, 2:4, 2:4] = 0.08  # 8 noise levels in frame 1: foreground
        >>> noise_gated_mask(energy).sum(dim=(2, 3)).tolist()
        [[0.0, 4.0]]
        >>> noise_gated_mask(torch.zeros(1, 2, 8, 8)).sum().item()  # a static clip: empty
        0.0
    """
    threshold = noise_k * clip_noise_level(energy, floor=floor)
    if soft:
        mask = torch.sigmoid((energy / threshold - 1.0) / temperature)
    else:
        mask = (energy > threshold).to(energy.dtype)
    batch, maps = energy.shape[:2]
    moving = _has_motion(energy.reshape(batch * maps, -1)).view(batch, maps, 1, 1)
    return mask * moving


def _median3_along(maps: Tensor, dim: int) -> Tensor:
    """Median of every value and its two neighbours along ``dim`` (borders replicated)."""
    size = maps.shape[dim]
    if size < 2:
        return maps
    padded = torch.cat([maps.narrow(dim, 0, 1), maps, maps.narrow(dim, size - 1, 1)], dim=dim)
    before = padded.narrow(dim, 0, size)
    after = padded.narrow(dim, 2, size)
    low = torch.minimum(before, maps)
    high = torch.maximum(before, maps)
    return torch.maximum(low, torch.minimum(high, after))


def _has_motion(flat: Tensor) -> Tensor:
    """1.0 for maps whose values vary, 0.0 for constant maps. Shape: ``(N, L) -> (N, 1)``."""
    span = flat.amax(dim=1, keepdim=True) - flat.amin(dim=1, keepdim=True)
    return (span > MOTION_EPS).to(flat.dtype)
