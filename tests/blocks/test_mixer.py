from __future__ import annotations

import re

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from bgdebias import SemiNegativePairMixer, StaticDynamicDecoupler
from bgdebias.blocks import MIN_FRAME_SIDE
from bgdebias.blocks.functional import frame_difference_energy
from scenes import moving_square_scene


def _frame_mixer(scene_beta: float) -> SemiNegativePairMixer:
    return SemiNegativePairMixer(StaticDynamicDecoupler(beta=scene_beta, mask_mode="frame"))


def test_mixed_keeps_the_actor_and_shows_the_partner_background() -> None:
    scene = moving_square_scene(batch=3)
    beta = scene.square[:, :, 0].float().mean().item()
    out = _frame_mixer(beta)(scene.clip, generator=torch.Generator().manual_seed(0))
    for i in range(3):
        j = int(out.partner[i])
        square = scene.square[i].expand(3, -1, -1, -1)
        # The actor's pixels, where the mask found them, are the clip's own.
        kept = out.mask[i].expand(3, -1, -1, -1) > 0.5
        assert torch.equal(out.mixed[i][kept], scene.clip[i][kept])
        assert (kept & square).sum() >= 0.9 * square.sum()
        # Everywhere else: the partner's background.
        partner_background = scene.background[j].unsqueeze(1).expand_as(scene.clip[i])
        torch.testing.assert_close(out.mixed[i][~kept], partner_background[~kept])


def test_background_is_the_own_scene_without_motion() -> None:
    scene = moving_square_scene(batch=3)
    out = SemiNegativePairMixer()(scene.clip)
    expected = scene.background.unsqueeze(2).expand_as(scene.clip)
    torch.testing.assert_close(out.background, expected)
    assert frame_difference_energy(out.background).abs().max().item() == 0.0


def test_full_clip_background_is_fame_merge() -> None:
    scene = moving_square_scene(batch=2)
    out = SemiNegativePairMixer(background="clip", partner="roll")(scene.clip)
    mask = out.mask
    expected = mask * scene.clip + (1 - mask) * scene.clip.roll(-1, dims=0)
    torch.testing.assert_close(out.mixed, expected)
    assert out.partner.tolist() == [1, 0]


def test_mixing_formula_against_naive_loop_with_soft_masks() -> None:
    clip = torch.rand(4, 3, 5, 10, 10, dtype=torch.float64)
    mixer = SemiNegativePairMixer(StaticDynamicDecoupler(soft=True))
    out = mixer(clip, generator=torch.Generator().manual_seed(1))
    decoupled = mixer.decoupler(clip)
    for i in range(4):
        j = int(out.partner[i])
        mask = decoupled.mask[i]
        naive = mask * clip[i] + (1 - mask) * decoupled.static[j]
        torch.testing.assert_close(out.mixed[i], naive)


def test_mix_prob_zero_passes_clips_through_and_mix_prob_half_mixes_some() -> None:
    clip = torch.rand(64, 3, 3, 6, 6)
    untouched = SemiNegativePairMixer(mix_prob=0.0)(clip)
    assert torch.equal(untouched.mixed, clip)
    assert not untouched.applied.any()
    half = SemiNegativePairMixer(mix_prob=0.5)(clip, generator=torch.Generator().manual_seed(0))
    assert 16 < int(half.applied.sum()) < 48
    assert torch.equal(half.mixed[~half.applied], clip[~half.applied])


def test_motionless_clip_is_not_mixed_and_flagged() -> None:
    clip = torch.rand(3, 3, 4, 8, 8)
    clip[1] = clip[1, :, :1].expand(-1, 4, -1, -1)
    out = SemiNegativePairMixer()(clip, generator=torch.Generator().manual_seed(0))
    assert out.has_motion.tolist() == [True, False, True]
    assert not out.applied[1]
    assert torch.equal(out.mixed[1], clip[1])
    assert torch.isfinite(out.mixed).all()


def test_clip_whose_motion_is_all_under_the_mask_gate_is_not_mixed() -> None:
    scene = moving_square_scene(batch=3)
    clip = scene.clip.clone()
    # Clip 1: its own scene, nothing moving but faint sensor noise in every frame.
    noise = torch.rand(clip[1].shape, generator=torch.Generator().manual_seed(3))
    clip[1] = scene.background[1].unsqueeze(1) + 0.01 * noise
    mixer = SemiNegativePairMixer(StaticDynamicDecoupler(threshold="noise", mask_mode="frame"))
    out = mixer(clip, generator=torch.Generator().manual_seed(0))
    assert out.has_motion.tolist() == [True, True, True]
    assert out.mask[1].max().item() == 0.0
    assert out.applied.tolist() == [True, False, True]
    assert torch.equal(out.mixed[1], clip[1])
    assert not torch.equal(out.mixed[0], clip[0])


def test_mixing_commutes_with_channel_normalisation() -> None:
    scene = moving_square_scene(batch=3)
    mean = torch.tensor([0.43, 0.39, 0.37]).view(1, 3, 1, 1, 1)
    std = 0.225

    def normalise(x: torch.Tensor) -> torch.Tensor:
        return (x - mean) / std

    mixer = SemiNegativePairMixer()
    raw = mixer(scene.clip, generator=torch.Generator().manual_seed(5))
    normalised = mixer(normalise(scene.clip), generator=torch.Generator().manual_seed(5))
    assert torch.equal(raw.mask, normalised.mask)
    torch.testing.assert_close(normalise(raw.mixed), normalised.mixed)
    torch.testing.assert_close(normalise(raw.background), normalised.background)


def test_reuses_a_precomputed_decoupling() -> None:
    clip = torch.rand(3, 3, 4, 8, 8)
    mixer = SemiNegativePairMixer()
    decoupled = mixer.decoupler(clip)
    generator = torch.Generator().manual_seed(2)
    reused = mixer(clip, decoupled=decoupled, generator=generator)
    fresh = mixer(clip, generator=torch.Generator().manual_seed(2))
    assert torch.equal(reused.mixed, fresh.mixed)
    with pytest.raises(ValueError, match=re.escape("`decoupled` holds 3 clips but `clip` has 2")):
        mixer(clip[:2], decoupled=decoupled)


def test_batch_of_one_has_no_partner() -> None:
    with pytest.raises(ValueError, match=re.escape("needs a batch of at least 2 clips")):
        SemiNegativePairMixer()(torch.rand(1, 3, 4, 8, 8))


def test_a_batch_laid_out_b_t_c_h_w_is_rejected_with_the_expected_layout() -> None:
    clips = moving_square_scene(batch=3, size=16).clip.permute(0, 2, 1, 3, 4)
    message = (
        "`clip` must have C=3 channels in dimension 1 of the layout (B, C, T, H, W), got C=8 "
        "in shape (3, 8, 3, 16, 16); this looks like a (B, T, C, H, W) batch of 8 frames: "
        "pass `clip.permute(0, 2, 1, 3, 4)`"
    )
    mixer = SemiNegativePairMixer()
    with pytest.raises(ValueError, match=re.escape(message)):
        mixer(clips)
    # Also when the decoupling was computed elsewhere (by a decoupler that accepts any C).
    decoupled = StaticDynamicDecoupler(channels=None)(clips)
    with pytest.raises(ValueError, match=re.escape(message)):
        mixer(clips, decoupled=decoupled)


def test_other_channel_counts_through_the_decoupler_option() -> None:
    grey = moving_square_scene(batch=3, size=16).clip[:, :1]
    with pytest.raises(ValueError, match=re.escape("with `channels=1`")):
        SemiNegativePairMixer()(grey)
    out = SemiNegativePairMixer(StaticDynamicDecoupler(channels=1))(grey)
    assert out.mixed.shape == grey.shape
    assert out.applied.all()


def test_smallest_frame_is_accepted_and_one_pixel_less_rejected() -> None:
    side = MIN_FRAME_SIDE
    out = SemiNegativePairMixer()(torch.rand(2, 3, 4, side, side))
    assert out.mixed.shape == (2, 3, 4, side, side)
    message = f"`clip` frames must be at least {side} x {side} pixels"
    with pytest.raises(ValueError, match=re.escape(message + " (dimensions H and W of")):
        SemiNegativePairMixer()(torch.rand(2, 3, 4, side - 1, side))
    with pytest.raises(ValueError, match=re.escape(f"got H={side}, W={side - 1} in shape")):
        SemiNegativePairMixer()(torch.rand(2, 3, 4, side, side - 1))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"mix_prob": 1.5}, ValueError, "`mix_prob` must be in the closed interval [0, 1]"),
        ({"background": "noise"}, ValueError, "`background` must be one of 'static', 'clip'"),
        ({"partner": "same"}, ValueError, "`partner` must be one of 'derangement', 'roll'"),
        ({"decoupler": "median"}, TypeError, "`decoupler` must be a StaticDynamicDecoupler"),
    ],
)
def test_bad_options(kwargs: dict[str, object], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=re.escape(message)):
        SemiNegativePairMixer(**kwargs)  # type: ignore[arg-type]


@settings(max_examples=25, deadline=None)
@given(
    batch=st.integers(2, 6),
    frames=st.integers(2, 5),
    size=st.integers(4, 12),
    seed=st.integers(0, 2**16),
    dtype=st.sampled_from([torch.float32, torch.float64, torch.bfloat16]),
)
def test_properties(batch: int, frames: int, size: int, seed: int, dtype: torch.dtype) -> None:
    clip = torch.rand(batch, 3, frames, size, size, generator=torch.Generator().manual_seed(seed))
    clip = clip.to(dtype)
    mixer = SemiNegativePairMixer()
    first = mixer(clip, generator=torch.Generator().manual_seed(seed))
    second = mixer(clip, generator=torch.Generator().manual_seed(seed))
    assert bool((first.partner != torch.arange(batch)).all())
    assert torch.equal(first.mixed, second.mixed)
    assert torch.equal(first.partner, second.partner)
    assert first.mixed.shape == first.background.shape == clip.shape
    assert first.mixed.dtype == dtype
    assert torch.isfinite(first.mixed).all()
    # A convex combination never leaves the range of its inputs.
    assert first.mixed.min() >= clip.min()
    assert first.mixed.max() <= clip.max()


def test_cuda_matches_cpu() -> None:
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    clip = moving_square_scene(batch=4).clip
    cpu = SemiNegativePairMixer(partner="roll")(clip)
    cuda = SemiNegativePairMixer(partner="roll")(clip.cuda())
    torch.testing.assert_close(cuda.mixed.cpu(), cpu.mixed)
