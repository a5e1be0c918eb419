"""The stress test against two honest test doubles that read only the clip tensor:

- ``background_family_encoder`` returns the one-hot background family, recognised from the
  hue of the pixels the sprite does not cover (family ``k`` is centred on hue ``k / 8``);
- ``motion_class_encoder`` returns the one-hot motion class of the first four classes
  (right, left, up, down), found from the sprite's displacement, and zeros when the sprite
  does not move (a frozen clip).
"""

from __future__ import annotations

import json
import math
import re

import pytest
import torch
from torch import Tensor, nn

from bgdebias.data.sampling import UniformClipSampler
from bgdebias.data.synthetic import MovingSpriteDataset
from bgdebias.evaluation import (
    BiasStressResult,
    StressSplits,
    background_bias_stress_test,
    make_stress_splits,
    result_to_dict,
)

CLASSES = 4


def _sprite_mask(clips: Tensor) -> Tensor:
    """The sprite's white body or black rim; textures stay in [0.1, 0.75]. (B, T, H, W)."""
    return (clips > 0.9).all(dim=1) | (clips < 0.08).all(dim=1)


def _hue(rgb: Tensor) -> Tensor:
    """Hue in [0, 1) of colours (B, 3)."""
    r, g, b = rgb.unbind(dim=1)
    high, low = rgb.max(dim=1).values, rgb.min(dim=1).values
    delta = (high - low).clamp_min(1e-6)
    hue = torch.where(
        high == r, (g - b) / delta, torch.where(high == g, 2 + (b - r) / delta, 4 + (r - g) / delta)
    )
    return (hue / 6).remainder(1.0)


def background_family_encoder(clips: Tensor) -> Tensor:
    """One-hot background family from the mean colour around the sprite. (B, C, T, H, W)."""
    keep = (~_sprite_mask(clips)).unsqueeze(1).float()
    colour = (clips * keep).sum(dim=(2, 3, 4)) / keep.sum(dim=(2, 3, 4))
    family = (_hue(colour) * 8).round().long() % 8
    return nn.functional.one_hot(family, CLASSES).float()


def _centre(mask: Tensor) -> Tensor:
    """Sprite centre (x, y) per frame as a circular mean on the torus. (B, T, 2)."""
    size = mask.shape[-1]
    angles = 2 * math.pi * torch.arange(size) / size
    columns, rows = mask.float().sum(dim=2), mask.float().sum(dim=3)
    x = torch.atan2((columns * angles.sin()).sum(-1), (columns * angles.cos()).sum(-1))
    y = torch.atan2((rows * angles.sin()).sum(-1), (rows * angles.cos()).sum(-1))
    return torch.stack([x, y], dim=-1) * size / (2 * math.pi)


def motion_class_encoder(clips: Tensor) -> Tensor:
    """One-hot of right / left / up / down from the sprite's displacement; zeros if still."""
    size = clips.shape[-1]
    steps = _centre(_sprite_mask(clips)).diff(dim=1)
    dx, dy = ((steps + size / 2).remainder(size) - size / 2).sum(dim=1).unbind(dim=1)
    direction = torch.stack([dx, -dx, -dy, dy], dim=1).argmax(dim=1)
    moving = (dx.abs() + dy.abs()) > 1.0
    return nn.functional.one_hot(direction, CLASSES).float() * moving.unsqueeze(1)


@pytest.fixture(scope="module")
def splits() -> StressSplits:
    return make_stress_splits(num_classes=CLASSES, train_length=64, test_length=32, size=32)


def test_the_test_doubles_read_the_ground_truth(splits: StressSplits) -> None:
    for name in ("train", "conflicting"):
        batch = getattr(splits, name).batch(range(32))
        families = background_family_encoder(batch.clip).argmax(dim=1)
        assert torch.equal(families, batch.background_family)
        assert torch.equal(motion_class_encoder(batch.clip).argmax(dim=1), batch.label)
    assert isinstance(splits.static, MovingSpriteDataset)
    frozen = splits.static.batch(range(8)).clip
    assert not bool(motion_class_encoder(frozen).any())


def test_background_representation_is_exposed(splits: StressSplits) -> None:
    result = background_bias_stress_test(background_family_encoder, splits)
    biased, independent = result.biased_probe, result.independent_probe
    assert biased.aligned >= 0.9
    assert biased.conflicting <= 0.1
    assert biased.bias_gap >= 0.8
    assert biased.static >= 0.9  # the background survives freezing
    assert biased.contrasted == 0.0  # never right for the motion
    assert abs(independent.conflicting - 1 / CLASSES) <= 0.2  # no motion to find
    assert result.independent_retrieval_r1 <= 0.5


def test_motion_representation_is_exposed(splits: StressSplits) -> None:
    result = background_bias_stress_test(motion_class_encoder, splits)
    biased, independent = result.biased_probe, result.independent_probe
    assert independent.conflicting >= 0.95
    assert independent.aligned >= 0.95
    assert abs(independent.static - 1 / CLASSES) <= 0.1  # motion removed: chance
    assert abs(independent.frozen_conflicting - 1 / CLASSES) <= 0.1
    assert independent.contrasted == pytest.approx(
        independent.conflicting - independent.frozen_conflicting, abs=1e-6
    )
    assert independent.contrasted >= 0.6
    assert abs(biased.bias_gap) <= 0.05
    assert result.independent_retrieval_r1 == 1.0


def test_multi_clip_splits_with_a_small_network_give_a_json_report() -> None:
    splits = make_stress_splits(
        num_classes=2,
        train_length=8,
        test_length=4,
        num_frames=8,
        size=32,
        test_clip_sampler=UniformClipSampler(4, num_clips=2),
        train_clip_sampler=UniformClipSampler(4, num_clips=1),
    )
    assert splits.aligned[0].clip.shape == (2, 3, 4, 32, 32)
    torch.manual_seed(0)
    encoder = nn.Sequential(nn.Conv3d(3, 4, 3, padding=1), nn.AdaptiveAvgPool3d(1), nn.Flatten())
    result = background_bias_stress_test(encoder, splits, batch_size=3, probe_epochs=10)
    assert isinstance(result, BiasStressResult)
    report = json.loads(json.dumps(result_to_dict(result)))
    assert set(report) == {"biased_probe", "independent_probe", "independent_retrieval_r1"}
    assert set(report["biased_probe"]) == {
        "aligned",
        "conflicting",
        "static",
        "independent",
        "frozen_conflicting",
        "bias_gap",
        "contrasted",
    }
    for value in report["independent_probe"].values():
        assert -1.0 <= value <= 1.0


def test_independent_training_videos_are_not_test_videos() -> None:
    splits = make_stress_splits(num_classes=2, train_length=3, test_length=5, size=32)
    indices = [int(splits.independent_train[i].video_index) for i in range(3)]
    assert indices == [5, 6, 7]
    assert [int(splits.independent[i].video_index) for i in range(5)] == [0, 1, 2, 3, 4]
    # The four test splits show the same sprites: identical where the sprite is.
    aligned, conflicting = splits.aligned[1].clip, splits.conflicting[1].clip
    sprite = _sprite_mask(aligned.unsqueeze(0))[0]
    assert torch.equal(sprite, _sprite_mask(conflicting.unsqueeze(0))[0])


def test_errors() -> None:
    with pytest.raises(TypeError, match=re.escape("`splits` must be a StressSplits, got dict")):
        background_bias_stress_test(motion_class_encoder, {})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=re.escape("`test_length` must be an int >= 1, got 0")):
        make_stress_splits(test_length=0)
    with pytest.raises(ValueError, match=re.escape("`bias` must be in the closed interval [0, 1]")):
        make_stress_splits(bias=1.5)
