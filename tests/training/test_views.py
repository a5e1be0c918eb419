from __future__ import annotations

import pytest
import torch

from bgdebias.training.views import (
    KINETICS_MEAN,
    normalize_clips,
    random_resized_crop,
    temporal_windows,
    two_views,
)


def _numbered_video(batch: int = 3, frames: int = 12, size: int = 16) -> torch.Tensor:
    """Frame t of every video is filled with the value t / 100."""
    return (torch.arange(frames).float() / 100).view(1, 1, frames, 1, 1).expand(
        batch, 3, frames, size, size
    ).contiguous()


def test_temporal_windows_take_consecutive_strided_frames() -> None:
    videos = _numbered_video()
    window = temporal_windows(videos, num_frames=4, stride=2, generator=torch.Generator().manual_seed(0))
    frames = (window[:, 0, :, 0, 0] * 100).round().long()
    assert torch.equal(frames.diff(dim=1), torch.full((3, 3), 2))
    assert frames.min() >= 0 and frames.max() <= 11


def test_short_videos_loop() -> None:
    videos = _numbered_video(frames=3)
    window = temporal_windows(videos, num_frames=5, stride=1, generator=torch.Generator())
    frames = (window[:, 0, :, 0, 0] * 100).round().long()
    assert frames[0].tolist() == [0, 1, 2, 0, 1]


def test_full_crop_is_identity_and_flip_mirrors() -> None:
    clips = torch.rand(2, 3, 4, 10, 10)
    generator = torch.Generator().manual_seed(0)
    same = random_resized_crop(clips, size=10, generator=generator, scale=(1, 1), ratio=(1, 1))
    torch.testing.assert_close(same, clips, atol=1e-5, rtol=0)
    flipped = random_resized_crop(
        clips, size=10, generator=generator, scale=(1, 1), ratio=(1, 1),
        flip=torch.tensor([True, False]),
    )
    torch.testing.assert_close(flipped[0], clips[0].flip(-1), atol=1e-5, rtol=0)
    torch.testing.assert_close(flipped[1], clips[1], atol=1e-5, rtol=0)


def test_crop_is_shared_by_all_frames_of_a_clip() -> None:
    frame = torch.rand(2, 3, 1, 20, 20)
    clips = frame.expand(2, 3, 5, 20, 20)
    out = random_resized_crop(clips, size=8, generator=torch.Generator().manual_seed(1))
    assert torch.equal(out[:, :, :1].expand_as(out), out)
    assert not torch.allclose(out[0], out[1])


def test_two_views_share_the_flip_and_differ_otherwise() -> None:
    # A left-to-right gradient: a flipped view has a decreasing profile.
    ramp = torch.linspace(0, 1, 32).view(1, 1, 1, 1, 32).expand(16, 3, 6, 32, 32).contiguous()
    query, key = two_views(
        ramp, num_frames=4, size=16, generator=torch.Generator().manual_seed(0), normalize=False
    )
    query_rising = query[:, 0, 0, 8].diff().mean(dim=-1) > 0
    key_rising = key[:, 0, 0, 8].diff().mean(dim=-1) > 0
    assert torch.equal(query_rising, key_rising)
    assert 0 < int(query_rising.sum()) < 16
    assert not torch.allclose(query, key)


def test_views_are_deterministic_with_a_seed_and_normalised() -> None:
    videos = torch.rand(2, 3, 10, 24, 24)
    first = two_views(videos, num_frames=4, size=12, generator=torch.Generator().manual_seed(5))
    second = two_views(videos, num_frames=4, size=12, generator=torch.Generator().manual_seed(5))
    assert torch.equal(first[0], second[0]) and torch.equal(first[1], second[1])
    grey = torch.tensor(KINETICS_MEAN).view(1, 3, 1, 1, 1).expand(1, 3, 2, 4, 4)
    assert normalize_clips(grey).abs().max() < 1e-6


def test_bad_videos() -> None:
    with pytest.raises(ValueError, match="`videos` must be a 5D tensor"):
        two_views(torch.rand(3, 8, 16, 16), num_frames=4, size=8, generator=torch.Generator())
