from __future__ import annotations

import re

import pytest
import torch
import torchvision.transforms.v2.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import Tensor
from torchvision.transforms import v2

from bgdebias.data.functional import to_float_clip
from bgdebias.data.transforms import (
    KINETICS_MEAN,
    KINETICS_STD,
    CenterCropClip,
    ClipCompose,
    ColorJitterClip,
    GaussianBlurClip,
    NormalizeClip,
    RandomGrayscaleClip,
    RandomHorizontalFlipClip,
    RandomResizedCropClip,
    ResizeShortSideClip,
    ToFloatClip,
    TorchvisionClipTransform,
    TwoViewTransform,
    eval_clip_transform,
    moco_clip_augmentation,
)


def _seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _still_batch(batch: int, frames: int, height: int, width: int, seed: int = 0) -> Tensor:
    """A batch of identical clips whose frames are all the same image. (B, 3, T, H, W)."""
    image = torch.rand(3, 1, height, width, generator=_seeded(seed))
    return image.expand(3, frames, height, width).unsqueeze(0).repeat(batch, 1, 1, 1, 1)


def _random_transforms() -> list[torch.nn.Module]:
    return [
        RandomResizedCropClip(12),
        RandomHorizontalFlipClip(),
        ColorJitterClip(p=1.0),
        RandomGrayscaleClip(p=0.5),
        GaussianBlurClip(p=1.0),
        moco_clip_augmentation(12),
    ]


# --- deterministic transforms -------------------------------------------------------------


def test_to_float_clip_layouts_by_hand() -> None:
    frames = torch.arange(2 * 3 * 2 * 2, dtype=torch.uint8).view(2, 3, 2, 2)  # (T, C, H, W)
    clip = to_float_clip(frames)
    assert clip.shape == (3, 2, 2, 2)
    assert clip.dtype == torch.float32
    assert clip[1, 0, 1, 0].item() == pytest.approx(float(frames[0, 1, 1, 0]) / 255)
    channels_last = frames.permute(0, 2, 3, 1).contiguous()  # (T, H, W, C)
    assert torch.equal(to_float_clip(channels_last, layout="THWC"), clip)
    assert torch.equal(to_float_clip(clip, layout="CTHW"), clip)  # floats pass through
    batch = torch.stack([frames, frames])
    assert torch.equal(ToFloatClip()(batch), torch.stack([clip, clip]))


def test_normalize_by_hand() -> None:
    values = torch.tensor([0.43216, 0.5, 1.0]).view(3, 1, 1, 1).expand(3, 2, 2, 2)
    out = NormalizeClip()(values)
    expected = [0.0, (0.5 - 0.394666) / 0.22145, (1.0 - 0.37645) / 0.216989]
    for channel, value in enumerate(expected):
        assert torch.allclose(out[channel], torch.full((2, 2, 2), value), atol=1e-6)
    batch = NormalizeClip((0.5, 0.5, 0.5), (0.25, 0.5, 1.0))(torch.ones(2, 3, 1, 1, 1))
    assert batch.flatten(1).tolist() == [[2.0, 1.0, 0.5]] * 2
    assert (KINETICS_MEAN, KINETICS_STD) == (
        (0.43216, 0.394666, 0.37645),
        (0.22803, 0.22145, 0.216989),
    )


def test_resize_short_side_and_center_crop() -> None:
    clip = torch.rand(3, 2, 20, 30)
    assert ResizeShortSideClip(10)(clip).shape == (3, 2, 10, 15)
    assert ResizeShortSideClip(10)(clip.unsqueeze(0)).shape == (1, 3, 2, 10, 15)
    grid = torch.arange(36.0).view(1, 1, 6, 6)  # one channel, one frame
    assert CenterCropClip(2, channels=1)(grid)[0, 0].tolist() == [[14.0, 15.0], [20.0, 21.0]]
    assert CenterCropClip((2, 4), channels=None)(grid).shape == (1, 1, 2, 4)


def test_eval_transform_shape_and_values() -> None:
    frames = torch.full((3, 4, 140, 180), 255, dtype=torch.uint8)
    out = eval_clip_transform(112)(frames)
    assert out.shape == (3, 4, 112, 112)
    assert out.dtype == torch.float32
    expected = (1.0 - torch.tensor(KINETICS_MEAN)) / torch.tensor(KINETICS_STD)
    assert torch.allclose(out.mean(dim=(1, 2, 3)), expected, atol=1e-5)


# --- per-clip consistency and per-clip parameters ----------------------------------------


@settings(max_examples=12, deadline=None)
@given(
    index=st.integers(0, 5),
    batch=st.integers(1, 3),
    frames=st.integers(1, 4),
    height=st.integers(8, 20),
    width=st.integers(8, 20),
    seed=st.integers(0, 1000),
)
def test_random_transforms_treat_all_frames_of_a_clip_alike(
    index: int, batch: int, frames: int, height: int, width: int, seed: int
) -> None:
    transform = _random_transforms()[index]
    clip = _still_batch(batch, frames, height, width, seed)
    out = transform(clip, generator=_seeded(seed))
    assert out.dtype == torch.float32
    assert out.shape[:3] == (batch, 3, frames)
    # Identical frames in, identical frames out: one parameter set per clip.
    assert torch.allclose(out, out[:, :, :1].expand_as(out), atol=1e-6)
    single = transform(clip[0], generator=_seeded(seed))
    assert single.shape == out.shape[1:]


def test_flip_and_crop_move_every_frame_the_same_way() -> None:
    clip = torch.rand(8, 3, 4, 10, 12, generator=_seeded(1))  # frames differ
    flipped = RandomHorizontalFlipClip()(clip, generator=_seeded(2))
    for b in range(8):
        same = torch.equal(flipped[b], clip[b])
        assert same or torch.equal(flipped[b], clip[b].flip(-1))
    crop = RandomResizedCropClip((6, 5))
    params = crop.sample_params(8, 10, 12, _seeded(3))
    out = crop.apply_params(clip, params)
    for b in range(8):
        top, left = int(params.top[b]), int(params.left[b])
        height, width = int(params.height[b]), int(params.width[b])
        reference = TF.resized_crop(clip[b], top, left, height, width, [6, 5], antialias=True)
        assert torch.allclose(out[b], reference)


def test_clips_of_a_batch_get_different_parameters() -> None:
    clip = _still_batch(64, 2, 12, 12)
    clip[..., :6] = 0.0  # left half dark: a flip is visible
    flipped = RandomHorizontalFlipClip()(clip, generator=_seeded(0))
    num_flipped = int((flipped[:, 0, 0, 0, 0] > 0).sum())
    assert 20 < num_flipped < 44
    augmented = moco_clip_augmentation(8)(_still_batch(6, 2, 16, 16), generator=_seeded(0))
    distinct = {tuple(row.tolist()) for row in augmented.flatten(1).round(decimals=4)}
    assert len(distinct) == 6
    jitter = ColorJitterClip(p=1.0).sample_params(16, _seeded(0))
    assert len(set(jitter.brightness.tolist())) == 16


def test_seed_determinism() -> None:
    clip = torch.rand(4, 3, 3, 16, 16, generator=_seeded(5))
    augment = moco_clip_augmentation(8)
    a = augment(clip, generator=_seeded(7))
    b = augment(clip, generator=_seeded(7))
    c = augment(clip, generator=_seeded(8))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_two_views_differ_and_reproduce() -> None:
    clip = torch.rand(3, 2, 16, 16, generator=_seeded(0))
    two = TwoViewTransform(moco_clip_augmentation(8))
    query, key = two(clip, generator=_seeded(1))
    assert query.shape == key.shape == (3, 2, 8, 8)
    assert not torch.equal(query, key)
    again = two(clip, generator=_seeded(1))
    assert torch.equal(again[0], query)
    assert torch.equal(again[1], key)
    asymmetric = TwoViewTransform(CenterCropClip(4), ResizeShortSideClip(8))
    small, large = asymmetric(clip)
    assert (small.shape[-1], large.shape[-1]) == (4, 8)


# --- against torchvision's definitions ------------------------------------------------------


def test_colour_jitter_matches_torchvision_functionals() -> None:
    clip = torch.rand(4, 3, 3, 8, 10, generator=_seeded(0))
    jitter = ColorJitterClip(brightness=0.5, contrast=0.5, saturation=0.5, hue=0.3, p=1.0)
    params = jitter.sample_params(4, _seeded(1))
    out = jitter.apply_params(clip, params)
    for b in range(4):
        video = clip[b].permute(1, 0, 2, 3)  # (T, C, H, W): per-frame contrast mean
        video = TF.adjust_brightness(video, params.brightness[b].item())
        video = TF.adjust_contrast(video, params.contrast[b].item())
        video = TF.adjust_saturation(video, params.saturation[b].item())
        video = TF.adjust_hue(video, params.hue[b].item())
        assert torch.allclose(out[b], video.permute(1, 0, 2, 3), atol=1e-5)


def test_colour_jitter_probability_zero_is_identity() -> None:
    clip = torch.rand(3, 3, 2, 6, 6)
    assert torch.equal(ColorJitterClip(p=0.0)(clip), clip)
    assert torch.equal(GaussianBlurClip(p=0.0)(clip), clip)


def test_blur_and_grayscale_match_torchvision() -> None:
    clip = torch.rand(3, 3, 2, 9, 11, generator=_seeded(0))
    blur = GaussianBlurClip(kernel_size=5, p=1.0)
    params = blur.sample_params(3, _seeded(1))
    out = blur.apply_params(clip, params)
    for b in range(3):
        sigma = params.sigma[b].item()
        reference = TF.gaussian_blur(clip[b].permute(1, 0, 2, 3), [5, 5], [sigma, sigma])
        assert torch.allclose(out[b], reference.permute(1, 0, 2, 3), atol=1e-6)
    grey = RandomGrayscaleClip(p=1.0)(clip)
    reference = TF.rgb_to_grayscale(clip[0].permute(1, 0, 2, 3), num_output_channels=3)
    assert torch.allclose(grey[0], reference.permute(1, 0, 2, 3), atol=1e-6)


def test_default_blur_kernel_is_ten_percent_of_the_short_side() -> None:
    blur = GaussianBlurClip(p=1.0)
    assert blur._kernel_size(112, 150) == 11
    assert blur._kernel_size(16, 16) == 3
    assert GaussianBlurClip(kernel_size=9)._kernel_size(6, 6) == 5  # capped for reflect padding


@settings(max_examples=15, deadline=None)
@given(
    height=st.integers(4, 40),
    width=st.integers(4, 40),
    scale=st.tuples(st.floats(0.05, 1.0), st.floats(0.05, 1.0)).map(sorted),
    seed=st.integers(0, 1000),
)
def test_crop_boxes_lie_in_the_frame_with_the_drawn_area(
    height: int, width: int, scale: list[float], seed: int
) -> None:
    crop = RandomResizedCropClip(4, scale=(scale[0], scale[1]))
    params = crop.sample_params(32, height, width, _seeded(seed))
    assert bool((params.top >= 0).all())
    assert bool((params.left >= 0).all())
    assert bool((params.height >= 1).all())
    assert bool((params.width >= 1).all())
    assert bool((params.top + params.height <= height).all())
    assert bool((params.left + params.width <= width).all())


def test_crop_area_and_ratio_follow_the_ranges() -> None:
    crop = RandomResizedCropClip(8, scale=(0.3, 0.6), ratio=(0.8, 1.25))
    params = crop.sample_params(500, 200, 200, _seeded(0))
    area = (params.height * params.width).float() / 200**2
    ratio = params.width.float() / params.height.float()
    assert float(area.min()) > 0.28
    assert float(area.max()) < 0.62
    assert float(ratio.min()) > 0.75
    assert float(ratio.max()) < 1.3


def test_torchvision_v2_treats_a_tchw_tensor_as_one_video() -> None:
    # The fact the adapter relies on: v2 draws one parameter set per call for (T, C, H, W).
    torch.manual_seed(0)
    video = torch.rand(3, 1, 16, 16).expand(3, 6, 16, 16).permute(1, 0, 2, 3)  # (T, C, H, W)
    pipeline = v2.Compose([v2.RandomResizedCrop(8), v2.ColorJitter(0.4, 0.4, 0.4, 0.1)])
    out = pipeline(video)
    assert out.shape == (6, 3, 8, 8)
    assert torch.allclose(out, out[:1].expand_as(out))


def test_torchvision_adapter_is_per_clip_and_frame_consistent() -> None:
    torch.manual_seed(0)
    adapter = TorchvisionClipTransform(v2.RandomResizedCrop(8, scale=(0.1, 0.5)))
    clip = _still_batch(8, 4, 16, 16)
    out = adapter(clip)
    assert out.shape == (8, 3, 4, 8, 8)
    assert torch.allclose(out, out[:, :, :1].expand_as(out))
    distinct = {tuple(row.tolist()) for row in out[:, :, 0].flatten(1).round(decimals=4)}
    assert len(distinct) > 1
    assert adapter(clip[0]).shape == (3, 4, 8, 8)
    assert type(adapter(clip[0])) is Tensor


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_batch_augmentation_runs_on_the_clips_device() -> None:
    clip = torch.rand(4, 3, 4, 32, 32, device="cuda")
    out = moco_clip_augmentation(16)(clip, generator=_seeded(0))
    assert out.device.type == "cuda"
    assert out.shape == (4, 3, 4, 16, 16)
    cpu = moco_clip_augmentation(16)(clip.cpu(), generator=_seeded(0))
    assert torch.allclose(out.cpu(), cpu, atol=1e-4)


# --- errors -------------------------------------------------------------------------------


def test_clip_and_layout_errors() -> None:
    with pytest.raises(TypeError, match=re.escape("`clip` must be a torch.Tensor, got list")):
        RandomHorizontalFlipClip()([1, 2])
    with pytest.raises(ValueError, match=re.escape("`clip` must be a clip of shape (C, T, H, W)")):
        CenterCropClip(2)(torch.rand(3, 4, 4))
    with pytest.raises(ValueError, match=re.escape("`clip` must not have an empty dimension")):
        RandomHorizontalFlipClip()(torch.rand(0, 3, 2, 4, 4))
    with pytest.raises(ValueError, match=re.escape("`layout` must be one of 'CTHW', 'TCHW'")):
        to_float_clip(torch.rand(2, 3, 4, 4), layout="HWC")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=re.escape("`layout` must be one of 'CTHW'")):
        ToFloatClip(layout="NCHW")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=re.escape("`frames` must be 4D (TCHW) or 5D")):
        to_float_clip(torch.rand(3, 4, 4))
    with pytest.raises(TypeError, match=re.escape("`frames` must be uint8 or floating point")):
        to_float_clip(torch.zeros(2, 3, 4, 4, dtype=torch.int16))
    with pytest.raises(TypeError, match=re.escape("`size` must be an int or a pair")):
        CenterCropClip((1, 2, 3))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=re.escape("`size` must be an int >= 1, got 0")):
        ResizeShortSideClip(0)


def test_normalize_and_composition_errors() -> None:
    with pytest.raises(ValueError, match=re.escape("need one value per channel each, got 3 and 2")):
        NormalizeClip((0.5, 0.5, 0.5), (1.0, 1.0))
    with pytest.raises(ValueError, match=re.escape("`std` must be a finite number > 0, got 0.0")):
        NormalizeClip((0.5,), (0.0,))
    with pytest.raises(TypeError, match=re.escape("`clip` must be floating point to normalise")):
        NormalizeClip()(torch.zeros(3, 1, 2, 2, dtype=torch.uint8))
    with pytest.raises(ValueError, match=re.escape("has 1 channels but `mean`/`std` have 3")):
        NormalizeClip()(torch.rand(1, 1, 2, 2))
    with pytest.raises(TypeError, match=re.escape("`transforms[1]` must be callable, got int")):
        ClipCompose([CenterCropClip(2), 3])  # type: ignore[list-item]
    with pytest.raises(TypeError, match=re.escape("`transform` must be callable, got str")):
        TorchvisionClipTransform("flip")  # type: ignore[arg-type]


def test_augmentation_option_errors() -> None:
    with pytest.raises(TypeError, match=re.escape("`scale` must be a pair (low, high), got 0.5")):
        RandomResizedCropClip(8, scale=0.5)  # type: ignore[arg-type]
    with pytest.raises(
        ValueError, match=re.escape("`scale` must satisfy 0.0 <= low <= high <= 1.0, got (0.5,")
    ):
        RandomResizedCropClip(8, scale=(0.5, 0.2))
    with pytest.raises(ValueError, match=re.escape("`scale` must allow a non-empty box")):
        RandomResizedCropClip(8, scale=(0.0, 0.0))
    with pytest.raises(ValueError, match=re.escape("`ratio` must be > 0, got (0.0, 1.0)")):
        RandomResizedCropClip(8, ratio=(0.0, 1.0))
    with pytest.raises(ValueError, match=re.escape("`p` must be in the closed interval [0, 1]")):
        RandomHorizontalFlipClip(p=1.5)
    with pytest.raises(ValueError, match=re.escape("`hue` must be in [0, 0.5], got 0.7")):
        ColorJitterClip(hue=0.7)
    with pytest.raises(ValueError, match=re.escape("`brightness` must be a finite number >= 0")):
        ColorJitterClip(brightness=-0.1)
    with pytest.raises(ValueError, match=re.escape("`kernel_size` must be odd, got 4")):
        GaussianBlurClip(kernel_size=4)
    with pytest.raises(ValueError, match=re.escape("`kernel_size` must be an int >= 1, got 0")):
        GaussianBlurClip(kernel_size=0)
    with pytest.raises(ValueError, match=re.escape("`sigma` must be > 0, got (0.0, 1.0)")):
        GaussianBlurClip(sigma=(0.0, 1.0))
    with pytest.raises(ValueError, match=re.escape("`num_clips` must be an int >= 1, got 0")):
        ColorJitterClip().sample_params(0)
    with pytest.raises(ValueError, match=re.escape("`resize` must be an int >= 1, got 0")):
        eval_clip_transform(112, resize=0)


@pytest.mark.parametrize(
    ("transform", "value"),
    [
        (ColorJitterClip, 0.4),
        (GaussianBlurClip, 5),
        (RandomGrayscaleClip, 0.5),
        (RandomHorizontalFlipClip, 0.5),
    ],
)
def test_options_are_keyword_only(transform: type[torch.nn.Module], value: float) -> None:
    with pytest.raises(TypeError, match="positional argument"):
        transform(value)


def test_colour_input_errors() -> None:
    with pytest.raises(TypeError, match=re.escape("must be floating point in [0, 1] for colour")):
        ColorJitterClip()(torch.zeros(3, 1, 2, 2, dtype=torch.uint8))
    with pytest.raises(ValueError, match=re.escape("`clip` must have 3 (RGB) channels, got 1")):
        RandomGrayscaleClip(p=1.0)(torch.rand(1, 1, 2, 2))
    with pytest.raises(TypeError, match=re.escape("`clip` must be floating point to blur")):
        GaussianBlurClip()(torch.zeros(3, 1, 4, 4, dtype=torch.uint8))
