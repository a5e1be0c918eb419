from __future__ import annotations

import dataclasses
import re

import pytest
import torch

from bgdebias.data import KINETICS_MEAN
from bgdebias.data.transforms.presets import PRETRAIN_VIEW_STRENGTHS
from bgdebias.training.config import PretrainConfig
from bgdebias.training.views import ClipViewAugmentation, view_augmentation


def _numbered_video(batch: int = 3, frames: int = 12, size: int = 16) -> torch.Tensor:
    """Frame t of every video is filled with the value t / 100."""
    values = torch.arange(frames).float() / 100
    return values.view(1, 1, frames, 1, 1).expand(batch, 3, frames, size, size).contiguous()


_NO_COLOUR = dataclasses.replace(PRETRAIN_VIEW_STRENGTHS, jitter_p=0.0, grayscale_p=0.0)


def _plain(
    *, num_frames: int, size: int, stride: int = 1, num_views: int = 2
) -> ClipViewAugmentation:
    return ClipViewAugmentation(
        num_frames=num_frames,
        size=size,
        stride=stride,
        strengths=_NO_COLOUR,
        normalize=False,
        num_views=num_views,
    )


def test_views_take_consecutive_strided_frames_in_their_own_window() -> None:
    views = _plain(num_frames=4, size=16, stride=2)(_numbered_video(batch=32), torch.Generator())
    firsts = []
    for view in views:
        frames = (view[:, 0, :, 8, 8] * 100).round().long()
        assert torch.equal(frames.diff(dim=1), torch.full((32, 3), 2))
        assert frames.min() >= 0
        assert frames.max() <= 11
        firsts.append(frames[:, 0])
    assert not torch.equal(firsts[0], firsts[1])


def test_short_videos_loop() -> None:
    (view,) = _plain(num_frames=5, size=16, num_views=1)(_numbered_video(frames=3), None)
    frames = (view[:, 0, :, 8, 8] * 100).round().long()
    assert torch.equal(frames.diff(dim=1) % 3, torch.ones(3, 4, dtype=torch.long))


def test_two_views_share_the_flip_and_differ_otherwise() -> None:
    # A left-to-right ramp: a flipped view has a decreasing profile.
    ramp = torch.linspace(0, 1, 32).view(1, 1, 1, 1, 32).expand(16, 3, 6, 32, 32).contiguous()
    query, key = _plain(num_frames=4, size=16)(ramp, torch.Generator().manual_seed(0))
    query_rising = query[:, 0, 0, 8].diff().mean(dim=-1) > 0
    key_rising = key[:, 0, 0, 8].diff().mean(dim=-1) > 0
    assert torch.equal(query_rising, key_rising)
    assert 0 < int(query_rising.sum()) < 16
    assert not torch.allclose(query, key)


def test_config_views_never_flip_synthetic_videos_and_keep_large_crops() -> None:
    ramp = torch.linspace(0, 1, 64).view(1, 1, 1, 1, 64).expand(64, 3, 12, 64, 64).contiguous()
    config = PretrainConfig(jitter_p=0.0).resolved()
    augment = view_augmentation(config)
    assert augment.crop.scale == (0.8, 1.0)
    assert augment.blur is None  # the recipe's views are not blurred
    for view in augment(ramp, torch.Generator().manual_seed(0)):
        assert view.shape == (64, 3, 8, 64, 64)
        assert bool((view[:, 0, 0, 32].diff().mean(dim=-1) > 0).all())  # never mirrored
    video = PretrainConfig(dataset="ucf101", root="data", jitter_p=0.0, size=64).resolved()
    (view,) = view_augmentation(video, num_views=1)(ramp, torch.Generator().manual_seed(0))
    mirrored = int((view[:, 0, 0, 32].diff().mean(dim=-1) < 0).sum())
    assert 16 < mirrored < 48  # flip_p 0.5 on real videos


def test_crop_is_shared_by_all_frames_of_a_clip() -> None:
    frame = torch.rand(4, 3, 1, 20, 20)
    (view,) = _plain(num_frames=3, size=8, num_views=1)(frame.expand(4, 3, 5, 20, 20), None)
    assert torch.allclose(view[:, :, :1].expand_as(view), view)


def test_views_are_deterministic_with_a_seed_and_normalised() -> None:
    videos = torch.rand(2, 3, 10, 24, 24)
    augment = ClipViewAugmentation(num_frames=4, size=12)
    first = augment(videos, torch.Generator().manual_seed(5))
    second = augment(videos, torch.Generator().manual_seed(5))
    assert all(torch.equal(a, b) for a, b in zip(first, second, strict=True))
    grey = torch.tensor(KINETICS_MEAN).view(1, 3, 1, 1, 1).expand(2, 3, 4, 8, 8)
    (view,) = ClipViewAugmentation(num_frames=4, size=8, strengths=_NO_COLOUR, num_views=1)(
        grey.contiguous(), None
    )
    assert view.abs().max() < 1e-5


def test_bad_input() -> None:
    with pytest.raises(ValueError, match=re.escape("`videos` must be a 5D tensor")):
        _plain(num_frames=4, size=8)(torch.rand(3, 8, 16, 16), None)
    with pytest.raises(ValueError, match=re.escape("`num_views` must be an int >= 1, got 0")):
        _plain(num_frames=4, size=8, num_views=0)


def test_pretraining_views_reproduce_the_pinned_draws() -> None:
    # Pinned on the code before the views moved into bgdebias.data (0.x, issue #11): the
    # same views from the same draws, and the generator left in the same state.
    videos = torch.rand(3, 3, 12, 20, 24, generator=torch.Generator().manual_seed(1))
    config = PretrainConfig(
        dataset="ucf101", root="x", size=16, num_frames=4, frame_stride=2
    ).resolved()
    generator = torch.Generator().manual_seed(0)
    query, key = view_augmentation(config)(videos, generator)
    assert float(torch.rand(1, generator=generator)) == pytest.approx(0.2767965793609619, abs=0)
    assert query.shape == key.shape == (3, 3, 4, 16, 16)
    assert float(query.double().sum()) == pytest.approx(8246.5788, abs=2e-3)
    assert float(key.double().sum()) == pytest.approx(2461.049, abs=2e-3)
    corners = [[0.42052, 0.97454, 0.16949], [0.67534, 0.98703, 1.23214]]
    for view, expected in zip((query, key), corners, strict=True):
        assert view[:, 0, 0, 0, 0].tolist() == pytest.approx(expected, abs=1e-4)


def test_blur_is_drawn_only_when_asked_for() -> None:
    videos = torch.rand(2, 3, 8, 20, 20, generator=torch.Generator().manual_seed(0))
    blurred = dataclasses.replace(PRETRAIN_VIEW_STRENGTHS, blur_p=1.0)
    augment = ClipViewAugmentation(num_frames=4, size=16, strengths=blurred, normalize=False)
    plain = ClipViewAugmentation(num_frames=4, size=16, normalize=False)
    geometric = plain.geometric(videos, torch.Generator().manual_seed(0))
    assert augment.blur is not None
    assert plain.blur is None
    sharp = plain.photometric(geometric[0], torch.Generator().manual_seed(1))
    soft = augment.photometric(geometric[0], torch.Generator().manual_seed(1))
    assert soft.diff(dim=-1).abs().mean() < sharp.diff(dim=-1).abs().mean()


def test_strengths_must_be_augmentation_strengths() -> None:
    with pytest.raises(
        TypeError, match=re.escape("`strengths` must be an AugmentationStrengths, got dict")
    ):
        ClipViewAugmentation(num_frames=4, size=8, strengths={"flip_p": 0.0})  # type: ignore[arg-type]
