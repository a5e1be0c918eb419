"""FrameDifferences and Small3DCNN(frame_differences=True)."""

from __future__ import annotations

import re

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from bgdebias.blocks import MotionAwareDecomposition
from bgdebias.models import FrameDifferences, Small3DCNN


def test_differences_by_hand() -> None:
    clip = torch.tensor([[1.0, 4.0, 2.0, 2.0], [0.0, 0.0, 5.0, 6.0]]).view(1, 2, 4, 1, 1)
    out = FrameDifferences()(clip).flatten(2)
    assert out.shape == (1, 4, 4)
    assert out[0, :2].tolist() == clip.flatten(2)[0].tolist()  # the frames, unchanged
    assert out[0, 2].tolist() == [0.0, 3.0, -2.0, 0.0]
    assert out[0, 3].tolist() == [0.0, 0.0, 5.0, 1.0]


@settings(max_examples=25, deadline=None)
@given(
    frames=st.integers(1, 6),
    channels=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_cumulative_differences_give_the_frames_back(frames: int, channels: int, seed: int) -> None:
    clip = torch.rand(2, channels, frames, 3, 5, generator=torch.Generator().manual_seed(seed))
    out = FrameDifferences()(clip)
    differences = out[:, channels:]
    rebuilt = clip[:, :, :1] + differences.cumsum(dim=2)
    torch.testing.assert_close(rebuilt, clip)


def test_a_still_clip_has_zero_differences_and_constant_features() -> None:
    frame = torch.rand(2, 3, 1, 32, 32, generator=torch.Generator().manual_seed(0))
    still = frame.expand(-1, -1, 8, -1, -1).contiguous()
    assert FrameDifferences()(still)[:, 3:].abs().max().item() == 0.0
    model = Small3DCNN(
        base_width=4, frame_differences=True, generator=torch.Generator().manual_seed(0)
    ).eval()
    features = model(still).features
    assert torch.equal(features, features[:, :, :1].expand_as(features))
    assert MotionAwareDecomposition()(features).saliency.abs().max().item() == 0.0


def test_small3d_reads_frames_and_differences_in_its_first_convolution() -> None:
    model = Small3DCNN(base_width=4, frame_differences=True)
    assert isinstance(model.get_submodule("layer1.0"), FrameDifferences)
    assert model.state_dict()["layer1.1.weight"].shape == (4, 6, 3, 3, 3)
    plain = Small3DCNN(base_width=4)
    assert plain.state_dict()["layer1.0.weight"].shape == (4, 3, 3, 3, 3)
    clip = torch.rand(2, 3, 8, 32, 32)
    stages = [m.shape for m in model.forward_stages(clip).values()]
    assert stages == [m.shape for m in plain.forward_stages(clip).values()]


def test_the_differences_change_the_output_only_where_something_moves() -> None:
    """Zeroing the difference half of the first kernel gives back the plain network."""
    model = Small3DCNN(
        base_width=4, frame_differences=True, generator=torch.Generator().manual_seed(0)
    ).eval()
    plain = Small3DCNN(base_width=4).eval()
    state = model.state_dict()
    plain_state = {_one_module_earlier(k): v for k, v in state.items()}
    plain_state["layer1.0.weight"] = state["layer1.1.weight"][:, :3].clone()
    plain.load_state_dict(plain_state, strict=True)
    with torch.no_grad():
        state["layer1.1.weight"][:, 3:] = 0.0
    model.load_state_dict(state)
    clip = torch.rand(1, 3, 8, 32, 32, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(model(clip).pooled, plain(clip).pooled)


def _one_module_earlier(key: str) -> str:
    """``layer1.<i>.x`` -> ``layer1.<i - 1>.x``: layer1 without its FrameDifferences."""
    stage, index, rest = key.split(".", 2)
    return f"{stage}.{int(index) - 1}.{rest}" if stage == "layer1" else key


def test_the_option_must_be_a_bool() -> None:
    with pytest.raises(TypeError, match=re.escape("`frame_differences` must be a bool, got int")):
        Small3DCNN(frame_differences=1)  # type: ignore[arg-type]


def test_compiles_and_exports() -> None:
    model = Small3DCNN(base_width=2, frame_differences=True).eval()
    clip = torch.rand(1, 3, 8, 32, 32)
    expected = model(clip).pooled
    compiled = torch.compile(model, fullgraph=True, backend="eager")
    torch.testing.assert_close(compiled(clip).pooled, expected)
    exported = torch.export.export(FrameDifferences(), (clip,))
    torch.testing.assert_close(exported.module()(clip), FrameDifferences()(clip))
