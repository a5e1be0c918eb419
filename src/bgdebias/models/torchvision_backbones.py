"""torchvision's video models (r3d_18, mc3_18, r2plus1d_18, s3d) as staged backbones."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from torch import nn
from torchvision.models import video as tv_video

from bgdebias._validation import check_choice
from bgdebias.models.backbone import VideoBackbone

RESNET_STAGE_CHANNELS = {"stem": 64, "layer1": 64, "layer2": 128, "layer3": 256, "layer4": 512}

# S3D's `features` Sequential split before each of its max-pooling layers; each stage is
# named after the ResNet stage it corresponds to (Inception names in brackets).
S3D_STAGE_SLICES = {
    "stem": (0, 1),  # Conv_1a (7x7x7, stride 2 in time and space)
    "layer1": (1, 4),  # MaxPool_2a, Conv_2b, Conv_2c
    "layer2": (4, 7),  # MaxPool_3a, Mixed_3b, Mixed_3c
    "layer3": (7, 13),  # MaxPool_4a (stride 2 in time), Mixed_4b .. Mixed_4f
    "layer4": (13, 16),  # MaxPool_5a (stride 2 in time), Mixed_5b, Mixed_5c
}
S3D_STAGE_CHANNELS = {"stem": 64, "layer1": 192, "layer2": 480, "layer3": 832, "layer4": 1024}

_RESNET_BUILDERS: dict[str, Callable[..., nn.Module]] = {
    "r3d_18": tv_video.r3d_18,
    "mc3_18": tv_video.mc3_18,
    "r2plus1d_18": tv_video.r2plus1d_18,
}
TORCHVISION_BACKBONES = (*_RESNET_BUILDERS, "s3d")


def torchvision_backbone(
    name: str,
    *,
    stage: str | None = "layer3",
    weights: Any = None,
    pool: Literal["avg", "max"] = "avg",
    **kwargs: Any,
) -> VideoBackbone:
    """Wrap a torchvision video model as a :class:`VideoBackbone` without its classifier.

    The ResNets (``r3d_18``, ``mc3_18``, ``r2plus1d_18``) keep their ``stem`` and
    ``layer1`` .. ``layer4`` (and torchvision's parameter names); ``avgpool`` and ``fc`` are
    dropped. ``s3d``'s ``features`` are split at its pooling layers into the same five
    stage names (see ``S3D_STAGE_SLICES``); its fixed ``AvgPool3d((2, 7, 7))`` and
    classifier are replaced by the global average of :class:`VideoBackbone`, which equals
    the original on 16x224x224 inputs and also works on small clips such as 8x64x64.

    Args:
        name: One of ``TORCHVISION_BACKBONES``.
        stage: Stage returned as ``features``, or ``None`` for the last (``"layer4"``).
        weights: Passed to the torchvision builder (``None``: random init; otherwise
            torchvision resolves and downloads them).
        pool: Global pooling of ``pooled``, ``"avg"`` (as torchvision's models) or ``"max"``.
        **kwargs: Further arguments of the torchvision builder.

    Returns:
        The backbone; ``embed_dim`` is 512 for the ResNets and 1024 for ``s3d``.
    """
    check_choice(name, "name", TORCHVISION_BACKBONES)
    if name == "s3d":
        model = tv_video.s3d(weights=weights, **kwargs)
        stages = [
            (stage_name, model.features[start:stop], S3D_STAGE_CHANNELS[stage_name])
            for stage_name, (start, stop) in S3D_STAGE_SLICES.items()
        ]
    else:
        model = _RESNET_BUILDERS[name](weights=weights, **kwargs)
        stages = [
            (stage_name, model.get_submodule(stage_name), channels)
            for stage_name, channels in RESNET_STAGE_CHANNELS.items()
        ]
    return VideoBackbone(stages, stage=stage, name=name, pool=pool)
