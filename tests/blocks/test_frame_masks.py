"""The noise-gated per-frame mask: ``StaticDynamicDecoupler(threshold="noise")`` and its helpers."""

from __future__ import annotations

import re

import pytest
import torch

from bgdebias import StaticDynamicDecoupler
from bgdebias.blocks.motion_energy import (
    NOISE_FLOOR,
    NOISE_K,
    clip_noise_level,
    leave_one_out_residual_energy,
    median3_filter_maps,
    noise_gated_mask,
    static_residual_energy,
    temporal_middle_values,
)
from scenes import iou, moving_square_scene


def _noise_decoupler(**kwargs: object) -> StaticDynamicDecoupler:
    return StaticDynamicDecoupler(threshold="noise", mask_mode="frame", **kwargs)  # type: ignore[arg-type]


# --- helpers: hand-computed values ---------------------------------------------------------


def test_median3_filter_by_hand() -> None:
    maps = torch.tensor(
        [
            [
                [0.0, 0.0, 0.0, 0.0, 0.0],
                [0.0, 9.0, 0.0, 0.0, 0.0],  # an isolated spike
                [0.0, 0.0, 0.0, 4.0, 4.0],  # a 2x2 block at the right border
                [0.0, 0.0, 0.0, 4.0, 4.0],
            ]
        ]
    )
    expected = torch.tensor(
        [
            [
                [0.0, 0.0, 0.0, 0.0, 0.0],
                [0.0, 0.0, 0.0, 0.0, 0.0],
                [0.0, 0.0, 0.0, 4.0, 4.0],
                [0.0, 0.0, 0.0, 4.0, 4.0],
            ]
        ]
    )
    assert torch.equal(median3_filter_maps(maps), expected)


def test_median3_filter_is_rows_then_columns_of_three() -> None:
    maps = torch.rand(3, 7, 9, generator=torch.Generator().manual_seed(0))

    def median_of_three(values: torch.Tensor) -> torch.Tensor:  # along the last dim
        padded = torch.cat([values[..., :1], values, values[..., -1:]], dim=-1)
        return padded.unfold(-1, 3, 1).median(dim=-1).values

    expected = median_of_three(median_of_three(maps).transpose(1, 2)).transpose(1, 2)
    torch.testing.assert_close(median3_filter_maps(maps), expected, rtol=0, atol=0)


def test_median3_filter_keeps_single_rows_and_columns_finite() -> None:
    line = torch.tensor([[[0.0, 5.0, 0.0, 1.0]]])  # H = 1: only the row pass acts
    assert median3_filter_maps(line).tolist() == [[[0.0, 0.0, 1.0, 1.0]]]
    assert median3_filter_maps(torch.ones(2, 1, 1)).tolist() == [[[1.0]], [[1.0]]]


def test_clip_noise_level_by_hand() -> None:
    energy = torch.tensor([0.01, 0.02, 0.03, 0.5, 0.9]).view(1, 1, 1, 5)
    assert clip_noise_level(energy).item() == pytest.approx(0.03)
    # Two clips are independent; a noise-free clip gets the floor of one 8-bit step.
    both = torch.cat([energy, torch.zeros_like(energy)])
    levels = clip_noise_level(both).flatten().tolist()
    assert levels == pytest.approx([0.03, 1 / 255])
    assert clip_noise_level(torch.zeros(1, 2, 3, 3), floor=0.1).item() == pytest.approx(0.1)


def test_noise_gated_mask_by_hand() -> None:
    # One clip of two 1x5 frames; the median of its 10 values is 0.01, so the gate is 0.06.
    energy = torch.tensor([[[[0.01, 0.01, 0.059, 0.061, 0.2]], [[0.01, 0.01, 0.01, 0.01, 0.0]]]])
    mask = noise_gated_mask(energy)
    assert mask.shape == energy.shape
    assert mask.tolist() == [[[[0.0, 0.0, 0.0, 1.0, 1.0]], [[0.0, 0.0, 0.0, 0.0, 0.0]]]]
    # A stricter gate drops the pixel at 6.1 noise levels.
    assert noise_gated_mask(energy, 7.0)[0, 0].tolist() == [[0.0, 0.0, 0.0, 0.0, 1.0]]


def test_noise_gated_mask_soft_is_one_half_at_the_gate() -> None:
    energy = torch.tensor([[[[0.01, 0.01, 0.01, 0.06, 0.2]]]])
    soft = noise_gated_mask(energy, soft=True, temperature=0.1)
    assert soft[0, 0, 0, 3].item() == pytest.approx(0.5, abs=1e-5)
    assert soft[0, 0, 0, 4].item() > 0.99
    assert soft[0, 0, 0, 0].item() < 1e-3
    off_gate = [0, 1, 2, 4]  # at exactly the gate the hard mask says 0 and soft 0.5
    assert torch.equal((soft > 0.5)[..., off_gate], (noise_gated_mask(energy) > 0.5)[..., off_gate])


def test_noise_gated_mask_constant_maps_are_empty() -> None:
    assert noise_gated_mask(torch.zeros(2, 3, 4, 4)).sum().item() == 0.0
    flash = torch.full((1, 1, 4, 4), 0.8)  # a whole frame changes by the same amount
    assert noise_gated_mask(flash).sum().item() == 0.0
    assert noise_gated_mask(flash, soft=True).sum().item() == 0.0


def test_temporal_middle_values_even_and_odd() -> None:
    clip = torch.rand(2, 3, 6, 5, 4, generator=torch.Generator().manual_seed(1))
    lower, upper = temporal_middle_values(clip)
    assert lower.shape == upper.shape == (2, 3, 1, 5, 4)
    ordered = clip.sort(dim=2).values
    assert torch.equal(lower, ordered[:, :, 2:3])
    assert torch.equal(upper, ordered[:, :, 3:4])
    assert torch.equal(lower, clip.median(dim=2, keepdim=True).values)
    odd_lower, odd_upper = temporal_middle_values(clip[:, :, :5])
    assert torch.equal(odd_lower, odd_upper)
    assert torch.equal(odd_lower, clip[:, :, :5].median(dim=2, keepdim=True).values)


@pytest.mark.parametrize("frames", [2, 4, 8])
def test_leave_one_out_energy_is_the_median_of_the_other_frames(frames: int) -> None:
    clip = torch.rand(2, 3, frames, 4, 5, generator=torch.Generator().manual_seed(frames))
    lower, upper = temporal_middle_values(clip)
    energy = leave_one_out_residual_energy(clip, lower, upper)
    assert energy.shape == (2, frames, 4, 5)
    for t in range(frames):
        others = torch.cat([clip[:, :, :t], clip[:, :, t + 1 :]], dim=2)  # odd count
        median = others.median(dim=2).values
        expected = (clip[:, :, t] - median).abs().mean(dim=1)
        torch.testing.assert_close(energy[:, t], expected)


def test_leave_one_out_energy_for_odd_frames_is_the_median_residual() -> None:
    clip = torch.rand(1, 3, 5, 4, 4, generator=torch.Generator().manual_seed(2))
    lower, upper = temporal_middle_values(clip)
    expected = static_residual_energy(clip, clip.median(dim=2, keepdim=True).values)
    torch.testing.assert_close(leave_one_out_residual_energy(clip, lower, upper), expected)


# --- the decoupler option ----------------------------------------------------------------


def test_tiny_clip_mask_by_hand() -> None:
    # A flat grey scene; a white 2x2 actor steps 2 pixels right each frame, so every pixel
    # shows it in at most one of 4 frames: the energy is 0.5 on the actor, 0 elsewhere, the
    # clip's noise level is the floor (1/255) and the gate 6/255.
    clip = torch.full((1, 3, 4, 4, 8), 0.5)
    truth = torch.zeros(1, 1, 4, 4, 8)
    for t in range(4):
        clip[0, :, t, 1:3, 2 * t : 2 * t + 2] = 1.0
        truth[0, 0, t, 1:3, 2 * t : 2 * t + 2] = 1.0
    out = _noise_decoupler()(clip)
    assert torch.equal(out.mask, truth)
    assert torch.equal(out.energy, truth)  # min-max normalised: 0 and 1
    assert torch.equal(out.static, torch.full_like(clip, 0.5))
    assert torch.equal(out.dynamic, clip * truth)
    assert out.has_motion.tolist() == [True]


def test_static_clip_gives_an_empty_mask() -> None:
    frame = torch.rand(2, 3, 1, 12, 16, generator=torch.Generator().manual_seed(3))
    clip = frame.expand(-1, -1, 8, -1, -1)
    out = _noise_decoupler()(clip)
    assert out.mask.sum().item() == 0.0
    assert out.energy.sum().item() == 0.0
    assert out.has_motion.tolist() == [False, False]
    assert torch.equal(out.static, clip.contiguous())
    for name in ("static", "dynamic", "mask", "energy"):
        assert torch.isfinite(getattr(out, name)).all(), name


@pytest.mark.parametrize("mask_mode", ["frame", "clip"])
@pytest.mark.parametrize("soft", [False, True])
def test_shapes_range_and_no_nan(mask_mode: str, soft: bool) -> None:
    clip = torch.rand(3, 3, 6, 10, 14, generator=torch.Generator().manual_seed(4))
    out = StaticDynamicDecoupler(threshold="noise", mask_mode=mask_mode, soft=soft)(clip)  # type: ignore[arg-type]
    assert out.static.shape == out.dynamic.shape == clip.shape
    assert out.mask.shape == out.energy.shape == (3, 1, 6, 10, 14)
    for name in ("static", "dynamic", "mask", "energy"):
        assert torch.isfinite(getattr(out, name)).all(), name
    assert out.mask.min().item() >= 0.0
    assert out.mask.max().item() <= 1.0
    assert out.energy.min().item() >= 0.0
    assert out.energy.max().item() <= 1.0
    if not soft:
        assert set(out.mask.unique().tolist()) <= {0.0, 1.0}
    if mask_mode == "clip":
        assert torch.equal(out.mask[:, :, 0], out.mask[:, :, -1])


def test_follows_the_square_on_a_textured_scene() -> None:
    scene = moving_square_scene()
    out = _noise_decoupler()(scene.clip)
    for b in range(scene.clip.shape[0]):
        for t in range(scene.clip.shape[2]):
            assert iou(out.mask[b, :, t], scene.square[b, :, t]) >= 0.9, (b, t)


def test_frames_with_only_noise_stay_nearly_empty() -> None:
    # Sensor noise everywhere; the square moves in frames 0-3 and is gone in frames 4-7.
    generator = torch.Generator().manual_seed(5)
    clip = 0.5 + 0.02 * torch.randn(2, 3, 8, 48, 48, generator=generator)
    square = torch.zeros(2, 1, 8, 48, 48, dtype=torch.bool)
    for t in range(4):
        square[:, :, t, 10:20, 4 + 8 * t : 14 + 8 * t] = True
    clip = torch.where(square, torch.tensor(0.9), clip)
    noise = _noise_decoupler()(clip)
    otsu = StaticDynamicDecoupler(threshold="otsu", mask_mode="frame")(clip)
    for b in range(2):
        for t in range(4):
            assert iou(noise.mask[b, :, t], square[b, :, t]) >= 0.8, (b, t)
    assert noise.mask[:, :, 4:].mean().item() < 0.01
    assert otsu.mask[:, :, 4:].mean().item() > 0.05  # Otsu always splits a frame in two


def test_static_factor_is_the_plain_median() -> None:
    clip = torch.rand(2, 3, 8, 9, 11, generator=torch.Generator().manual_seed(6))
    noise = _noise_decoupler()(clip)
    otsu = StaticDynamicDecoupler(threshold="otsu", mask_mode="frame")(clip)
    assert torch.equal(noise.static, otsu.static)
    mean = _noise_decoupler(static="mean")(clip)
    torch.testing.assert_close(mean.static, clip.mean(dim=2, keepdim=True).expand_as(clip))
    assert torch.equal(mean.mask, noise.mask)  # the mask never depends on the estimator


def test_deterministic_and_batch_independent() -> None:
    clip = torch.rand(4, 3, 8, 16, 16, generator=torch.Generator().manual_seed(7))
    decoupler = _noise_decoupler()
    whole = decoupler(clip)
    assert torch.equal(whole.mask, decoupler(clip).mask)
    for b in range(4):
        assert torch.equal(decoupler(clip[b : b + 1]).mask, whole.mask[b : b + 1])


def test_non_finite_input_touches_only_its_clip() -> None:
    clip = torch.rand(2, 3, 4, 8, 8, generator=torch.Generator().manual_seed(8))
    clean = _noise_decoupler(check_finite=False)(clip)
    clip[0, 1, 2, 3, 4] = float("nan")
    dirty = _noise_decoupler(check_finite=False)(clip)
    for name in ("static", "dynamic", "mask", "energy"):
        torch.testing.assert_close(getattr(dirty, name)[1], getattr(clean, name)[1])
    with pytest.raises(ValueError, match="non-finite"):
        _noise_decoupler()(clip)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_other_dtypes(dtype: torch.dtype) -> None:
    scene = moving_square_scene(dtype=dtype)
    out = _noise_decoupler()(scene.clip)
    assert out.mask.dtype == out.static.dtype == dtype
    assert iou(out.mask[0, :, 3].float(), scene.square[0, :, 3]) >= 0.9


def test_noise_k_moves_the_gate() -> None:
    generator = torch.Generator().manual_seed(9)
    clip = 0.5 + 0.02 * torch.randn(1, 3, 8, 32, 32, generator=generator)
    clip[:, :, 0, 8:16, 8:16] += 0.1  # a faint actor in frame 0: a few noise levels
    loose = _noise_decoupler(noise_k=2.0)(clip).mask[0, 0, 0]
    strict = _noise_decoupler(noise_k=20.0)(clip).mask[0, 0, 0]
    assert loose[8:16, 8:16].mean().item() > 0.9
    assert strict.sum().item() == 0.0


def test_defaults_are_unchanged() -> None:
    decoupler = StaticDynamicDecoupler()
    assert decoupler.threshold == "fraction"
    assert decoupler.mask_mode == "clip"
    assert decoupler.noise_k == NOISE_K == 6.0
    assert pytest.approx(1 / 255) == NOISE_FLOOR
    assert "noise_k=6.0" in repr(_noise_decoupler())
    assert "noise_k" not in repr(decoupler)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"noise_k": 0.0}, "`noise_k` must be a finite number > 0"),
        ({"noise_k": -1.0}, "`noise_k` must be a finite number > 0"),
        ({"blur_kernel_size": 3}, "`blur_kernel_size` must be None, got 3"),
    ],
)
def test_bad_options(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        _noise_decoupler(**kwargs)


def test_unknown_threshold_lists_noise() -> None:
    with pytest.raises(ValueError, match="'noise'"):
        StaticDynamicDecoupler(threshold="gate")  # type: ignore[arg-type]
