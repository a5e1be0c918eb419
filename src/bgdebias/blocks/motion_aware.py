"""MotionAwareDecomposition: a salient map from feature differences of adjacent frames,
splitting backbone features into dynamic and static parts (micro background bias)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from bgdebias._validation import (
    check_channels,
    check_finite,
    check_floating,
    check_int,
    check_ndim,
    check_tensor,
)
from bgdebias.blocks.motion_energy import minmax_normalize_maps

_NORM_EPS = 1e-12
_POOL_EPS = 1e-6


@dataclass(frozen=True)
class MotionDecomposition:
    """Features split by where they move.

    Attributes:
        dynamic: Saliency-weighted pooling of the features (what moves). Shape: ``(B, C)``.
        static: ``(1 - saliency)``-weighted pooling (the surroundings). Shape: ``(B, C)``.
        pooled: Plain global average pooling. Shape: ``(B, C)``.
        saliency: Accumulated variation, min-max normalised to [0, 1] per sample; all zeros
            when nothing changes. Shape: ``(B, 1, H, W)``.
        step_maps: Unnormalised L2 norm over channels of each adjacent-frame difference.
            Shape: ``(B, T - 1, H, W)``.

    Example:
        >>> import torch
        >>> from bgdebias import MotionAwareDecomposition
        >>> features = torch.ones(2, 4, 3, 5, 5)  # clip 1: nothing changes
        >>> features[0, :, 1, 2, 2] = 3.0  # clip 0: one place flashes at t = 1
        >>> out = MotionAwareDecomposition()(features)
        >>> out.step_maps[0, :, 2, 2].tolist(), out.saliency[0, 0, 2, 2].item()  # ||2 * 1_4||
        ([4.0, 4.0], 1.0)
        >>> round(out.dynamic[0, 0].item(), 4), out.saliency[1].sum().item()  # (1 + 3 + 1) / 3
        (1.6667, 0.0)
    """

    dynamic: Tensor
    static: Tensor
    pooled: Tensor
    saliency: Tensor
    step_maps: Tensor


# A pytree node, so that torch.export can return it (torch.compile needs nothing).
torch.export.register_dataclass(
    MotionDecomposition, serialized_type_name="bgdebias.blocks.MotionDecomposition"
)


class MotionAwareDecomposition(nn.Module):
    """Pixel-level motion-aware decomposition of a backbone feature map.

    For features ``F`` of shape ``(B, C, T, H, W)``, the variation between adjacent frames
    ``v_t = ||P(F)[:, :, t + 1] - P(F)[:, :, t]||_2`` (norm over channels, computed
    explicitly; ``P`` is an optional learnable 1x1x1 projection, identity by default) is
    summed over the ``T - 1`` steps into a salient map, which is min-max normalised per
    sample. Like PAN's persistence of appearance, it peaks at the boundaries of moving
    objects. The time-averaged features are then pooled with weights ``S`` (dynamic),
    ``1 - S`` (static) and uniformly (pooled).

    Temporal zero padding in a 3D CNN makes even a static scene's features differ at the
    first and last frames (measured: with zero padding a static textured background got
    about a third of the saliency a moving square got; with replicate padding, zero), so
    prefer backbones with replicate temporal padding.

    The differences and norms are computed in float32 (float64 for float64 features); the
    projection runs in its weights' dtype, also inside ``torch.autocast`` (disabled
    locally), so the map does not depend on autocast.

    A clip whose features do not change gives ``S = 0``: its dynamic feature is the zero
    vector and its static feature equals the plain pooling; nothing is NaN.

    Compiles with ``torch.compile(fullgraph=True)`` and exports with ``torch.export``
    (:class:`MotionDecomposition` is registered as a pytree).

    Features are laid out ``(B, C, T, H, W)``, as 3D CNNs return them. Their channel count
    is not fixed, so a ``(B, T, C, H, W)`` map is only caught when ``channels`` is given
    (recommended) or when it leaves fewer than 2 steps in dimension 2. There is no
    smallest map size, but a map with a single position (``H = W = 1``) has no spatial
    saliency: ``S = 0`` and the dynamic feature is zero.

    Args:
        channels: Channels ``C`` of the feature map, checked on every call; required with
            ``projection_dim``.
        projection_dim: Output channels of a learnable 1x1x1 projection applied before the
            differences (``None``: no projection).
        detach_saliency: Stop gradients through the salient map, so that the backbone is
            trained only through the pooled features.
        check_finite: Raise ``ValueError`` on NaN/Inf features (one device sync per call;
            skipped inside ``torch.compile`` and ``torch.export``).

    Example:
        >>> import torch
        >>> from bgdebias import MotionAwareDecomposition
        >>> features = torch.randn(2, 64, 4, 7, 7)
        >>> out = MotionAwareDecomposition()(features)
        >>> out.dynamic.shape, out.saliency.shape, out.step_maps.shape
        (torch.Size([2, 64]), torch.Size([2, 1, 7, 7]), torch.Size([2, 3, 7, 7]))
    """

    def __init__(
        self,
        *,
        channels: int | None = None,
        projection_dim: int | None = None,
        detach_saliency: bool = False,
        check_finite: bool = True,
    ) -> None:
        super().__init__()
        self.projection: nn.Module
        if channels is not None:
            check_int(channels, "channels", minimum=1)
        if projection_dim is None:
            self.projection = nn.Identity()
        else:
            if channels is None:
                raise ValueError("`channels` is required when `projection_dim` is set")
            check_int(projection_dim, "projection_dim", minimum=1)
            self.projection = nn.Conv3d(channels, projection_dim, kernel_size=1, bias=False)
        self.channels = channels
        self.detach_saliency = bool(detach_saliency)
        self.check_finite = bool(check_finite)

    def forward(self, features: Tensor, *, saliency: Tensor | None = None) -> MotionDecomposition:
        """Decompose a feature map.

        Args:
            features: Backbone feature map. Shape: ``(B, C, T, H, W)`` with ``T >= 2`` (and
                ``C == channels`` when given).
            saliency: Pool with this salient map instead of the one measured from
                ``features`` (e.g. another clip's, to pool a still clip's features where
                that clip's actor moves); returned as ``saliency``, while ``step_maps``
                stay those of ``features``. Values in [0, 1]. Shape: ``(B, 1, H, W)``,
                ``H`` and ``W`` those of ``features``.

        Returns:
            A :class:`MotionDecomposition`.

        Example:
            >>> import torch
            >>> from bgdebias import MotionAwareDecomposition
            >>> still = torch.ones(1, 2, 3, 2, 2)  # nothing moves: its own map is empty
            >>> still[:, :, :, 0, 0] = 5.0
            >>> decompose = MotionAwareDecomposition()
            >>> decompose(still).dynamic.tolist()  # nothing to pool
            [[0.0, 0.0]]
            >>> where_another_clip_moves = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]]])
            >>> decompose(still, saliency=where_another_clip_moves).dynamic.tolist()
            [[5.0, 5.0]]
        """
        self._check(features)
        if saliency is not None:
            _check_saliency(saliency, features)
        projected = self._project(features)
        difference = projected[:, :, 1:] - projected[:, :, :-1]
        if difference.dtype not in (torch.float32, torch.float64):
            difference = difference.float()
        squared = difference.pow(2).sum(dim=1)
        # The norm's gradient is undefined at 0; steps without change get an exact 0.
        moving = squared > _NORM_EPS
        step_maps = torch.where(moving, squared.clamp_min(_NORM_EPS).sqrt(), 0.0)
        accumulated = step_maps.sum(dim=1)
        if saliency is None:
            saliency = minmax_normalize_maps(accumulated).unsqueeze(1)
        if self.detach_saliency:
            saliency = saliency.detach()
        mean_over_time = features.mean(dim=2)
        weights = saliency.to(features.dtype)
        return MotionDecomposition(
            dynamic=_weighted_pool(mean_over_time, weights),
            static=_weighted_pool(mean_over_time, 1.0 - weights),
            pooled=mean_over_time.mean(dim=(2, 3)),
            saliency=weights,
            step_maps=step_maps.to(features.dtype),
        )

    def _project(self, features: Tensor) -> Tensor:
        if not isinstance(self.projection, nn.Conv3d):
            return features
        # In the weights' dtype, not autocast's: a bf16 projection would shift the map.
        with torch.autocast(device_type=features.device.type, enabled=False):
            return self.projection(features.to(self.projection.weight.dtype))  # type: ignore[no-any-return]

    def _check(self, features: Tensor) -> None:
        check_tensor(features, "features")
        check_ndim(features, "features", 5, "(B, C, T, H, W)")
        check_floating(features, "features")
        if self.channels is not None:
            check_channels(
                features,
                "features",
                self.channels,
                remedy=f"the module was built with channels={self.channels}",
            )
        if features.shape[2] < 2:
            raise ValueError(
                f"`features` needs T >= 2 frames (dimension 2 of the layout (B, C, T, H, W)) "
                f"to measure motion, got T={features.shape[2]} in shape "
                f"{tuple(features.shape)}; attach MotionAwareDecomposition to an "
                "earlier backbone stage (e.g. r3d_18 'layer3' instead of 'layer4') or feed "
                "more input frames"
            )
        if self.check_finite:
            check_finite(features, "features")

    def extra_repr(self) -> str:
        return f"channels={self.channels}, detach_saliency={self.detach_saliency}"


def _check_saliency(saliency: Tensor, features: Tensor) -> None:
    """``saliency`` must be a floating ``(B, 1, H, W)`` map matching ``features``."""
    check_tensor(saliency, "saliency")
    check_floating(saliency, "saliency")
    batch, _, _, height, width = features.shape
    expected = (batch, 1, height, width)
    if tuple(saliency.shape) != expected:
        raise ValueError(
            f"`saliency` must have shape (B, 1, H, W) = {expected} to match `features` of "
            f"shape {tuple(features.shape)}, got {tuple(saliency.shape)}"
        )


def _weighted_pool(features: Tensor, weights: Tensor) -> Tensor:
    """Weighted spatial mean. Shape: ``(B, C, H, W)`` and ``(B, 1, H, W)`` -> ``(B, C)``."""
    total = weights.sum(dim=(2, 3))
    return (features * weights).sum(dim=(2, 3)) / total.clamp_min(_POOL_EPS)
