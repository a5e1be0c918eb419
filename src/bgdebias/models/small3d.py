"""A small 3D CNN that pretrains in minutes on a CPU (synthetic data, smoke tests)."""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import nn

from bgdebias._validation import check_bool, check_choice, check_int
from bgdebias.models.backbone import VideoBackbone
from bgdebias.models.frame_differences import FrameDifferences
from bgdebias.models.temporal_padding import ReplicateTimeConv3d, TemporalPadding

# Temporal stride of layer1..layer4: 8 input frames give T_s = 8, 4, 4, 2, so every
# stage keeps T_s >= 2 (MotionAwareDecomposition needs two steps).
TEMPORAL_STRIDES = (1, 2, 1, 2)


class Small3DCNN(VideoBackbone):
    """Four ``Conv3d(3x3x3)-BatchNorm3d-ReLU`` stages of 32, 64, 128 and 256 channels.

    Each stage halves height and width; time is halved only in ``layer2`` and ``layer4``,
    so 8 input frames keep ``T_s >= 2`` at every stage (the shapes of every stage are in
    :ref:`backbone-stage-shapes`). About 1.2 M parameters; its training-step time is
    measured in :ref:`small3d-speed`.

    The representation ``pooled`` is the global maximum of ``layer4`` by default, not the
    average: on the synthetic moving-sprite videos the actor covers a few percent of the
    frame, and an average dilutes it (measured in the learnability benchmark,
    :doc:`/benchmarks/learnability`).

    Convolutions are initialised with He (fan-out) normal weights drawn from ``generator``
    (or the global generator, so ``torch.manual_seed`` makes the init reproducible).

    Args:
        stage: Stage returned as ``features`` (``"layer1"`` .. ``"layer4"``), or ``None``
            for the last.
        base_width: Channels of ``layer1``; the stages have 1, 2, 4 and 8 times as many.
        in_channels: Input channels.
        generator: Random source of the initial weights.
        pool: Global pooling of ``pooled``: ``"max"`` (default) or ``"avg"``.
        temporal_padding: How each convolution pads the time axis: ``"replicate"``
            (default: repeat the first and last frames, so a clip in which nothing moves
            gives features that are exactly constant in time, and
            :class:`~bgdebias.blocks.MotionAwareDecomposition` finds no motion in it) or
            ``"zeros"`` (the usual zero padding, whose borders differ from the inside
            even for a static scene).
        frame_differences: Give ``layer1`` each frame's difference from the previous one
            as extra input channels (:class:`~bgdebias.models.FrameDifferences`; its
            convolution then has ``2 * in_channels`` inputs and sits at ``layer1.1``):
            patterned actors become learnable, not only uniform ones.

    Shape:
        clip ``(B, in_channels, T, H, W)`` -> ``features (B, C_s, T_s, H_s, W_s)``,
        ``pooled (B, 8 * base_width)``.

    Example:
        >>> import torch
        >>> from bgdebias.models import Small3DCNN
        >>> model = Small3DCNN(base_width=4, generator=torch.Generator().manual_seed(0))
        >>> maps = model.forward_stages(torch.zeros(1, 3, 8, 16, 16))
        >>> [tuple(m.shape[1:3]) for m in maps.values()]  # (C_s, T_s): T_s >= 2 at every stage
        [(4, 8), (8, 4), (16, 4), (32, 2)]
        >>> model.embed_dim  # size of pooled: 8 * base_width
        32
    """

    def __init__(
        self,
        *,
        stage: str | None = "layer3",
        base_width: int = 32,
        in_channels: int = 3,
        generator: torch.Generator | None = None,
        pool: Literal["avg", "max"] = "max",
        temporal_padding: TemporalPadding = "replicate",
        frame_differences: bool = False,
    ) -> None:
        check_int(base_width, "base_width", minimum=1)
        check_int(in_channels, "in_channels", minimum=1)
        check_choice(temporal_padding, "temporal_padding", ("zeros", "replicate"))
        self.temporal_padding: TemporalPadding = temporal_padding
        self.frame_differences = check_bool(frame_differences, "frame_differences")
        stages: list[tuple[str, nn.Module, int]] = []
        width_in = in_channels
        for index, temporal_stride in enumerate(TEMPORAL_STRIDES):
            width = base_width * 2**index
            if index == 0 and self.frame_differences:
                block = _block(2 * width_in, width, temporal_stride, temporal_padding)
                block.insert(0, FrameDifferences())
            else:
                block = _block(width_in, width, temporal_stride, temporal_padding)
            stages.append((f"layer{index + 1}", block, width))
            width_in = width
        super().__init__(stages, stage=stage, in_channels=in_channels, name="small3d", pool=pool)
        self._init_weights(generator)

    @torch.no_grad()
    def _init_weights(self, generator: torch.Generator | None) -> None:
        for module in self.modules():
            if isinstance(module, nn.Conv3d):
                fan_out = module.out_channels * math.prod(module.kernel_size)
                module.weight.normal_(0.0, math.sqrt(2.0 / fan_out), generator=generator)
            elif isinstance(module, nn.BatchNorm3d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)


def _block(
    in_channels: int, out_channels: int, temporal_stride: int, temporal_padding: TemporalPadding
) -> nn.Sequential:
    conv_class = ReplicateTimeConv3d if temporal_padding == "replicate" else nn.Conv3d
    return nn.Sequential(
        conv_class(
            in_channels,
            out_channels,
            kernel_size=3,
            stride=(temporal_stride, 2, 2),
            padding=1,
            bias=False,
        ),
        nn.BatchNorm3d(out_channels),
        nn.ReLU(inplace=True),
    )
