"""build_backbone: the backbone of a configuration, as pretraining and the references use it."""

from __future__ import annotations

import pytest
import torch

from bgdebias.data.synthetic import MovingSpriteDataset
from bgdebias.models import FrameDifferences
from bgdebias.models.temporal_padding import ReplicateTimeConv3d
from bgdebias.training import PretrainConfig, build_backbone, build_recipe, train_supervised


def _has(module: torch.nn.Module, kind: type) -> bool:
    return any(isinstance(m, kind) for m in module.modules())


def test_frame_differences_resolve_on_for_small3d_only() -> None:
    assert PretrainConfig().resolved().frame_differences is True
    assert PretrainConfig(backbone="r3d_18").resolved().frame_differences is False
    video = PretrainConfig(dataset="ucf101", root="videos").resolved()
    assert (video.backbone, video.frame_differences) == ("r3d_18", False)
    assert PretrainConfig(frame_differences=False).resolved().frame_differences is False


@pytest.mark.parametrize("differences", [True, False])
def test_small3d_follows_the_configuration(differences: bool) -> None:
    config = PretrainConfig(frame_differences=differences).resolved()
    assert _has(build_backbone(config), FrameDifferences) is differences
    recipe = build_recipe(config)
    for encoder in (recipe.query_encoder, recipe.key_encoder):
        assert _has(encoder, FrameDifferences) is differences


@pytest.mark.parametrize("padding", ["zeros", "replicate"])
def test_torchvision_backbones_get_the_temporal_padding(padding: str) -> None:
    config = PretrainConfig(backbone="r3d_18", temporal_padding=padding).resolved()  # type: ignore[arg-type]
    backbone = build_backbone(config)
    assert _has(backbone, ReplicateTimeConv3d) is (padding == "replicate")
    assert backbone.stage == config.stage


def test_the_supervised_reference_trains_the_pretraining_backbone() -> None:
    data = MovingSpriteDataset(split="independent", length=8, num_frames=12, size=32)
    config = PretrainConfig(steps=1, size=32, batch_size=4, device="cpu")
    assert _has(train_supervised(data, config, num_classes=8), FrameDifferences)
    plain = PretrainConfig(steps=1, size=32, batch_size=4, device="cpu", frame_differences=False)
    assert not _has(train_supervised(data, plain, num_classes=8), FrameDifferences)
