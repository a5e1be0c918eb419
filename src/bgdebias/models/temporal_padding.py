"""Temporal padding that keeps a still clip still: replicate the border frames.

A 3D convolution with zero padding in time sees black frames before the first and after
the last frame, so even a clip in which nothing moves gets features that change over time
at its borders, and :class:`~bgdebias.blocks.MotionAwareDecomposition` reads that as
motion. Replicating the border frames instead maps a still clip to features that are
exactly constant in time.
"""

from __future__ import annotations

from typing import Any, Literal, cast

import torch
from torch import Tensor, nn

from bgdebias._validation import check_int

TemporalPadding = Literal["zeros", "replicate"]


class ReplicateTemporalPad(nn.Module):
    """Pad the time axis of ``(B, C, T, H, W)`` by repeating the first and last frames.

    Args:
        size: Frames added on each side.

    Shape:
        ``(B, C, T, H, W)`` -> ``(B, C, T + 2 * size, H, W)``.

    Example:
        >>> import torch
        >>> x = torch.arange(3.0).view(1, 1, 3, 1, 1)
        >>> ReplicateTemporalPad(1)(x).flatten().tolist()
        [0.0, 0.0, 1.0, 2.0, 2.0]
    """

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = check_int(size, "size", minimum=0)

    def forward(self, x: Tensor) -> Tensor:
        if self.size == 0:
            return x
        first = x[:, :, :1].expand(-1, -1, self.size, -1, -1)
        last = x[:, :, -1:].expand(-1, -1, self.size, -1, -1)
        return torch.cat([first, x, last], dim=2)

    def extra_repr(self) -> str:
        return f"size={self.size}"


class ReplicateTimeConv3d(nn.Conv3d):
    """A ``Conv3d`` that pads time by repeating the border frames (space as configured).

    Holds the same parameters, under the same names, as the ``nn.Conv3d`` it replaces, so
    state dicts are interchangeable; only the temporal padding differs.

    Shape:
        Like ``nn.Conv3d`` (its ``padding`` in time is applied by replicating frames).

    Example:
        >>> import torch
        >>> conv = ReplicateTimeConv3d(1, 1, kernel_size=3, padding=1, bias=False)
        >>> still = torch.rand(1, 1, 1, 5, 5).expand(-1, -1, 4, -1, -1)
        >>> out = conv(still)
        >>> out.shape, bool((out == out[:, :, :1]).all())  # constant in time, like the input
        (torch.Size([1, 1, 4, 5, 5]), True)
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if isinstance(self.padding, str):
            raise ValueError(
                f"ReplicateTimeConv3d needs numeric padding, got padding={self.padding!r}"
            )
        frames, height, width = cast(tuple[int, int, int], self.padding)
        self.time_pad = ReplicateTemporalPad(frames)
        self.padding = (0, height, width)

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(self.time_pad(x))


def replicate_temporal_padding(model: nn.Module) -> nn.Module:
    """Make every ``nn.Conv3d`` of ``model`` pad time by replicating frames, in place.

    Convolutions whose temporal padding is zero (e.g. the spatial ``(1, 3, 3)`` halves of
    R(2+1)D) are left alone; parameters, their names and spatial padding are kept, so a
    state dict loads into the model before or after the conversion.

    Args:
        model: Any module (e.g. a torchvision video ResNet or a
            :class:`~bgdebias.models.VideoBackbone`).

    Returns:
        ``model``, converted.

    Example:
        >>> import torch
        >>> from bgdebias.models import video_backbone
        >>> backbone = replicate_temporal_padding(video_backbone("r3d_18")).eval()
        >>> still = torch.rand(1, 3, 1, 32, 32).expand(-1, -1, 8, -1, -1)
        >>> features = backbone(still).features
        >>> bool((features == features[:, :, :1]).all())  # no motion where nothing moves
        True
    """
    for name, child in list(model.named_children()):
        if (
            isinstance(child, nn.Conv3d)
            and not isinstance(child, ReplicateTimeConv3d)
            and cast(tuple[int, int, int], child.padding)[0] > 0
            and child.padding_mode == "zeros"
        ):
            replacement = ReplicateTimeConv3d(
                child.in_channels,
                child.out_channels,
                kernel_size=cast(tuple[int, int, int], child.kernel_size),
                stride=cast(tuple[int, int, int], child.stride),
                padding=cast(tuple[int, int, int], child.padding),
                dilation=cast(tuple[int, int, int], child.dilation),
                groups=child.groups,
                bias=child.bias is not None,
                device=child.weight.device,
                dtype=child.weight.dtype,
            )
            replacement.load_state_dict(child.state_dict())
            setattr(model, name, replacement)
        else:
            replicate_temporal_padding(child)
    return model


def one_frame_unsafe_layers(model: nn.Module) -> list[str]:
    """Layers through which one frame does not give the features of its still clip.

    With replicate temporal padding, a clip whose frames are all equal gives features that
    are constant in time, equal to those of any one of its frames encoded alone. That holds
    through every layer that either reads one frame at a time (temporal kernel 1) or pads
    time by replicating frames (``ReplicateTimeConv3d`` with enough padding); a 3D
    convolution with a wider kernel and zero (or no) temporal padding, or a pooling over
    several frames, breaks it.

    Args:
        model: Any module, e.g. a backbone.

    Returns:
        Qualified names of the offending layers (empty when one frame stands for the clip).

    Example:
        >>> from bgdebias.models import Small3DCNN, one_frame_unsafe_layers
        >>> one_frame_unsafe_layers(Small3DCNN(base_width=2))
        []
        >>> one_frame_unsafe_layers(Small3DCNN(base_width=2, temporal_padding="zeros"))[:2]
        ['layer1.0', 'layer2.0']
    """
    unsafe = []
    for name, layer in model.named_modules():
        if isinstance(layer, nn.Conv3d):
            reach = layer.dilation[0] * (layer.kernel_size[0] - 1)
            pad = layer.time_pad.size if isinstance(layer, ReplicateTimeConv3d) else 0
            if reach > 2 * pad:
                unsafe.append(name)
        elif isinstance(layer, (nn.MaxPool3d, nn.AvgPool3d)):
            kernel = layer.kernel_size
            if (kernel if isinstance(kernel, int) else kernel[0]) > 1:
                unsafe.append(name)
    return unsafe
