from __future__ import annotations

import re

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from bgdebias.data.sampling import ClipSampler, RandomClipSampler, UniformClipSampler

_sizes = st.integers(1, 12)
_frames = st.integers(1, 120)


@settings(max_examples=40, deadline=None)
@given(
    clip_len=_sizes,
    stride=st.integers(1, 4),
    num_clips=st.integers(1, 5),
    num_frames=_frames,
    policy=st.sampled_from(["loop", "repeat_last"]),
    seed=st.integers(0, 2**31),
)
def test_random_clips_in_range_with_stride(
    clip_len: int, stride: int, num_clips: int, num_frames: int, policy: str, seed: int
) -> None:
    sampler = RandomClipSampler(
        clip_len,
        stride=stride,
        num_clips=num_clips,
        short_video=policy,  # type: ignore[arg-type]
    )
    indices = sampler(num_frames, generator=torch.Generator().manual_seed(seed))
    assert indices.shape == (num_clips, clip_len)
    assert indices.dtype == torch.long
    assert int(indices.min()) >= 0
    assert int(indices.max()) < num_frames
    again = sampler(num_frames, generator=torch.Generator().manual_seed(seed))
    assert torch.equal(indices, again)
    steps = indices.diff(dim=1)
    if num_frames >= sampler.span:
        assert bool((steps == stride).all())
    elif policy == "loop":
        # Each step moves `stride` frames forward on the loop.
        assert bool((steps.remainder(num_frames) == stride % num_frames).all())
    else:
        assert bool((indices[:, 0] == 0).all())
        expected = (torch.arange(clip_len) * stride).clamp(max=num_frames - 1)
        assert bool((indices == expected).all())


@settings(max_examples=40, deadline=None)
@given(
    clip_len=_sizes,
    stride=st.integers(1, 4),
    num_clips=st.integers(1, 12),
    num_frames=_frames,
)
def test_uniform_clips_are_evenly_spaced(
    clip_len: int, stride: int, num_clips: int, num_frames: int
) -> None:
    sampler = UniformClipSampler(clip_len, stride=stride, num_clips=num_clips)
    indices = sampler(num_frames)
    assert indices.shape == (num_clips, clip_len)
    assert int(indices.min()) >= 0
    assert int(indices.max()) < num_frames
    starts = indices[:, 0]
    if num_frames >= sampler.span:
        assert bool((indices.diff(dim=1) == stride).all())
        if num_clips > 1:
            assert int(starts[0]) == 0
            assert int(indices[-1, -1]) == num_frames - 1
            gaps = starts.diff()
            assert int(gaps.max() - gaps.min()) <= 1  # even up to rounding
        else:
            assert int(starts[0]) == (num_frames - sampler.span) // 2
    else:
        gaps = starts.diff()
        if num_clips > 1:
            assert int(gaps.max() - gaps.min()) <= 1


def test_uniform_matches_hand_computed_protocol() -> None:
    # 100 frames, 16-frame clips at stride 2 span 31 frames: starts every 69 / 9 frames.
    indices = UniformClipSampler(16, stride=2)(100)
    expected_starts = [round(k * 69 / 9) for k in range(10)]
    assert indices[:, 0].tolist() == expected_starts
    assert indices[3].tolist() == [expected_starts[3] + 2 * i for i in range(16)]
    assert UniformClipSampler(2, num_clips=3)(7).tolist() == [[0, 1], [2, 3], [5, 6]]


def test_short_video_policies_by_hand() -> None:
    # 5 frames, 4 frames at stride 2 span 7 frames: too short.
    loop = UniformClipSampler(4, stride=2, num_clips=2, short_video="loop")(5)
    assert loop.tolist() == [[0, 2, 4, 1], [2, 4, 1, 3]]
    clamp = UniformClipSampler(4, stride=2, num_clips=2, short_video="repeat_last")(5)
    assert clamp.tolist() == [[0, 2, 4, 4], [0, 2, 4, 4]]
    random_clamp = RandomClipSampler(4, stride=2, short_video="repeat_last")(5)
    assert random_clamp.tolist() == [[0, 2, 4, 4]]
    assert RandomClipSampler(3)(1).tolist() == [[0, 0, 0]]


def test_random_starts_cover_all_valid_positions_uniformly() -> None:
    sampler = RandomClipSampler(4, stride=2, num_clips=4000)  # span 7, starts 0..3 in 10 frames
    starts = sampler(10, generator=torch.Generator().manual_seed(0))[:, 0]
    counts = torch.bincount(starts, minlength=4)
    assert counts.numel() == 4
    assert bool((counts - 1000).abs().max() < 120)


def test_random_clips_of_a_pair_differ_and_depend_on_seed() -> None:
    sampler = RandomClipSampler(8, num_clips=2)
    a = sampler(200, generator=torch.Generator().manual_seed(1))
    b = sampler(200, generator=torch.Generator().manual_seed(2))
    assert not torch.equal(a, b)
    assert a[0, 0] != a[1, 0]


def test_samplers_satisfy_the_protocol() -> None:
    samplers: list[ClipSampler] = [RandomClipSampler(4), UniformClipSampler(4)]
    for sampler in samplers:
        assert sampler(20).shape[1] == 4
    assert "clip_len=4" in repr(samplers[0])


def test_errors() -> None:
    with pytest.raises(ValueError, match=re.escape("`clip_len` must be an int >= 1, got 0")):
        RandomClipSampler(0)
    with pytest.raises(ValueError, match=re.escape("`stride` must be an int >= 1, got 0")):
        UniformClipSampler(4, stride=0)
    with pytest.raises(ValueError, match=re.escape("`num_clips` must be an int >= 1, got 0")):
        UniformClipSampler(4, num_clips=0)
    message = "`short_video` must be one of 'loop', 'repeat_last'; got 'pad'"
    with pytest.raises(ValueError, match=re.escape(message)):
        RandomClipSampler(4, short_video="pad")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=re.escape("`num_frames` must be an int >= 1, got 0")):
        RandomClipSampler(4)(0)
    with pytest.raises(TypeError, match=re.escape("`num_frames` must be an int, got float")):
        UniformClipSampler(4)(10.0)  # type: ignore[arg-type]
