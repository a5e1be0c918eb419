"""The layout a clip transform reads: plain tensor (C, T, H, W), tv_tensors.Video (T, C, H, W)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
import torch
import torchvision.transforms.v2.functional as TF
from torch import Tensor
from torchvision import tv_tensors
from torchvision.transforms import v2

from bgdebias.data.functional import as_clip_batch, to_float_clip
from bgdebias.data.transforms import (
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

MEAN = [0.45, 0.4, 0.35]
STD = [0.25, 0.2, 0.22]

Transform = Callable[..., Tensor]


def _seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _transforms() -> dict[str, Transform]:
    return {
        "to_float": ToFloatClip(layout="CTHW"),
        "resize": ResizeShortSideClip(10),
        "center_crop": CenterCropClip((9, 11)),
        "normalize": NormalizeClip(),
        "crop": RandomResizedCropClip(12),
        "flip": RandomHorizontalFlipClip(),
        "grayscale": RandomGrayscaleClip(p=0.5),
        "jitter": ColorJitterClip(p=1.0),
        "blur": GaussianBlurClip(p=1.0),
        "moco": moco_clip_augmentation(12),
        "eval": eval_clip_transform(12),
        "compose": ClipCompose([RandomResizedCropClip(12), NormalizeClip()]),
    }


def _as_video(clip: Tensor) -> tv_tensors.Video:
    """The same clips as torchvision's video: (C, T, H, W) -> (T, C, H, W), batch kept."""
    return tv_tensors.Video(clip.transpose(-4, -3))


# --- a Video gives the plain clip's result, in its own type and layout ---------------------


@pytest.mark.parametrize("name", list(_transforms()))
@pytest.mark.parametrize("batched", [False, True], ids=["clip", "batch"])
def test_video_gets_the_result_of_the_plain_clip_in_its_own_layout(
    name: str, batched: bool
) -> None:
    transform = _transforms()[name]
    clip = torch.rand(2, 3, 5, 20, 26, generator=_seeded(1))  # (B, C, T, H, W), frames differ
    clip = clip if batched else clip[0]
    plain = transform(clip, generator=_seeded(7))
    video = transform(_as_video(clip), generator=_seeded(7))
    assert type(plain) is Tensor
    assert type(video) is tv_tensors.Video
    assert video.shape == plain.transpose(-4, -3).shape  # (..., T, C, h, w)
    assert video.is_contiguous()
    torch.testing.assert_close(
        video.as_subclass(Tensor), plain.transpose(-4, -3), rtol=0, atol=1e-6
    )


def test_apply_params_and_two_views_take_a_video() -> None:
    clip = torch.rand(4, 3, 2, 16, 18, generator=_seeded(0))
    crop = RandomResizedCropClip(8)
    params = crop.sample_params(4, 16, 18, _seeded(1))
    out = crop.apply_params(_as_video(clip), params)
    assert type(out) is tv_tensors.Video
    torch.testing.assert_close(
        out.as_subclass(Tensor), crop.apply_params(clip, params).transpose(-4, -3)
    )
    query, key = TwoViewTransform(moco_clip_augmentation(8))(_as_video(clip[0]), _seeded(2))
    plain_query, plain_key = TwoViewTransform(moco_clip_augmentation(8))(clip[0], _seeded(2))
    assert type(query) is type(key) is tv_tensors.Video
    torch.testing.assert_close(query.as_subclass(Tensor), plain_query.transpose(-4, -3))
    torch.testing.assert_close(key.as_subclass(Tensor), plain_key.transpose(-4, -3))


def test_uint8_video_becomes_a_float_video_whatever_the_layout_option() -> None:
    frames = torch.randint(0, 256, (5, 3, 4, 6), dtype=torch.uint8, generator=_seeded(0))
    for layout in ("TCHW", "CTHW", "THWC"):  # a Video is (T, C, H, W) by its type
        out = ToFloatClip(layout=layout)(tv_tensors.Video(frames))
        assert type(out) is tv_tensors.Video
        assert out.dtype == torch.float32
        torch.testing.assert_close(out.as_subclass(Tensor), frames.float() / 255)
    assert to_float_clip(frames).shape == (3, 5, 4, 6)  # plain frames: channels first


def test_torchvision_adapter_takes_a_video() -> None:
    clip = torch.rand(3, 3, 4, 16, 16, generator=_seeded(0))
    adapter = TorchvisionClipTransform(v2.RandomResizedCrop(8, scale=(0.1, 0.5)))
    torch.manual_seed(0)
    plain = adapter(clip)
    torch.manual_seed(0)
    video = adapter(_as_video(clip))
    assert type(video) is tv_tensors.Video
    torch.testing.assert_close(video.as_subclass(Tensor), plain.transpose(-4, -3))


def test_as_clip_batch_reads_a_video_in_its_layout() -> None:
    video = tv_tensors.Video(torch.rand(5, 3, 4, 4))  # (T, C, H, W)
    batch, single = as_clip_batch(video)
    assert (tuple(batch.shape), single, type(batch)) == ((1, 3, 5, 4, 4), True, Tensor)
    assert torch.equal(batch[0], video.as_subclass(Tensor).transpose(0, 1))


# --- inside torchvision's v2.Compose -------------------------------------------------------


def test_the_v2_compose_pipeline_of_the_issue_on_a_video() -> None:
    frames = torch.randint(0, 256, (8, 3, 32, 40), dtype=torch.uint8, generator=_seeded(0))
    pipeline = v2.Compose(
        [ToFloatClip(), RandomResizedCropClip(16), v2.Normalize(mean=MEAN, std=STD)]
    )
    torch.manual_seed(3)  # v2.Compose passes no generator: the global one draws
    out = pipeline(tv_tensors.Video(frames))
    assert type(out) is tv_tensors.Video
    assert out.shape == (8, 3, 16, 16)
    # By hand: the same box (drawn from the same global seed) on every frame, then normalise.
    torch.manual_seed(3)
    box = RandomResizedCropClip(16).sample_params(1, 32, 40)
    top, left, height, width = (int(value) for value in (box.top, box.left, box.height, box.width))
    cropped = TF.resized_crop(frames.float() / 255, top, left, height, width, [16, 16])
    mean, std = torch.tensor(MEAN).view(3, 1, 1), torch.tensor(STD).view(3, 1, 1)
    torch.testing.assert_close(out.as_subclass(Tensor), (cropped - mean) / std)


def test_v2_compose_mixes_both_kinds_on_a_video_batch() -> None:
    still = torch.randint(0, 256, (1, 1, 3, 24, 24), dtype=torch.uint8, generator=_seeded(0))
    videos = tv_tensors.Video(still.expand(4, 6, 3, 24, 24))  # (B, T, C, H, W): still frames
    pipeline = v2.Compose(
        [
            ToFloatClip(),
            v2.RandomHorizontalFlip(p=1.0),
            RandomResizedCropClip(12, scale=(0.1, 0.5)),
            ColorJitterClip(p=1.0),
            v2.Normalize(mean=MEAN, std=STD),
        ]
    )
    torch.manual_seed(0)
    out = pipeline(videos)
    assert type(out) is tv_tensors.Video
    assert out.shape == (4, 6, 3, 12, 12)
    torch.testing.assert_close(out, out[:, :1].expand_as(out))  # one draw shared by all frames
    distinct = {tuple(clip[0].flatten().round(decimals=4).tolist()) for clip in out}
    assert len(distinct) == 4  # but each clip of the batch draws its own


def test_plain_frames_in_torchvision_layout_are_refused_inside_v2_compose() -> None:
    frames = torch.randint(0, 256, (8, 3, 32, 40), dtype=torch.uint8)  # (T, C, H, W), plain
    pipeline = v2.Compose([v2.ToDtype(torch.float32, scale=True), RandomResizedCropClip(16)])
    with pytest.raises(ValueError, match=re.escape("looks like a (T, C, H, W) tensor")):
        pipeline(frames)
    assert pipeline(tv_tensors.Video(frames)).shape == (8, 3, 16, 16)


def test_a_sample_with_a_label_is_refused_with_a_clear_message() -> None:
    video = tv_tensors.Video(torch.rand(4, 3, 8, 8))
    with pytest.raises(
        TypeError,
        match=re.escape("`generator` must be a torch.Generator or None, got int; clip transforms"),
    ):
        v2.Compose([RandomResizedCropClip(4), v2.RandomHorizontalFlip()])(video, 3)
    for transform in _transforms().values():
        with pytest.raises(TypeError, match=re.escape("pass the video alone")):
            transform(video, "label")


# --- the channel dimension is checked -----------------------------------------------------

_SWAPPED_PLAIN = "dimension T holds 3, so this looks like a (T, C, H, W) tensor"


@pytest.mark.parametrize(
    "transform",
    [
        ResizeShortSideClip(4),
        CenterCropClip(4),
        RandomResizedCropClip(4),
        RandomHorizontalFlipClip(),
        GaussianBlurClip(),
        TorchvisionClipTransform(v2.RandomCrop(4)),
    ],
    ids=lambda transform: type(transform).__name__,
)
def test_a_plain_clip_in_frames_first_layout_names_the_swap(transform: Transform) -> None:
    frames_first = torch.rand(8, 3, 10, 12)  # (T, C, H, W) given where (C, T, H, W) is meant
    message = "must have 3 channels, got 8 (dimension C of (C, T, H, W), shape (8, 3, 10, 12))"
    with pytest.raises(ValueError, match=re.escape(message)) as error:
        transform(frames_first)
    assert _SWAPPED_PLAIN in str(error.value)
    assert "`clip.transpose(-4, -3)`" in str(error.value)
    with pytest.raises(ValueError, match=re.escape("looks like a (B, T, C, H, W) tensor")):
        transform(frames_first.unsqueeze(0))
    with pytest.raises(ValueError, match=re.escape("dimension C of (B, C, T, H, W)")):
        transform(frames_first.unsqueeze(0))


@pytest.mark.parametrize("preset", [moco_clip_augmentation(4), eval_clip_transform(4)])
def test_the_presets_name_the_swap(preset: Transform) -> None:
    message = (
        "`frames` must have 3 channels, got 8 (dimension C of (C, T, H, W), layout='CTHW', "
        "shape (8, 3, 10, 12)); it looks like (T, C, H, W) frames: pass layout='TCHW' or wrap "
        "them as `torchvision.tv_tensors.Video`"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        preset(torch.rand(8, 3, 10, 12))
    assert type(preset(tv_tensors.Video(torch.rand(8, 3, 10, 12)))) is tv_tensors.Video


def test_a_video_holding_channels_first_data_names_the_swap() -> None:
    wrong = tv_tensors.Video(torch.rand(3, 8, 10, 12))  # a (C, T, H, W) clip wrapped as Video
    message = (
        "`clip` must have 3 channels, got 8 (dimension C of (T, C, H, W), shape (3, 8, 10, 12)); "
        "dimension T holds 3, so this looks like (C, T, H, W) data wrapped as a tv_tensors.Video"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        RandomResizedCropClip(4)(wrong)
    with pytest.raises(ValueError, match=re.escape("dimension C of (B, T, C, H, W)")):
        CenterCropClip(4)(tv_tensors.Video(torch.rand(2, 3, 8, 10, 12)))


def test_colour_and_normalisation_messages_name_the_swap() -> None:
    frames_first = torch.rand(8, 3, 6, 6)
    with pytest.raises(ValueError, match=re.escape("`clip` must have 3 (RGB) channels, got 8")):
        ColorJitterClip()(frames_first)
    with pytest.raises(ValueError, match=re.escape(_SWAPPED_PLAIN)):
        RandomGrayscaleClip()(frames_first)
    message = "`clip` has 8 channels but `mean`/`std` have 3 (dimension C of (C, T, H, W)"
    with pytest.raises(ValueError, match=re.escape(message)):
        NormalizeClip()(frames_first)
    with pytest.raises(ValueError, match=re.escape(_SWAPPED_PLAIN)):
        NormalizeClip()(frames_first)


def test_to_float_clip_names_the_layout_the_frames_look_like() -> None:
    channels_first = torch.zeros(3, 8, 4, 4, dtype=torch.uint8)  # (C, T, H, W), default TCHW
    message = (
        "`frames` must have 3 channels, got 8 (dimension C of (T, C, H, W), layout='TCHW', "
        "shape (3, 8, 4, 4)); it looks like (C, T, H, W) frames: pass layout='CTHW'"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        to_float_clip(channels_first)
    with pytest.raises(ValueError, match=re.escape("pass layout='TCHW'")):
        ToFloatClip(layout="THWC")(torch.zeros(2, 8, 3, 4, 4))
    assert ToFloatClip(layout="CTHW")(channels_first).shape == (3, 8, 4, 4)


def test_other_channel_counts_pass_with_the_channels_option() -> None:
    mask = torch.rand(2, 1, 4, 8, 8)  # (B, 1, T, H, W): e.g. a foreground mask
    message = "must have 3 channels, got 1 (dimension C of (B, C, T, H, W), shape (2, 1, 4, 8, 8))"
    with pytest.raises(ValueError, match=re.escape(message + "; pass `channels=1`")):
        RandomResizedCropClip(4)(mask)
    assert RandomResizedCropClip(4, channels=1)(mask).shape == (2, 1, 4, 4, 4)
    assert RandomHorizontalFlipClip(channels=None)(mask).shape == mask.shape
    assert GaussianBlurClip(channels=1)(mask).shape == mask.shape
    assert ResizeShortSideClip(4, channels=1)(mask).shape == (2, 1, 4, 4, 4)
    assert TorchvisionClipTransform(v2.RandomCrop(4), channels=1)(mask).shape == (2, 1, 4, 4, 4)
    flow = torch.rand(5, 2, 8, 8)  # (T, 2, H, W) optical flow
    assert to_float_clip(flow, channels=2).shape == (2, 5, 8, 8)
    assert ToFloatClip(channels=None)(flow).shape == (2, 5, 8, 8)
    assert NormalizeClip((0.5,), (0.5,))(mask).shape == mask.shape  # channels = len(mean)


def test_channels_option_and_video_shape_errors() -> None:
    with pytest.raises(ValueError, match=re.escape("`channels` must be an int >= 1, got 0")):
        CenterCropClip(4, channels=0)
    with pytest.raises(TypeError, match=re.escape("`channels` must be an int, got str ('3')")):
        RandomResizedCropClip(4, channels="3")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=re.escape("`channels` must be an int >= 1, got -1")):
        to_float_clip(torch.zeros(2, 3, 4, 4), channels=-1)
    message = "`clip` is a tv_tensors.Video, read as (T, C, H, W) or (B, T, C, H, W), got 6D"
    with pytest.raises(ValueError, match=re.escape(message)):
        RandomHorizontalFlipClip()(tv_tensors.Video(torch.rand(1, 2, 3, 3, 4, 4)))


# --- plain clips: what a seeded transform does is unchanged -------------------------------


def test_seeded_draws_on_plain_clips_are_unchanged() -> None:
    # Values from the release before Video support; the benchmark figures depend on them.
    box = RandomResizedCropClip(16).sample_params(4, 40, 48, _seeded(0))
    assert box.top.tolist() == [0, 12, 5, 0]
    assert box.left.tolist() == [8, 6, 3, 6]
    assert box.height.tolist() == [34, 28, 35, 33]
    assert box.width.tolist() == [34, 33, 40, 26]
    ramp = torch.arange(3 * 4 * 40 * 48, dtype=torch.float32).view(3, 4, 40, 48) / (3 * 4 * 40 * 48)
    out = moco_clip_augmentation(16)(ramp, generator=_seeded(0))
    assert out.shape == (3, 4, 16, 16)
    assert float(out.sum()) == pytest.approx(-869.5177, rel=1e-4)
    expected = [-1.2959427, -1.1651380, -1.1051428]
    assert out[:, 0, 0, 0].tolist() == pytest.approx(expected, abs=1e-5)
    batch = moco_clip_augmentation(16)(ramp.expand(2, 3, 4, 40, 48), generator=_seeded(0))
    assert float(batch.sum()) == pytest.approx(2514.3838, rel=1e-4)
