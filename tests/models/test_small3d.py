from __future__ import annotations

import math
import re

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from bgdebias.models import Small3DCNN, VideoBackbone, video_backbone


def _halve(size: int) -> int:
    """Output size of a kernel-3, padding-1, stride-2 convolution."""
    return (size - 1) // 2 + 1


def test_reachable_through_video_backbone_with_documented_layout() -> None:
    backbone = video_backbone("small3d")
    assert isinstance(backbone, Small3DCNN)
    assert isinstance(backbone, VideoBackbone)
    convs = [m for m in backbone.modules() if isinstance(m, nn.Conv3d)]
    assert [c.out_channels for c in convs] == [32, 64, 128, 256]
    assert [c.stride for c in convs] == [(1, 2, 2), (2, 2, 2), (1, 2, 2), (2, 2, 2)]
    assert all(c.kernel_size == (3, 3, 3) for c in convs)
    assert sum(p.numel() for p in backbone.parameters()) == 1_164_768


def test_init_is_deterministic_under_manual_seed_and_generator() -> None:
    torch.manual_seed(0)
    first = Small3DCNN().state_dict()
    torch.manual_seed(0)
    second = Small3DCNN().state_dict()
    torch.manual_seed(1)
    third = Small3DCNN().state_dict()
    assert all(torch.equal(first[k], second[k]) for k in first)
    assert not torch.equal(first["layer1.0.weight"], third["layer1.0.weight"])
    from_generator = [
        Small3DCNN(generator=torch.Generator().manual_seed(5)).state_dict() for _ in range(2)
    ]
    assert all(torch.equal(from_generator[0][k], from_generator[1][k]) for k in first)


def test_init_is_he_fan_out_with_identity_batch_norm() -> None:
    backbone = Small3DCNN(generator=torch.Generator().manual_seed(0))
    conv = backbone.get_submodule("layer4.0")
    assert isinstance(conv, nn.Conv3d)
    expected_std = math.sqrt(2.0 / (256 * 27))
    assert conv.weight.std().item() == pytest.approx(expected_std, rel=0.02)
    norm = backbone.get_submodule("layer4.1")
    assert isinstance(norm, nn.BatchNorm3d)
    assert torch.equal(norm.weight, torch.ones(256))
    assert torch.equal(norm.bias, torch.zeros(256))


@settings(max_examples=8, deadline=None)
@given(
    frames=st.integers(1, 9),
    height=st.integers(1, 20),
    width=st.integers(1, 20),
    stage=st.sampled_from(["layer1", "layer2", "layer3", "layer4"]),
)
def test_stage_shapes_follow_the_strides(frames: int, height: int, width: int, stage: str) -> None:
    backbone = Small3DCNN(stage=stage, base_width=2).eval()
    index = int(stage[-1])
    t, h, w = frames, height, width
    for layer in range(1, index + 1):
        t = _halve(t) if layer in (2, 4) else t
        h, w = _halve(h), _halve(w)
    with torch.no_grad():
        out = backbone(torch.randn(1, 3, frames, height, width))
    assert out.features.shape == (1, 2 * 2 ** (index - 1), t, h, w)
    assert out.pooled.shape == (1, 16)


def test_eight_frames_keep_two_time_steps_at_every_stage() -> None:
    backbone = Small3DCNN(base_width=2).eval()
    with torch.no_grad():
        maps = backbone.forward_stages(torch.randn(1, 3, 8, 16, 16))
    assert [m.shape[2] for m in maps.values()] == [8, 4, 4, 2]


def test_a_few_adam_steps_fit_a_motion_direction() -> None:
    """Learnability: tell a bar moving right from one moving left (a linear head on top)."""
    torch.manual_seed(0)
    clips = torch.zeros(8, 3, 8, 16, 16)
    labels = torch.arange(8) % 2
    for i in range(8):
        for t in range(8):
            column = 2 + t if labels[i] == 1 else 13 - t
            clips[i, :, t, :, column] = 1.0
    backbone = Small3DCNN(base_width=4, stage=None)
    head = nn.Linear(backbone.embed_dim, 2)
    optimizer = torch.optim.Adam([*backbone.parameters(), *head.parameters()], lr=1e-2)
    losses = []
    for _ in range(15):
        loss = nn.functional.cross_entropy(head(backbone(clips).pooled), labels)
        optimizer.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_constructor_errors() -> None:
    with pytest.raises(ValueError, match=re.escape("`base_width` must be an int >= 1, got 0")):
        Small3DCNN(base_width=0)
    with pytest.raises(TypeError, match=re.escape("`in_channels` must be an int, got str")):
        Small3DCNN(in_channels="3")  # type: ignore[arg-type]


def test_other_input_channels() -> None:
    backbone = Small3DCNN(in_channels=1, base_width=2)
    assert backbone(torch.randn(2, 1, 4, 8, 8)).pooled.shape == (2, 16)
