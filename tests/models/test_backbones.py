from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest
import torch
from torch import nn
from torchvision.models import video as tv_video

from bgdebias.models import BACKBONE_STAGES, BackboneOutput, VideoBackbone, video_backbone
from bgdebias.models import torchvision_backbones as tvb

# Documented shapes at stage "layer3" for a (2, 3, 8, 64, 64) batch: (C_s, T_s, H_s, W_s), D.
LAYER3_AT_8x64 = {
    "r3d_18": ((256, 2, 8, 8), 512),
    "mc3_18": ((256, 8, 8, 8), 512),
    "r2plus1d_18": ((256, 2, 8, 8), 512),
    "s3d": ((832, 2, 4, 4), 1024),
    "small3d": ((128, 4, 8, 8), 256),
}


def _first_conv(backbone: VideoBackbone) -> nn.Conv3d:
    return next(m for m in backbone.modules() if isinstance(m, nn.Conv3d))


@pytest.mark.parametrize("name", list(LAYER3_AT_8x64))
def test_documented_shapes_and_gradients_reach_the_first_conv(name: str) -> None:
    torch.manual_seed(0)
    backbone = video_backbone(name, stage="layer3")
    stage_shape, embed_dim = LAYER3_AT_8x64[name]
    assert (backbone.stage, backbone.stage_channels, backbone.embed_dim) == (
        "layer3",
        stage_shape[0],
        embed_dim,
    )
    assert backbone.stage_names == BACKBONE_STAGES[name]
    out = backbone(torch.randn(2, 3, 8, 64, 64))
    assert isinstance(out, BackboneOutput)
    assert out.features.shape == (2, *stage_shape)
    assert out.pooled.shape == (2, embed_dim)
    (out.features.square().mean() + out.pooled.square().mean()).backward()  # type: ignore[no-untyped-call]
    grad = _first_conv(backbone).weight.grad
    assert grad is not None
    assert grad.abs().sum() > 0


def test_stage_none_returns_the_map_that_pooled_pools() -> None:
    backbone = video_backbone("small3d", stage=None, base_width=4).eval()
    assert backbone.stage == "layer4"
    assert backbone.stage_channels == backbone.embed_dim == 32
    assert backbone.pool == "max"
    out = backbone(torch.randn(2, 3, 8, 32, 32))
    torch.testing.assert_close(out.pooled, out.features.amax(dim=(2, 3, 4)))
    averaging = video_backbone("small3d", stage=None, base_width=4, pool="avg").eval()
    out = averaging(torch.randn(2, 3, 8, 32, 32))
    torch.testing.assert_close(out.pooled, out.features.mean(dim=(2, 3, 4)))


def test_max_pool_keeps_a_small_response_that_averaging_dilutes() -> None:
    stages = [("layer1", nn.Identity(), 1)]
    feature_map = torch.zeros(1, 1, 4, 16, 16)
    feature_map[0, 0, 2, 5, 7] = 8.0
    avg = VideoBackbone(stages, stage=None, in_channels=1, pool="avg")(feature_map).pooled
    peak = VideoBackbone(stages, stage=None, in_channels=1, pool="max")(feature_map).pooled
    assert float(avg) == pytest.approx(8.0 / 1024)
    assert float(peak) == 8.0


def test_torchvision_backbones_average_by_default_and_can_max_pool() -> None:
    clip = torch.randn(1, 3, 8, 32, 32)
    for pool in ("avg", "max"):
        backbone = video_backbone("r3d_18", stage=None, pool=pool).eval()
        with torch.no_grad():
            out = backbone(clip)
        reduce = torch.amax if pool == "max" else torch.mean
        torch.testing.assert_close(out.pooled, reduce(out.features, dim=(2, 3, 4)))
    assert video_backbone("r3d_18").pool == "avg"


def test_forward_stages_matches_forward_and_channels() -> None:
    backbone = video_backbone("s3d", stage="layer2").eval()
    clip = torch.randn(1, 3, 8, 64, 64)
    with torch.no_grad():
        maps = backbone.forward_stages(clip)
        out = backbone(clip)
    assert tuple(maps) == BACKBONE_STAGES["s3d"]
    for stage, feature_map in maps.items():
        assert feature_map.shape[1] == backbone.channels(stage) == tvb.S3D_STAGE_CHANNELS[stage]
    assert torch.equal(out.features, maps["layer2"])
    torch.testing.assert_close(out.pooled, maps["layer4"].mean(dim=(2, 3, 4)))


@torch.no_grad()
def test_s3d_adaptive_pooling_handles_112_and_matches_the_original_on_its_own_input() -> None:
    torch.manual_seed(0)
    backbone = video_backbone("s3d").eval()
    assert backbone(torch.randn(1, 3, 8, 112, 112)).pooled.shape == (1, 1024)
    # On the input size the fixed AvgPool3d((2, 7, 7)) was made for (a 2x7x7 last map),
    # the global average equals torchvision's pooling.
    last = torch.randn(1, 1024, 2, 7, 7)
    original = nn.AvgPool3d((2, 7, 7), stride=1)(last).flatten(1)
    torch.testing.assert_close(original, last.mean(dim=(2, 3, 4)))


def test_resnet_backbones_keep_torchvision_parameter_names() -> None:
    ours = set(video_backbone("r3d_18").state_dict())
    theirs = {k for k in tv_video.r3d_18().state_dict() if not k.startswith("fc.")}
    assert ours == theirs


def test_weights_are_passed_to_torchvision(monkeypatch: pytest.MonkeyPatch) -> None:
    received: dict[str, Any] = {}

    def fake_builder(*, weights: Any = None, **kwargs: Any) -> nn.Module:
        received.update(weights=weights, **kwargs)
        model: nn.Module = tv_video.r3d_18(weights=None)
        return model

    monkeypatch.setitem(tvb._RESNET_BUILDERS, "r3d_18", fake_builder)
    video_backbone("r3d_18", weights="SENTINEL", progress=False)
    assert received == {"weights": "SENTINEL", "progress": False}


def test_backbone_output_is_frozen() -> None:
    out = BackboneOutput(features=torch.zeros(1), pooled=torch.zeros(1))
    with pytest.raises(dataclasses.FrozenInstanceError):
        out.pooled = torch.ones(1)  # type: ignore[misc]


def test_autocast_accepts_lower_precision_clips() -> None:
    backbone = video_backbone("small3d", base_width=4)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = backbone(torch.randn(2, 3, 4, 16, 16, dtype=torch.bfloat16))
    assert out.pooled.dtype == torch.bfloat16


def test_name_and_stage_errors_list_the_allowed_names() -> None:
    with pytest.raises(
        ValueError,
        match=re.escape(
            "`name` must be one of 'r3d_18', 'mc3_18', 'r2plus1d_18', 's3d', 'small3d'; "
            "got 'resnet50'"
        ),
    ):
        video_backbone("resnet50")
    with pytest.raises(
        ValueError,
        match=re.escape(
            "`stage` must be one of 'stem', 'layer1', 'layer2', 'layer3', 'layer4' for "
            "backbone 'r3d_18' (or None for the last stage); got 'layer5'"
        ),
    ):
        video_backbone("r3d_18", stage="layer5")
    with pytest.raises(
        ValueError,
        match=re.escape(
            "`stage` must be one of 'layer1', 'layer2', 'layer3', 'layer4' for backbone "
            "'small3d' (or None for the last stage); got 'stem'"
        ),
    ):
        video_backbone("small3d", stage="stem")
    with pytest.raises(
        ValueError, match=re.escape("`weights` must be None for 'small3d' (no pretrained weights)")
    ):
        video_backbone("small3d", weights="DEFAULT")
    backbone = video_backbone("small3d", base_width=4)
    with pytest.raises(ValueError, match=re.escape("got 'layer9'")):
        backbone.channels("layer9")


def test_input_errors() -> None:
    backbone = video_backbone("small3d", base_width=4)
    with pytest.raises(TypeError, match=re.escape("`clip` must be a torch.Tensor, got ndarray")):
        backbone(torch.zeros(1, 3, 4, 16, 16).numpy())
    with pytest.raises(
        ValueError, match=re.escape("`clip` must be a 5D tensor of shape (B, C, T, H, W), got 4D")
    ):
        backbone(torch.zeros(3, 4, 16, 16))
    with pytest.raises(TypeError, match=re.escape("`clip` must have a floating-point dtype")):
        backbone(torch.zeros(1, 3, 4, 16, 16, dtype=torch.uint8))
    with pytest.raises(
        ValueError,
        match=re.escape(
            "`clip` must have 3 channels (dimension C of (B, C, T, H, W)) for backbone "
            "'small3d', got C=1 in shape (1, 1, 4, 16, 16)"
        ),
    ):
        backbone(torch.zeros(1, 1, 4, 16, 16))
    with pytest.raises(
        TypeError,
        match=re.escape(
            "`clip` has dtype torch.float64 but backbone 'small3d' has torch.float32 parameters"
        ),
    ):
        backbone(torch.zeros(1, 3, 4, 16, 16, dtype=torch.float64))


def test_custom_stages_and_constructor_errors() -> None:
    stages = [("a", nn.Conv3d(3, 4, 1), 4), ("b", nn.Conv3d(4, 6, 1), 6)]
    backbone = VideoBackbone(stages, stage="a", name="tiny")
    out = backbone(torch.randn(2, 3, 2, 5, 5))
    assert out.features.shape == (2, 4, 2, 5, 5)
    assert out.pooled.shape == (2, 6)
    assert "name='tiny', stage='a', embed_dim=6, pool='avg'" in repr(backbone)
    with pytest.raises(ValueError, match=re.escape("`stages` must hold at least one")):
        VideoBackbone([])
    with pytest.raises(
        ValueError, match=re.escape("`stages` must have distinct names, got ['a', 'a']")
    ):
        VideoBackbone([stages[0], stages[0]], stage="a")
    with pytest.raises(ValueError, match=re.escape("`channels of 'a'` must be an int >= 1, got 0")):
        VideoBackbone([("a", nn.Identity(), 0)], stage=None)
    with pytest.raises(
        ValueError, match=re.escape("`pool` must be one of 'avg', 'max'; got 'mean'")
    ):
        VideoBackbone(stages, stage="a", pool="mean")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=re.escape("for backbone 'custom'")):
        VideoBackbone(stages)  # default stage "layer3" is not one of ("a", "b")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name", ["small3d", "r3d_18"])
def test_backbones_run_on_cuda(name: str) -> None:
    backbone = video_backbone(name).cuda()
    out = backbone(torch.randn(2, 3, 8, 64, 64, device="cuda"))
    assert out.features.is_cuda
    assert out.pooled.is_cuda
    out.pooled.sum().backward()
    grad = _first_conv(backbone).weight.grad
    assert grad is not None
    assert grad.is_cuda
    assert grad.abs().sum() > 0
