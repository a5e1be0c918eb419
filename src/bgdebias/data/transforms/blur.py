"""Gaussian blur of whole clips, one random sigma per clip (MoCo v2's blur)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from bgdebias._validation import check_int, check_unit
from bgdebias.data.transforms._draws import bernoulli, per_clip, uniform
from bgdebias.data.transforms._input import check_interval, read_clip_batch
from bgdebias.data.transforms.base import RandomClipTransform


@dataclass(frozen=True)
class BlurParams:
    """Per-clip blur parameters.

    Attributes:
        sigma: Standard deviation of the Gaussian in pixels. Shape: ``(B,)``.
        applied: Whether the clip is blurred. Shape: ``(B,)``, bool.

    Example:
        >>> import torch
        >>> blur = GaussianBlurClip(sigma=(0.5, 1.5), p=0.5)
        >>> params = blur.sample_params(4, generator=torch.Generator().manual_seed(0))
        >>> params.applied.tolist(), bool(((params.sigma >= 0.5) & (params.sigma <= 1.5)).all())
        ([True, False, True, False], True)
    """

    sigma: Tensor
    applied: Tensor


class GaussianBlurClip(RandomClipTransform[BlurParams]):
    """Blur each clip (all frames) with a random Gaussian, with probability ``p``.

    Separable blur with reflect padding, as torchvision's ``gaussian_blur``; sigma drawn
    uniformly in ``sigma`` per clip.

    Args:
        kernel_size: Odd kernel size; default: the odd number nearest to 10% of the shorter
            side (at least 3), capped below the frame size.
        sigma: Range of the standard deviation in pixels.
        p: Probability of blurring a clip (0.5 in MoCo v2).
        channels: Number of channels a clip must have (``None``: any).

    Shape:
        ``(C, T, H, W)`` or ``(B, C, T, H, W)`` float in and out; a ``tv_tensors.Video``
        ``(..., T, C, H, W)`` in and out.

    Example:
        >>> import torch
        >>> blur = GaussianBlurClip(sigma=(1.0, 2.0), p=1.0)
        >>> stripes = (torch.arange(16) % 2).float().expand(3, 4, 16, 16)  # 1-pixel stripes
        >>> out = blur(stripes, generator=torch.Generator().manual_seed(0))
        >>> out.shape, round(float(stripes.std()), 2), round(float(out.std()), 2)
        (torch.Size([3, 4, 16, 16]), 0.5, 0.12)
    """

    def __init__(
        self,
        *,
        kernel_size: int | None = None,
        sigma: tuple[float, float] = (0.1, 2.0),
        p: float = 0.5,
        channels: int | None = 3,
    ) -> None:
        super().__init__(channels=channels)
        if kernel_size is not None:
            check_int(kernel_size, "kernel_size", minimum=1)
            if kernel_size % 2 == 0:
                raise ValueError(f"`kernel_size` must be odd, got {kernel_size}")
        self.kernel_size = kernel_size
        self.sigma = check_interval(sigma, "sigma", minimum=0.0)
        if self.sigma[0] == 0.0:
            raise ValueError(f"`sigma` must be > 0, got {sigma!r}")
        self.p = check_unit(p, "p")

    def sample_params(self, num_clips: int, generator: torch.Generator | None = None) -> BlurParams:
        """Draw the sigma of ``num_clips`` clips and whether each is blurred."""
        check_int(num_clips, "num_clips", minimum=1)
        sigma = uniform(*self.sigma, (num_clips,), generator)
        return BlurParams(sigma=sigma, applied=bernoulli(self.p, num_clips, generator))

    def _kernel_size(self, height: int, width: int) -> int:
        size = self.kernel_size or max(3, 2 * round((0.1 * min(height, width) - 1) / 2) + 1)
        largest = 2 * ((min(height, width) - 1) // 2) + 1  # reflect padding needs pad < size
        return max(1, min(size, largest))

    def apply_params(self, clip: Tensor, params: BlurParams) -> Tensor:
        """Blur with given parameters. Shape: like ``clip``."""
        clips = read_clip_batch(clip, channels=self.channels)
        batch = clips.batch
        if not batch.is_floating_point():
            raise TypeError(f"`clip` must be floating point to blur, got {batch.dtype}")
        b, c, t, h, w = batch.shape
        size = self._kernel_size(h, w)
        offsets = torch.arange(size, device=batch.device, dtype=batch.dtype) - (size - 1) / 2
        sigma = params.sigma.to(device=batch.device, dtype=batch.dtype).view(b, 1)
        kernel = torch.exp(-0.5 * (offsets / sigma) ** 2)
        kernel = (kernel / kernel.sum(dim=1, keepdim=True)).repeat_interleave(c * t, dim=0)
        planes = batch.reshape(1, b * c * t, h, w)
        pad = size // 2
        planes = F.pad(planes, (pad, pad, pad, pad), mode="reflect")
        planes = F.conv2d(planes, kernel.view(b * c * t, 1, size, 1), groups=b * c * t)
        planes = F.conv2d(planes, kernel.view(b * c * t, 1, 1, size), groups=b * c * t)
        out = torch.where(per_clip(params.applied, batch), planes.view(b, c, t, h, w), batch)
        return clips.restore(out)

    def _draw(self, batch: Tensor, generator: torch.Generator | None) -> BlurParams:
        return self.sample_params(batch.shape[0], generator)

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, sigma={self.sigma}, p={self.p}, "
            f"channels={self.channels}"
        )
