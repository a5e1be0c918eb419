"""A video backbone made of named stages, returning a stage's map and the pooled output."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import torch
from torch import Tensor, nn

from bgdebias._validation import check_choice, check_clip, check_int
from bgdebias.models.output import BackboneOutput


class VideoBackbone(nn.Module):
    """A sequence of named stages that exposes one stage's feature map.

    Every stage is a child module under its own name (``stem``, ``layer1``, ...), so the
    ResNet backbones keep torchvision's parameter names. ``forward`` runs all stages and
    returns :class:`BackboneOutput`: the feature map of ``stage`` and the global average (or,
    with ``pool="max"``, the global maximum) of the last stage's map (the representation;
    there is no classifier). Build the library's backbones with
    :func:`~bgdebias.models.video_backbone`; this class also wraps your own stages.

    ``stage=None`` selects the last stage: ``features`` is then the map that ``pooled``
    pools, so no extra activation is kept and ``features`` is always a tensor.

    Args:
        stages: ``(name, module, out_channels)`` for every stage, in order.
        stage: Name of the stage whose feature map ``forward`` returns, or ``None`` for
            the last stage.
        in_channels: Number of input channels the first stage expects.
        name: Name of the architecture, for messages and ``repr``.
        pool: ``"avg"`` (global average, the field's default) or ``"max"`` (global maximum
            over time and space, which keeps a small actor's response from being diluted
            by the background around it).

    Attributes:
        stage_names: The stage names, in order.
        stage: The selected stage (never ``None``).
        stage_channels: ``C_s``, channels of the selected stage's map.
        embed_dim: ``D``, channels of the last stage (the size of ``pooled``).

    Shape:
        clip ``(B, in_channels, T, H, W)`` -> ``features (B, C_s, T_s, H_s, W_s)``,
        ``pooled (B, D)``.

    Example:
        >>> import torch
        >>> from bgdebias.models import VideoBackbone
        >>> stages = [
        ...     ("stem", torch.nn.Conv3d(3, 8, 3, stride=(1, 2, 2), padding=1), 8),
        ...     ("layer1", torch.nn.Conv3d(8, 16, 3, stride=2, padding=1), 16),
        ... ]
        >>> backbone = VideoBackbone(stages, stage="stem", name="tiny")
        >>> clip = torch.rand(2, 3, 4, 16, 16, generator=torch.Generator().manual_seed(0))
        >>> out = backbone(clip)
        >>> out.features.shape, out.pooled.shape
        (torch.Size([2, 8, 4, 8, 8]), torch.Size([2, 16]))
        >>> last = backbone.forward_stages(clip)["layer1"]  # pooled: mean of the last stage
        >>> bool(torch.allclose(out.pooled, last.mean(dim=(2, 3, 4))))
        True
    """

    def __init__(
        self,
        stages: Sequence[tuple[str, nn.Module, int]],
        *,
        stage: str | None = "layer3",
        in_channels: int = 3,
        name: str = "custom",
        pool: Literal["avg", "max"] = "avg",
    ) -> None:
        super().__init__()
        check_choice(pool, "pool", ("avg", "max"))
        self.pool: Literal["avg", "max"] = pool
        if len(stages) == 0:
            raise ValueError("`stages` must hold at least one (name, module, channels) stage")
        names = [stage_name for stage_name, _, _ in stages]
        if len(set(names)) != len(names):
            raise ValueError(f"`stages` must have distinct names, got {names}")
        self.name = name
        self.in_channels = check_int(in_channels, "in_channels", minimum=1)
        self.stage_names: tuple[str, ...] = tuple(names)
        self._channels: dict[str, int] = {}
        for stage_name, module, channels in stages:
            self.add_module(stage_name, module)
            self._channels[stage_name] = check_int(
                channels, f"channels of {stage_name!r}", minimum=1
            )
        if stage is None:
            stage = names[-1]
        self.stage: str = check_stage(stage, self.stage_names, name)
        self.stage_channels: int = self._channels[self.stage]
        self.embed_dim: int = self._channels[names[-1]]

    def channels(self, stage: str) -> int:
        """Number of channels ``C_s`` of ``stage``'s feature map."""
        return self._channels[check_stage(stage, self.stage_names, self.name)]

    def forward(self, clip: Tensor) -> BackboneOutput:
        """Encode a batch of clips.

        Args:
            clip: Float clips (normalised as the backbone expects).
                Shape: ``(B, in_channels, T, H, W)``.

        Returns:
            The selected stage's map, ``(B, C_s, T_s, H_s, W_s)``, and the pooled
            representation, ``(B, D)``.
        """
        self._check_input(clip)
        x = features = clip
        for stage_name in self.stage_names:
            x = self.get_submodule(stage_name)(x)
            if stage_name == self.stage:
                features = x
        pooled = x.amax(dim=(2, 3, 4)) if self.pool == "max" else x.mean(dim=(2, 3, 4))
        return BackboneOutput(features=features, pooled=pooled)

    def forward_stages(self, clip: Tensor) -> dict[str, Tensor]:
        """Feature maps of every stage (keeps all of them: more memory than ``forward``).

        Shape:
            clip ``(B, in_channels, T, H, W)`` -> ``{stage name: (B, C_s, T_s, H_s, W_s)}``.
        """
        self._check_input(clip)
        maps: dict[str, Tensor] = {}
        x = clip
        for stage_name in self.stage_names:
            x = self.get_submodule(stage_name)(x)
            maps[stage_name] = x
        return maps

    def extra_repr(self) -> str:
        return (
            f"name={self.name!r}, stage={self.stage!r}, embed_dim={self.embed_dim}, "
            f"pool={self.pool!r}"
        )

    def _check_input(self, clip: Tensor) -> None:
        check_clip(clip, "clip")
        if clip.shape[1] != self.in_channels:
            raise ValueError(
                f"`clip` must have {self.in_channels} channels (dimension C of (B, C, T, H, W)) "
                f"for backbone {self.name!r}, got C={clip.shape[1]} in shape {tuple(clip.shape)}"
            )
        weight = next(self.parameters(), None)
        if (
            weight is not None
            and clip.dtype != weight.dtype
            and not _autocast_enabled(clip.device.type)
        ):
            raise TypeError(
                f"`clip` has dtype {clip.dtype} but backbone {self.name!r} has {weight.dtype} "
                f"parameters; convert with `clip.to({weight.dtype})`, cast the backbone, or run "
                "under torch.autocast"
            )


def check_stage(stage: Any, allowed: Sequence[str], backbone: str) -> str:
    """Check that ``stage`` names one of ``allowed`` stages of ``backbone`` and return it."""
    if not isinstance(stage, str) or stage not in allowed:
        choices = ", ".join(repr(name) for name in allowed)
        raise ValueError(
            f"`stage` must be one of {choices} for backbone {backbone!r} (or None for the last "
            f"stage); got {stage!r}"
        )
    return stage


def _autocast_enabled(device_type: str) -> bool:
    """Whether autocast is on for ``device_type`` (assumed on where torch cannot tell)."""
    try:
        return torch.is_autocast_enabled(device_type)
    except TypeError:  # torch < 2.4 takes no device argument
        return True
