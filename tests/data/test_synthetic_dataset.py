from __future__ import annotations

import re
from collections import Counter

import pytest
import torch
from torch.utils.data import DataLoader

from bgdebias.data import MovingSpriteSample, VideoSample
from bgdebias.data.sampling import RandomClipSampler, UniformClipSampler
from bgdebias.data.synthetic import (
    BACKGROUND_FAMILIES,
    MOTION_CLASSES,
    MovingSpriteDataset,
    render_background,
    sprite_trajectory,
    video_seed,
)
from bgdebias.data.transforms import TwoViewTransform, moco_clip_augmentation


def _batched(field: object) -> torch.Tensor:
    """A field of ``batch()``'s sample: a tensor, where an item's field is an int."""
    assert isinstance(field, torch.Tensor)
    return field


def test_sample_fields_shapes_and_range() -> None:
    data = MovingSpriteDataset(length=20)
    sample = data[11]
    assert sample.clip.shape == (3, 8, 64, 64)
    assert sample.clip.dtype == torch.float32
    assert float(sample.clip.min()) >= 0.0
    assert float(sample.clip.max()) <= 1.0
    assert sample.label == 11 % 8
    assert 0 <= sample.background_family < 8
    assert sample.video_index == 11
    # One sample schema with the video datasets: plain ints per item, int64 once batched.
    assert {type(sample.label), type(sample.background_family), type(sample.video_index)} == {int}
    assert VideoSample._fields == ("clip", "label", "video_index", "path")
    assert MovingSpriteSample._fields == ("clip", "label", "background_family", "video_index")
    assert MovingSpriteSample.__annotations__["label"] == VideoSample.__annotations__["label"]
    assert _batched(data.batch([11, 3]).label).dtype == torch.int64
    assert len(data) == 20
    assert data.classes == MOTION_CLASSES
    assert data.families == BACKGROUND_FAMILIES
    assert "split='train'" in repr(data)


def test_ground_truth_matches_the_clip() -> None:
    video = MovingSpriteDataset(split="independent", length=8, num_frames=12, size=32).render(5)
    assert video.clip.shape == (3, 12, 32, 32)
    assert video.background.shape == (3, 32, 32)
    assert video.sprite_mask.shape == (12, 32, 32)
    assert video.sprite_mask.dtype == torch.bool
    assert video.trajectory.centre.shape == (12, 2)
    assert video.trajectory.radius.shape == (12,)
    # Outside the sprite, every frame is exactly the clean background.
    outside = ~video.sprite_mask
    background = video.background.unsqueeze(1).expand_as(video.clip)
    assert torch.equal(video.clip[:, outside], background[:, outside])
    assert bool(video.sprite_mask.flatten(1).any(dim=1).all())  # visible in every frame


def test_videos_are_a_function_of_seed_split_and_index() -> None:
    first = MovingSpriteDataset(length=50, seed=3)
    for index in range(5):  # render others first: no hidden state
        first.render(index)
    a = first.render(17)
    b = MovingSpriteDataset(length=50, seed=3).render(17)
    assert torch.equal(a.clip, b.clip)
    assert torch.equal(a.sprite_mask, b.sprite_mask)
    other_seed = MovingSpriteDataset(length=50, seed=4).render(17)
    assert not torch.equal(a.background, other_seed.background)
    other_split = MovingSpriteDataset(split="aligned", length=50, seed=3).render(17)
    assert not torch.equal(a.trajectory.centre, other_split.trajectory.centre)
    assert video_seed(3, "train", 17) == video_seed(3, "train", 17)
    assert video_seed(3, "train", 17) != video_seed(3, "test", 17)
    assert 0 <= video_seed(3, "train", 17) < 2**63


def test_every_background_is_unique() -> None:
    data = MovingSpriteDataset(split="aligned", length=64, size=32)
    backgrounds = torch.stack([data.render(i).background for i in range(64)]).flatten(1)
    distances = torch.cdist(backgrounds, backgrounds)
    distances.fill_diagonal_(float("inf"))
    assert float(distances.min()) > 0.1


def _families(split: str, length: int, **options: float) -> tuple[list[int], list[int]]:
    data = MovingSpriteDataset(split=split, length=length, size=32, **options)  # type: ignore[arg-type]
    videos = [data.render(i) for i in range(length)]
    return [v.label for v in videos], [v.background_family for v in videos]


def test_split_background_rules() -> None:
    labels, families = _families("aligned", 64)
    assert families == labels
    labels, families = _families("conflicting", 400)
    assert all(f != y for f, y in zip(families, labels, strict=True))
    # Another class's family, uniformly: each of the 7 others about 400 / 8 / 7 times per class.
    pairs = Counter(zip(labels, families, strict=True))
    assert len(pairs) == 8 * 7
    labels, families = _families("independent", 800)
    counts = Counter(families)
    assert all(60 < counts[f] < 140 for f in range(8))
    assert sum(f == y for f, y in zip(families, labels, strict=True)) < 800 / 8 + 35


@pytest.mark.parametrize(("bias", "low", "high"), [(0.9, 0.86, 0.94), (1.0, 1.0, 1.0), (0.0, 0, 0)])
def test_train_split_matches_class_with_probability_bias(
    bias: float, low: float, high: float
) -> None:
    labels, families = _families("train", 800, bias=bias)
    matching = sum(f == y for f, y in zip(families, labels, strict=True)) / 800
    assert low <= matching <= high


def test_test_splits_share_motion_and_static_freezes_one_frame() -> None:
    splits = ("aligned", "conflicting", "independent", "static")
    data = {s: MovingSpriteDataset(split=s, length=16, size=32) for s in splits}  # type: ignore[arg-type]
    for index in (0, 7, 13):
        videos = {s: d.render(index) for s, d in data.items()}
        aligned = videos["aligned"]
        for split in ("conflicting", "independent"):
            assert videos[split].label == aligned.label
            assert torch.equal(videos[split].trajectory.centre, aligned.trajectory.centre)
        static = videos["static"]
        assert static.background_family == aligned.background_family == aligned.label
        assert torch.equal(static.background, aligned.background)
        assert torch.equal(static.clip, static.clip[:, :1].expand_as(static.clip))
        frozen = int((aligned.sprite_mask == static.sprite_mask[0]).flatten(1).all(1).nonzero()[0])
        assert torch.equal(static.clip[:, 0], aligned.clip[:, frozen])


def test_clip_sampler_hook_picks_frames_of_the_video() -> None:
    sampler = RandomClipSampler(4, stride=2, num_clips=2)
    data = MovingSpriteDataset(length=4, num_frames=16, size=32, clip_sampler=sampler)
    torch.manual_seed(0)
    clips = data[2].clip
    assert clips.shape == (2, 3, 4, 32, 32)
    video = data.render(2).clip
    for clip in clips:
        starts = [
            s
            for s in range(16 - 6)
            if torch.equal(clip, video[:, s : s + 7 : 2])  # frames s, s+2, s+4, s+6
        ]
        assert len(starts) == 1
    single = MovingSpriteDataset(
        length=4, num_frames=16, size=32, clip_sampler=UniformClipSampler(8, num_clips=1)
    )
    assert torch.equal(single[1].clip, single.render(1).clip[:, 4:12])


def test_transform_hook_and_data_loader() -> None:
    two_views = TwoViewTransform(moco_clip_augmentation(24))
    data = MovingSpriteDataset(length=8, size=32, transform=two_views)
    loader = DataLoader(data, batch_size=4)
    batch = next(iter(loader))
    query, key = batch.clip
    assert query.shape == key.shape == (4, 3, 8, 24, 24)
    assert not torch.equal(query, key)
    assert batch.label.tolist() == [0, 1, 2, 3]
    assert batch.video_index.tolist() == [0, 1, 2, 3]


def test_batch_stacks_items() -> None:
    data = MovingSpriteDataset(split="independent", length=10, size=32)
    batch = data.batch(torch.tensor([3, 1, -1]))
    assert batch.clip.shape == (3, 3, 8, 32, 32)
    assert _batched(batch.video_index).tolist() == [3, 1, 9]
    assert torch.equal(batch.clip[1], data[1].clip)
    assert _batched(batch.background_family).tolist() == [
        data.render(i).background_family for i in (3, 1, 9)
    ]


def test_errors() -> None:
    with pytest.raises(ValueError, match=re.escape("`split` must be one of 'train', 'aligned'")):
        MovingSpriteDataset(split="test")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=re.escape("`length` must be an int >= 1, got 0")):
        MovingSpriteDataset(length=0)
    with pytest.raises(ValueError, match=re.escape("`num_classes` must be an int >= 2, got 1")):
        MovingSpriteDataset(num_classes=1)
    with pytest.raises(ValueError, match=re.escape("`num_classes` must be at most 8 (the motions")):
        MovingSpriteDataset(num_classes=9)
    with pytest.raises(ValueError, match=re.escape("`num_frames` must be an int >= 2, got 1")):
        MovingSpriteDataset(num_frames=1)
    with pytest.raises(ValueError, match=re.escape("`size` must be an int >= 32, got 16")):
        MovingSpriteDataset(size=16)
    with pytest.raises(ValueError, match=re.escape("`bias` must be in the closed interval [0, 1]")):
        MovingSpriteDataset(bias=1.5)
    with pytest.raises(ValueError, match=re.escape("`seed` must be an int >= 0, got -1")):
        MovingSpriteDataset(seed=-1)
    with pytest.raises(TypeError, match=re.escape("`clip_sampler` must be callable, got int")):
        MovingSpriteDataset(clip_sampler=3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=re.escape("`transform` must be callable, got str")):
        MovingSpriteDataset(transform="flip")  # type: ignore[arg-type]
    data = MovingSpriteDataset(length=4, size=32)
    with pytest.raises(IndexError, match=re.escape("`index` 4 is out of range for a split of 4")):
        data[4]
    with pytest.raises(TypeError, match=re.escape("`index` must be an int, got float")):
        data.render(1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=re.escape("`indices` must name at least one video")):
        data.batch([])
    generator = torch.Generator()
    with pytest.raises(ValueError, match=re.escape("`label` must be in [0, 8), got 8")):
        sprite_trajectory(8, num_frames=4, size=32, generator=generator)
    with pytest.raises(ValueError, match=re.escape("`family` must be in [0, 8), got -1")):
        render_background(-1, size=32, generator=generator)


def test_photo_backgrounds_are_crops_of_one_photograph_per_family() -> None:
    from bgdebias.data.synthetic.photos import PHOTO_FAMILIES, photo_folder

    data = MovingSpriteDataset(split="aligned", length=16, backgrounds="photo", size=32)
    assert data.families == PHOTO_FAMILIES
    assert photo_folder().is_dir()
    assert all((photo_folder() / n).is_file() for n in PHOTO_FAMILIES)
    first, second = data.render(0), data.render(8)  # label 0: family 0, two crops
    assert first.background_family == second.background_family == 0
    assert not torch.equal(first.background, second.background)
    off_sprite = ~first.sprite_mask[0]
    assert torch.equal(first.clip[:, 0][:, off_sprite], first.background[:, off_sprite])


def test_a_photo_background_is_a_resized_square_crop() -> None:
    import torch.nn.functional as F

    from bgdebias.data.synthetic.photos import load_photo, render_photo_background

    for family in range(8):
        crop = render_photo_background(family, size=24, generator=torch.Generator().manual_seed(7))
        fraction, across, down, mirror = torch.rand(4, generator=torch.Generator().manual_seed(7))
        photo = load_photo(family)
        height, width = photo.shape[1:]
        side = round(min(height, width) * (0.25 + 0.25 * float(fraction)))
        top, left = int(float(down) * (height - side + 1)), int(float(across) * (width - side + 1))
        expected = photo[:, top : top + side, left : left + side]
        expected = expected.flip(-1) if mirror < 0.5 else expected
        expected = F.interpolate(expected[None], size=(24, 24), mode="bilinear", antialias=True)[0]
        torch.testing.assert_close(crop, 0.1 + 0.65 * expected.clamp(0, 1))


def test_procedural_videos_are_unchanged_by_the_new_options() -> None:
    default = MovingSpriteDataset(split="train", length=4, size=32).render(2)
    explicit = MovingSpriteDataset(
        split="train", length=4, size=32, backgrounds="procedural", actor="disc"
    ).render(2)
    assert torch.equal(default.clip, explicit.clip)


def test_textured_actor_carries_its_own_texture_with_it() -> None:
    from bgdebias.data.synthetic import Trajectory
    from bgdebias.data.synthetic.sprite import actor_texture, render_sprite

    texture = actor_texture(14, generator=torch.Generator().manual_seed(0))
    background = torch.full((3, 40, 40), 0.5)
    path = Trajectory(
        centre=torch.tensor([[10.0, 20.0], [13.0, 21.0]]), radius=torch.tensor([6.0, 6.0])
    )
    clip, _ = render_sprite(background, path, texture=texture)
    body = torch.zeros(40, 40, dtype=torch.bool)
    body[16:25, 6:15] = True  # well inside the body of frame 0 (radius 6, rim 1)
    first = clip[:, 0][:, body]
    second = clip[:, 1].roll(shifts=(-1, -3), dims=(1, 2))[:, body]
    assert torch.equal(first, second)  # the same texels, moved with the centre
    assert first.std() > 0.05  # a pattern, not a plain colour
    textured = MovingSpriteDataset(split="aligned", length=4, size=32, actor="textured")
    plain = MovingSpriteDataset(split="aligned", length=4, size=32)
    a, b = textured.render(1), textured.render(2)
    assert torch.equal(a.sprite_mask, plain.render(1).sprite_mask)  # same path and disc
    colour_a = a.clip[:, 0][:, a.sprite_mask[0]].mean(1)
    colour_b = b.clip[:, 0][:, b.sprite_mask[0]].mean(1)
    assert not torch.equal(colour_a, colour_b)  # each video's actor has its own texture


def test_background_and_actor_choices_are_checked() -> None:
    with pytest.raises(ValueError, match=re.escape("`backgrounds` must be one of")):
        MovingSpriteDataset(backgrounds="film")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=re.escape("`actor` must be one of")):
        MovingSpriteDataset(actor="person")  # type: ignore[arg-type]


def test_coloured_actor_has_one_bright_colour_of_its_own_per_video() -> None:
    coloured = MovingSpriteDataset(split="aligned", length=4, size=32, actor="colour")
    plain = MovingSpriteDataset(split="aligned", length=4, size=32)
    colours = []
    for index in (1, 2):
        video = coloured.render(index)
        assert torch.equal(video.sprite_mask, plain.render(index).sprite_mask)  # same path
        body = video.clip[:, 0][:, plain.render(index).sprite_mask[0]]
        # The rim stays dark; the body is one colour whose largest channel is >= 0.85.
        bright = body[:, body.max(0).values >= 0.5]
        assert bright.shape[1] > 0
        assert torch.equal(bright, bright[:, :1].expand_as(bright))
        assert float(bright[:, 0].max()) >= 0.85
        colours.append(bright[:, 0])
    assert not torch.equal(colours[0], colours[1])  # each video has its own colour
