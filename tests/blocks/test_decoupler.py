from __future__ import annotations

import math
import re

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from bgdebias import StaticDynamicDecoupler
from bgdebias.blocks import MIN_FRAME_SIDE, fame_foreground_mask
from bgdebias.blocks.decoupler import ThresholdMode
from bgdebias.blocks.functional import frame_difference_energy
from scenes import iou, moving_square_scene

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.cuda)]


def _device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    return torch.device(name)


# --- behaviour on a scene with known ground truth -------------------------------------


@pytest.mark.parametrize("threshold", ["fraction", "otsu"])
def test_clip_mask_covers_the_square_path(threshold: ThresholdMode) -> None:
    scene = moving_square_scene()
    path_fraction = scene.path.float().mean().item()
    out = StaticDynamicDecoupler(beta=path_fraction, threshold=threshold)(scene.clip)
    for b in range(scene.clip.shape[0]):
        assert iou(out.mask[b, :, 0], scene.path[b]) >= 0.5
    # One map for all frames.
    assert torch.equal(out.mask[:, :, 0], out.mask[:, :, -1])


@pytest.mark.parametrize("threshold", ["fraction", "otsu"])
def test_frame_mask_follows_the_square(threshold: ThresholdMode) -> None:
    scene = moving_square_scene()
    square_fraction = scene.square[:, :, 0].float().mean().item()
    decoupler = StaticDynamicDecoupler(beta=square_fraction, threshold=threshold, mask_mode="frame")
    out = decoupler(scene.clip)
    for b in range(scene.clip.shape[0]):
        for t in range(scene.clip.shape[2]):
            assert iou(out.mask[b, :, t], scene.square[b, :, t]) >= 0.5, (b, t)


def test_static_factor_is_the_background() -> None:
    scene = moving_square_scene()
    out = StaticDynamicDecoupler()(scene.clip)
    background = scene.background.unsqueeze(2).expand_as(scene.clip)
    never_visited = ~scene.path.unsqueeze(2).expand_as(scene.clip[:, :1]).expand_as(scene.clip)
    assert torch.equal(out.static[never_visited], background[never_visited])
    # The square covers each pixel in 2 of 8 frames, so the median removes it everywhere.
    torch.testing.assert_close(out.static, background)


def test_mean_and_random_frame_static_estimators() -> None:
    scene = moving_square_scene()
    mean = StaticDynamicDecoupler(static="mean")(scene.clip).static
    torch.testing.assert_close(mean[:, :, 0], scene.clip.mean(dim=2))
    generator = torch.Generator().manual_seed(3)
    frame = StaticDynamicDecoupler(static="random_frame")(scene.clip, generator=generator).static
    matches = [
        any(torch.equal(frame[b, :, 0], scene.clip[b, :, t]) for t in range(scene.clip.shape[2]))
        for b in range(scene.clip.shape[0])
    ]
    assert all(matches)


def test_dynamic_factor_modes() -> None:
    scene = moving_square_scene()
    masked = StaticDynamicDecoupler()(scene.clip)
    torch.testing.assert_close(masked.dynamic, scene.clip * masked.mask)
    residual = StaticDynamicDecoupler(dynamic="residual")(scene.clip)
    torch.testing.assert_close(residual.dynamic, scene.clip - residual.static)


def test_otsu_adapts_to_a_small_actor_where_a_fixed_fraction_does_not() -> None:
    scene = moving_square_scene(size=96, side=10, speed=4)  # actor covers 1% of a frame
    fixed = StaticDynamicDecoupler(beta=0.5, mask_mode="frame")(scene.clip)
    adaptive = StaticDynamicDecoupler(threshold="otsu", mask_mode="frame")(scene.clip)
    truth = scene.square
    assert iou(fixed.mask, truth) < 0.1
    assert iou(adaptive.mask, truth) > 0.5


def test_soft_mask_is_a_monotone_function_of_energy() -> None:
    scene = moving_square_scene()
    out = StaticDynamicDecoupler(soft=True, beta=0.2)(scene.clip)
    mask, energy = out.mask[0, 0, 0].flatten(), out.energy[0, 0, 0].flatten()
    order = energy.argsort()
    assert bool((mask[order].diff() >= -1e-6).all())
    assert mask.min().item() >= 0.0
    assert mask.max().item() <= 1.0
    assert len(mask.unique()) > 10


def test_blur_kernel_one_disables_blur_and_energy_matches_naive_reference() -> None:
    clip = torch.rand(1, 3, 4, 6, 6, dtype=torch.float64)
    out = StaticDynamicDecoupler(blur_kernel_size=1)(clip)
    naive = torch.zeros(6, 6, dtype=torch.float64)
    for t in range(3):
        naive += (clip[0, :, t + 1] - clip[0, :, t]).abs().mean(dim=0) / 3
    naive = (naive - naive.min()) / (naive.max() - naive.min())
    torch.testing.assert_close(out.energy[0, 0, 0], naive)


# --- degenerate and bad input ----------------------------------------------------------


def test_static_clip_has_defined_empty_mask_and_finite_outputs() -> None:
    frame = torch.rand(3, 3, 1, 16, 16)
    clip = frame.expand(3, 3, 6, 16, 16)
    for options in ({}, {"soft": True}, {"threshold": "otsu"}, {"mask_mode": "frame"}):
        out = StaticDynamicDecoupler(**options)(clip)
        assert not out.has_motion.any()
        assert out.mask.abs().sum() == 0
        for tensor in (out.static, out.dynamic, out.mask, out.energy):
            assert torch.isfinite(tensor).all()


def test_expanded_clip_gives_the_same_result_as_a_contiguous_one() -> None:
    # Regression: torch.median is wrong along stride-0 dimensions.
    clip = moving_square_scene().clip[:, :, :1].expand(-1, -1, 6, -1, -1)
    for mode in ("clip", "frame"):
        expanded = StaticDynamicDecoupler(mask_mode=mode)(clip)
        contiguous = StaticDynamicDecoupler(mask_mode=mode)(clip.contiguous())
        assert torch.equal(expanded.static, contiguous.static)
        assert torch.equal(expanded.mask, contiguous.mask)


def test_non_finite_input_raises_by_default() -> None:
    clip = torch.rand(2, 3, 4, 8, 8)
    clip[0, 1, 2, 3, 4] = float("nan")
    with pytest.raises(ValueError, match=re.escape("`clip` contains 1 non-finite values")):
        StaticDynamicDecoupler()(clip)


def test_non_finite_input_can_propagate_without_touching_other_clips() -> None:
    clip = torch.rand(2, 3, 4, 8, 8)
    clean = StaticDynamicDecoupler(check_finite=False)(clip)
    clip[0, 1, 2, 3, 4] = float("inf")
    dirty = StaticDynamicDecoupler(check_finite=False)(clip)
    for name in ("static", "dynamic", "mask", "energy"):
        torch.testing.assert_close(getattr(dirty, name)[1], getattr(clean, name)[1])


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"beta": 0.0}, ValueError, "`beta` must be in the open interval (0, 1), got 0.0"),
        ({"beta": 1.5}, ValueError, "`beta` must be in the open interval (0, 1), got 1.5"),
        ({"beta": "half"}, TypeError, "`beta` must be a number, got str"),
        ({"threshold": "mean"}, ValueError, "`threshold` must be one of 'fraction', 'otsu'"),
        ({"mask_mode": "pixel"}, ValueError, "`mask_mode` must be one of 'clip', 'frame'"),
        ({"static": "max"}, ValueError, "`static` must be one of 'median', 'mean', 'random_frame'"),
        ({"dynamic": "x"}, ValueError, "`dynamic` must be one of 'masked', 'residual'"),
        ({"blur_kernel_size": 4}, ValueError, "`blur_kernel_size` must be odd, got 4"),
        ({"blur_kernel_size": 0}, ValueError, "`blur_kernel_size` must be an int >= 1, got 0"),
        ({"soft_temperature": 0}, ValueError, "`soft_temperature` must be a finite number > 0"),
        ({"channels": 0}, ValueError, "`channels` must be an int >= 1, got 0"),
        ({"channels": 3.0}, TypeError, "`channels` must be an int, got float"),
        (
            {"threshold": "fame", "channels": 1},
            ValueError,
            "`threshold='fame'` bins RGB colours: `channels` must be 3 (or None), got 1",
        ),
    ],
)
def test_bad_options(kwargs: dict[str, object], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=re.escape(message)):
        StaticDynamicDecoupler(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("clip", "error", "message"),
    [
        (torch.rand(3, 4, 8, 8), ValueError, "`clip` must be a 5D tensor of shape (B, C, T, H, W)"),
        (torch.zeros(1, 3, 4, 8, 8, dtype=torch.uint8), TypeError, "floating-point dtype"),
        (torch.rand(1, 3, 1, 8, 8), ValueError, "at least 2 frames"),
        ([[1.0]], TypeError, "`clip` must be a torch.Tensor, got list"),
    ],
)
def test_bad_clips(clip: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=re.escape(message)):
        StaticDynamicDecoupler()(clip)


# --- layout and smallest frame ----------------------------------------------------------------


def test_a_batch_laid_out_b_t_c_h_w_is_rejected_with_the_expected_layout() -> None:
    clips = moving_square_scene(size=16).clip.permute(0, 2, 1, 3, 4)  # 8 frames of 3 channels
    message = (
        "`clip` must have C=3 channels in dimension 1 of the layout (B, C, T, H, W), got C=8 "
        "in shape (2, 8, 3, 16, 16); this looks like a (B, T, C, H, W) batch of 8 frames: "
        "pass `clip.permute(0, 2, 1, 3, 4)`; if the clips really have 8 channels, build the "
        "StaticDynamicDecoupler (also the one given to a mixer) with `channels=8`"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        StaticDynamicDecoupler()(clips)
    fixed = StaticDynamicDecoupler()(clips.permute(0, 2, 1, 3, 4))
    assert fixed.mask.shape == (2, 1, 8, 16, 16)


def test_a_channels_last_batch_is_rejected_with_its_permutation() -> None:
    clips = torch.rand(2, 4, 16, 16, 3)  # (B, T, H, W, C)
    with pytest.raises(ValueError, match=re.escape("channels-last (B, T, H, W, C) batch of 4")):
        StaticDynamicDecoupler()(clips)
    with pytest.raises(ValueError, match=re.escape("pass `clip.permute(0, 4, 1, 2, 3)`")):
        StaticDynamicDecoupler()(clips)


def test_channels_option_accepts_other_channel_counts() -> None:
    grey = moving_square_scene(size=16).clip[:, :1]
    with pytest.raises(ValueError, match=re.escape("must have C=3 channels")):
        StaticDynamicDecoupler()(grey)
    assert StaticDynamicDecoupler(channels=1)(grey).mask.shape == (2, 1, 8, 16, 16)
    assert StaticDynamicDecoupler(channels=None)(grey).mask.shape == (2, 1, 8, 16, 16)
    with pytest.raises(ValueError, match=re.escape("must have C=1 channels")):
        StaticDynamicDecoupler(channels=1)(moving_square_scene(size=16).clip)


@pytest.mark.parametrize(
    ("height", "width"), [(MIN_FRAME_SIDE - 1, 16), (16, MIN_FRAME_SIDE - 1), (1, 16), (16, 1)]
)
def test_frames_smaller_than_the_minimum_are_rejected(height: int, width: int) -> None:
    clip = torch.rand(2, 3, 4, height, width)
    message = (
        f"`clip` frames must be at least {MIN_FRAME_SIDE} x {MIN_FRAME_SIDE} pixels (dimensions "
        f"H and W of (B, C, T, H, W)), got H={height}, W={width} in shape (2, 3, 4, {height}, "
        f"{width})"
    )
    for options in ({}, {"threshold": "noise", "mask_mode": "frame"}, {"threshold": "fame"}):
        with pytest.raises(ValueError, match=re.escape(message)):
            StaticDynamicDecoupler(**options)(clip)  # type: ignore[arg-type]


def _square_in_the_smallest_frame() -> tuple[torch.Tensor, torch.Tensor]:
    """A 2 x 2 square moving two pixels right between two 4 x 4 frames, and its path."""
    assert MIN_FRAME_SIDE == 4
    texture = torch.tensor([0.30, 0.34, 0.28, 0.32]).view(1, 1, 1, 1, 4)
    clip = (texture + 0.03 * torch.arange(4.0).view(1, 1, 1, 4, 1)).expand(1, 3, 2, 4, 4).clone()
    clip[0, :, 0, 1:3, 0:2] = 0.9
    clip[0, :, 1, 1:3, 2:4] = 0.9
    path = torch.zeros(4, 4, dtype=torch.bool)
    path[1:3, :] = True
    return clip, path


@pytest.mark.parametrize(
    "options",
    [
        {"beta": 8 / 16},
        {"threshold": "otsu"},
        {"threshold": "otsu", "mask_mode": "frame"},
        {"threshold": "noise", "mask_mode": "frame"},
    ],
)
def test_the_smallest_frame_is_accepted_and_its_mask_finds_the_square(
    options: dict[str, object],
) -> None:
    clip, path = _square_in_the_smallest_frame()
    out = StaticDynamicDecoupler(**options)(clip)  # type: ignore[arg-type]
    assert out.has_motion.tolist() == [True]
    union_of_masks = out.mask[0, 0].amax(dim=0)
    assert iou(union_of_masks, path) >= 0.5


def test_blur_kernel_larger_than_frame() -> None:
    with pytest.raises(ValueError, match=re.escape("`blur_kernel_size` (9) must not exceed")):
        StaticDynamicDecoupler(blur_kernel_size=9)(torch.rand(1, 3, 4, 8, 16))


# --- threshold="fame" ------------------------------------------------------------------------


def test_fame_threshold_gives_fames_mask_as_an_expanded_view() -> None:
    scene = moving_square_scene(size=40)
    clip = scene.clip.clone()
    clip[1] = clip[1, :, :1]  # the second clip does not move
    out = StaticDynamicDecoupler(threshold="fame", beta=0.3)(clip)
    expected = fame_foreground_mask(clip, beta=0.3)
    expected[1] = 0.0
    assert out.mask.shape == (2, 1, 8, 40, 40)
    assert out.mask.stride(2) == 0
    assert torch.equal(out.mask[:, 0, 0], expected)
    assert torch.equal(out.mask[:, :, -1], out.mask[:, :, 0])
    assert out.mask[0].sum().item() == 8 * int(0.3 * 40 * 40)
    assert out.has_motion.tolist() == [True, False]
    assert torch.equal(out.dynamic, clip * out.mask)
    assert out.energy.min() >= 0
    assert out.energy.max() <= 1
    assert out.energy[1].sum() == 0


def test_fame_threshold_keeps_the_empty_mask_rule_for_static_clips() -> None:
    still = torch.rand(2, 3, 1, 24, 24).expand(-1, -1, 4, -1, -1)
    out = StaticDynamicDecoupler(threshold="fame")(still)
    assert not out.has_motion.any()
    assert out.mask.abs().sum() == 0


def test_fame_threshold_keeps_the_dtype() -> None:
    clip = moving_square_scene(size=32).clip
    for dtype in (torch.float64, torch.bfloat16):
        low = clip.to(dtype)
        out = StaticDynamicDecoupler(threshold="fame")(low)
        assert out.mask.dtype == out.energy.dtype == dtype
        reference = StaticDynamicDecoupler(threshold="fame")(low.float()).mask
        assert torch.equal(out.mask.float(), reference)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mask_mode": "frame"}, "`threshold='fame'` needs `mask_mode='clip'`"),
        ({"mask_mode": "frame"}, "got mask_mode='frame'"),
        ({"soft": True}, "`threshold='fame'` gives a hard mask: `soft` must be False, got True"),
        ({"blur_kernel_size": 5}, "`blur_kernel_size` must be None, got 5"),
    ],
)
def test_fame_threshold_rejects_options_it_ignores(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        StaticDynamicDecoupler(threshold="fame", **kwargs)  # type: ignore[arg-type]


def test_fame_threshold_needs_raw_rgb_clips() -> None:
    clip = moving_square_scene(size=24).clip
    normalised = (clip - 0.45) / 0.225
    with pytest.raises(ValueError, match=re.escape("`clip` must hold RGB values in [0, 1]")):
        StaticDynamicDecoupler(threshold="fame")(normalised)
    unchecked = StaticDynamicDecoupler(threshold="fame", check_finite=False)(normalised)
    assert unchecked.mask[:, :, 0].sum(dim=(1, 2, 3)).tolist() == [int(0.5 * 24 * 24)] * 2
    with pytest.raises(ValueError, match=re.escape("`clip` must have C=3 channels")):
        StaticDynamicDecoupler(threshold="fame")(clip[:, :2])
    with pytest.raises(ValueError, match=re.escape("FAME's colour histograms need RGB frames")):
        StaticDynamicDecoupler(threshold="fame", channels=None)(clip[:, :2])


# --- properties ---------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    batch=st.integers(1, 3),
    frames=st.integers(2, 6),
    height=st.integers(MIN_FRAME_SIDE, 20),
    width=st.integers(MIN_FRAME_SIDE, 20),
    beta=st.floats(0.05, 0.95),
    mask_mode=st.sampled_from(["clip", "frame"]),
    seed=st.integers(0, 2**16),
)
def test_hard_mask_fraction_equals_beta(
    batch: int, frames: int, height: int, width: int, beta: float, mask_mode: str, seed: int
) -> None:
    clip = torch.rand(
        batch, 2, frames, height, width, generator=torch.Generator().manual_seed(seed)
    )
    decoupler = StaticDynamicDecoupler(beta=beta, mask_mode=mask_mode, channels=2)  # type: ignore[arg-type]
    out = decoupler(clip)
    expected = max(1, round(beta * height * width))
    counts = out.mask.sum(dim=(1, 3, 4))
    assert torch.all(counts == expected)
    assert out.mask.shape == (batch, 1, frames, height, width)
    assert out.static.shape == out.dynamic.shape == clip.shape
    assert out.energy.min() >= 0
    assert out.energy.max() <= 1


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16, torch.float16])
@pytest.mark.parametrize("device", DEVICES)
def test_dtypes_and_devices_are_respected(dtype: torch.dtype, device: str) -> None:
    scene = moving_square_scene(dtype=dtype)
    clip = scene.clip.to(_device(device))
    out = StaticDynamicDecoupler(beta=scene.path.float().mean().item())(clip)
    for tensor in (out.static, out.dynamic, out.mask, out.energy):
        assert tensor.dtype == dtype
        assert tensor.device == clip.device
        assert torch.isfinite(tensor).all()
    assert iou(out.mask[:, :, 0].cpu(), scene.path) >= 0.5


@pytest.mark.parametrize("options", [{}, {"mask_mode": "frame"}, {"threshold": "otsu"}])
def test_masks_stay_float32_under_autocast(options: dict[str, str]) -> None:
    """Regression: under CPU bf16 autocast the blur ran in bf16 and flipped mask pixels."""
    clip = torch.rand(4, 3, 8, 56, 56, generator=torch.Generator().manual_seed(0))
    decoupler = StaticDynamicDecoupler(**options)  # type: ignore[arg-type]
    full = decoupler(clip)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mixed = decoupler(clip)
    for name in ("mask", "energy"):
        assert getattr(mixed, name).dtype == torch.float32, name
        assert torch.equal(getattr(mixed, name), getattr(full, name)), name


def test_random_frame_is_deterministic_with_a_seeded_generator() -> None:
    clip = torch.rand(4, 3, 6, 8, 8)
    decoupler = StaticDynamicDecoupler(static="random_frame")
    first = decoupler(clip, generator=torch.Generator().manual_seed(7)).static
    second = decoupler(clip, generator=torch.Generator().manual_seed(7)).static
    assert torch.equal(first, second)


def test_works_under_no_grad_and_gives_gradients_through_soft_mixing() -> None:
    clip = torch.rand(2, 3, 4, 12, 12, requires_grad=True)
    with torch.no_grad():
        assert not StaticDynamicDecoupler()(clip).dynamic.requires_grad
    StaticDynamicDecoupler(soft=True)(clip).dynamic.sum().backward()
    assert clip.grad is not None
    assert torch.isfinite(clip.grad).all()


def test_background_of_decoupled_clip_has_zero_motion_energy() -> None:
    out = StaticDynamicDecoupler()(moving_square_scene().clip)
    assert frame_difference_energy(out.static).abs().max().item() == 0.0


def test_auto_kernel_is_about_ten_percent() -> None:
    from bgdebias.blocks.functional import auto_blur_kernel_size

    assert auto_blur_kernel_size(112, 160) == 11
    assert auto_blur_kernel_size(224, 224) == 23
    assert all(auto_blur_kernel_size(s, s) % 2 == 1 for s in range(3, 300))
    assert math.isclose(auto_blur_kernel_size(300, 300), 31)
