from __future__ import annotations

import re

import pytest
import torch

from bgdebias.blocks import MotionAwareDecomposition
from bgdebias.models import Small3DCNN
from bgdebias.models.temporal_padding import ReplicateTemporalPad, ReplicateTimeConv3d


def _still_clip() -> torch.Tensor:
    frame = torch.rand(2, 3, 1, 32, 32, generator=torch.Generator().manual_seed(0))
    return frame.expand(-1, -1, 8, -1, -1).contiguous()


def test_replicate_pad_repeats_the_border_frames() -> None:
    x = torch.arange(6.0).view(1, 2, 3, 1, 1)
    padded = ReplicateTemporalPad(2)(x)
    assert padded[0, 0].flatten().tolist() == [0.0, 0.0, 0.0, 1.0, 2.0, 2.0, 2.0]
    assert padded[0, 1].flatten().tolist() == [3.0, 3.0, 3.0, 4.0, 5.0, 5.0, 5.0]
    assert torch.equal(ReplicateTemporalPad(0)(x), x)


@pytest.mark.parametrize("stage", ["layer1", "layer2", "layer3", "layer4"])
def test_a_still_clip_gives_features_constant_in_time(stage: str) -> None:
    model = Small3DCNN(stage=stage, base_width=4, generator=torch.Generator().manual_seed(0))
    features = model.eval()(_still_clip()).features
    assert torch.equal(features, features[:, :, :1].expand_as(features))
    saliency = MotionAwareDecomposition()(features).saliency
    assert saliency.abs().max().item() == 0.0


def test_zero_padding_makes_a_still_clip_look_moving() -> None:
    """The reason for the default: zero padding changes the border frames' features."""
    model = Small3DCNN(
        base_width=4, temporal_padding="zeros", generator=torch.Generator().manual_seed(0)
    )
    features = model.eval()(_still_clip()).features
    assert (features[:, :, 1:] - features[:, :, :-1]).abs().max().item() > 1e-3
    assert MotionAwareDecomposition()(features).saliency.max().item() == 1.0


def test_both_paddings_keep_the_stage_shapes_and_parameters() -> None:
    clip = torch.rand(1, 3, 8, 32, 32)
    replicate = Small3DCNN(base_width=4, generator=torch.Generator().manual_seed(0))
    zeros = Small3DCNN(
        base_width=4, temporal_padding="zeros", generator=torch.Generator().manual_seed(0)
    )
    for (name_r, p_r), (name_z, p_z) in zip(
        replicate.state_dict().items(), zeros.state_dict().items(), strict=True
    ):
        assert name_r == name_z
        assert torch.equal(p_r, p_z)
    shapes = [m.shape for m in replicate.forward_stages(clip).values()]
    assert shapes == [m.shape for m in zeros.forward_stages(clip).values()]


def test_temporal_padding_choice_is_checked() -> None:
    with pytest.raises(ValueError, match=re.escape("`temporal_padding` must be one of")):
        Small3DCNN(temporal_padding="reflect")  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["r3d_18", "mc3_18", "r2plus1d_18", "s3d"])
def test_converted_torchvision_backbones_keep_a_still_clip_still(name: str) -> None:
    from bgdebias.models import replicate_temporal_padding, video_backbone

    torch.manual_seed(0)
    backbone = video_backbone(name, stage=None if name == "s3d" else "layer3").eval()
    state = {key: value.clone() for key, value in backbone.state_dict().items()}
    still = torch.rand(1, 3, 1, 32, 32).expand(-1, -1, 16, -1, -1)
    before = backbone(still).features
    change = (before - before[:, :, :1]).abs().max() / before.abs().max()
    assert change.item() > 1e-3  # zero padding: "motion" where nothing moves
    replicate_temporal_padding(backbone)
    after = backbone(still).features
    assert torch.equal(after, after[:, :, :1].expand_as(after))
    assert backbone.state_dict().keys() == state.keys()
    backbone.load_state_dict(state, strict=True)
    # The converted convolution is the old one on a clip padded by hand.
    conv = next(m for m in backbone.modules() if isinstance(m, ReplicateTimeConv3d))
    x = torch.rand(1, conv.in_channels, 5, 12, 12)
    pad = conv.time_pad.size
    reference = torch.nn.functional.conv3d(
        torch.cat([x[:, :, :1]] * pad + [x] + [x[:, :, -1:]] * pad, dim=2),
        conv.weight,
        conv.bias,
        conv.stride,
        (0, *conv.padding[1:]),
    )
    torch.testing.assert_close(conv(x), reference)
