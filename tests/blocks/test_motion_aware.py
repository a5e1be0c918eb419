from __future__ import annotations

import re

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from bgdebias import MotionAwareDecomposition
from scenes import moving_square_scene


def _feature_extractor() -> nn.Module:
    torch.manual_seed(0)
    # Replicate padding: zero padding in time makes a static scene vary at the first and
    # last frames (a border artefact, not motion).
    return nn.Sequential(
        nn.Conv3d(3, 16, kernel_size=3, padding=1, padding_mode="replicate"),
        nn.ReLU(),
        nn.Conv3d(16, 16, kernel_size=3, padding=1, padding_mode="replicate"),
    ).eval()


def _moving_blob_features(
    background: torch.Tensor, blob: torch.Tensor, frames: int = 6
) -> tuple[torch.Tensor, torch.Tensor]:
    """Features (1, C, T, 8, 8): a static background map plus a 2x2 blob moving right."""
    channels = background.shape[0]
    features = background.view(1, channels, 1, 8, 8).repeat(1, 1, frames, 1, 1)
    path = torch.zeros(8, 8, dtype=torch.bool)
    for t in range(frames):
        features[0, :, t, 3:5, t : t + 2] = blob.view(channels, 1, 1)
        path[3:5, t : t + 2] = True
    return features, path


def test_step_maps_and_saliency_against_naive_reference() -> None:
    features = torch.randn(2, 5, 4, 3, 3, dtype=torch.float64)
    out = MotionAwareDecomposition()(features)
    naive_steps = torch.zeros(2, 3, 3, 3, dtype=torch.float64)
    for b in range(2):
        for t in range(3):
            for y in range(3):
                for x in range(3):
                    difference = features[b, :, t + 1, y, x] - features[b, :, t, y, x]
                    naive_steps[b, t, y, x] = difference.pow(2).sum().sqrt()
    torch.testing.assert_close(out.step_maps, naive_steps)
    accumulated = naive_steps.sum(dim=1)
    low = accumulated.flatten(1).min(dim=1).values.view(2, 1, 1)
    high = accumulated.flatten(1).max(dim=1).values.view(2, 1, 1)
    torch.testing.assert_close(out.saliency[:, 0], (accumulated - low) / (high - low))
    weights = out.saliency
    mean_time = features.mean(dim=2)
    expected_dynamic = (mean_time * weights).sum(dim=(2, 3)) / weights.sum(dim=(2, 3))
    expected_static = (mean_time * (1 - weights)).sum(dim=(2, 3)) / (1 - weights).sum(dim=(2, 3))
    torch.testing.assert_close(out.dynamic, expected_dynamic)
    torch.testing.assert_close(out.static, expected_static)
    torch.testing.assert_close(out.pooled, features.mean(dim=(2, 3, 4)))


def test_saliency_peaks_on_the_moving_square_boundary() -> None:
    scene = moving_square_scene(batch=1, size=32, side=6, speed=3)
    with torch.no_grad():
        features = _feature_extractor()(scene.clip)
    saliency = MotionAwareDecomposition()(features).saliency[0, 0]
    path = scene.path[0, 0]
    dilated = nn.functional.max_pool2d(path[None, None].float(), 5, 1, 2)[0, 0] > 0
    far_background = ~dilated
    assert saliency[path].mean() > 5 * saliency[far_background].mean()
    # Leading/trailing edges of the square (path border) beat its static interior rows.
    assert saliency[path].max() == saliency.max()


def test_dynamic_follows_the_actor_and_static_follows_the_background() -> None:
    generator = torch.Generator().manual_seed(0)
    background_a, background_b = torch.randn(2, 8, 8, 8, generator=generator)
    blob_a, blob_b = 3 * torch.randn(2, 8, generator=generator)
    module = MotionAwareDecomposition()
    reference = module(_moving_blob_features(background_a, blob_a)[0])
    new_actor = module(_moving_blob_features(background_a, blob_b)[0])
    new_scene = module(_moving_blob_features(background_b, blob_a)[0])

    def change(a: torch.Tensor, b: torch.Tensor) -> float:
        return float((a - b).norm() / a.norm())

    assert change(reference.dynamic, new_actor.dynamic) > 2 * change(
        reference.static, new_actor.static
    )
    assert change(reference.static, new_scene.static) > 2 * change(
        reference.dynamic, new_scene.dynamic
    )


def test_static_features_give_zero_saliency_and_finite_outputs() -> None:
    features = torch.randn(2, 4, 1, 5, 5).expand(2, 4, 3, 5, 5).clone().requires_grad_()
    out = MotionAwareDecomposition()(features)
    assert out.saliency.abs().sum() == 0
    assert out.dynamic.abs().sum() == 0
    torch.testing.assert_close(out.static, out.pooled)
    (out.dynamic.sum() + out.static.sum()).backward()
    assert features.grad is not None
    assert torch.isfinite(features.grad).all()


def test_projection_is_learnable_and_detach_saliency_stops_its_gradient() -> None:
    features = torch.randn(2, 6, 4, 5, 5, requires_grad=True)
    module = MotionAwareDecomposition(channels=6, projection_dim=3)
    module(features).dynamic.sum().backward()
    assert isinstance(module.projection, nn.Conv3d)
    assert module.projection.weight.grad is not None
    assert module.projection.weight.grad.abs().sum() > 0
    detached = MotionAwareDecomposition(channels=6, projection_dim=3, detach_saliency=True)
    detached(features).dynamic.sum().backward()
    assert detached.projection.weight.grad is None


@pytest.mark.parametrize(
    ("features", "error", "message"),
    [
        (torch.randn(2, 8, 1, 4, 4), ValueError, "`features` needs T >= 2 frames"),
        (torch.randn(2, 8, 1, 4, 4), ValueError, "(dimension 2 of the layout (B, C, T, H, W))"),
        (torch.randn(2, 8, 1, 4, 4), ValueError, "attach MotionAwareDecomposition to an earlier"),
        (torch.randn(2, 8, 4, 4), ValueError, "`features` must be a 5D tensor"),
        (torch.ones(2, 8, 3, 4, 4, dtype=torch.int64), TypeError, "floating-point dtype"),
        (torch.full((1, 2, 3, 2, 2), float("nan")), ValueError, "non-finite values"),
    ],
)
def test_bad_features(features: torch.Tensor, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=re.escape(message)):
        MotionAwareDecomposition()(features)


def test_bad_options_and_channel_mismatch() -> None:
    with pytest.raises(ValueError, match=re.escape("`channels` is required when")):
        MotionAwareDecomposition(projection_dim=4)
    with pytest.raises(ValueError, match=re.escape("`projection_dim` must be an int >= 1, got 0")):
        MotionAwareDecomposition(channels=4, projection_dim=0)
    with pytest.raises(ValueError, match=re.escape("`channels` must be an int >= 1, got 0")):
        MotionAwareDecomposition(channels=0)
    message = (
        "`features` must have C=4 channels in dimension 1 of the layout (B, C, T, H, W), got "
        "C=5 in shape (1, 5, 3, 2, 2); the module was built with channels=4"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        MotionAwareDecomposition(channels=4, projection_dim=2)(torch.randn(1, 5, 3, 2, 2))


def test_a_feature_map_laid_out_b_t_c_h_w_is_rejected_with_the_expected_layout() -> None:
    features = torch.randn(2, 4, 64, 7, 7)  # (B, T, C, H, W): 4 steps of 64 channels
    message = (
        "`features` must have C=64 channels in dimension 1 of the layout (B, C, T, H, W), got "
        "C=4 in shape (2, 4, 64, 7, 7); this looks like a (B, T, C, H, W) batch of 4 frames: "
        "pass `features.permute(0, 2, 1, 3, 4)`"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        MotionAwareDecomposition(channels=64)(features)
    out = MotionAwareDecomposition(channels=64)(features.permute(0, 2, 1, 3, 4))
    assert out.step_maps.shape == (2, 3, 7, 7)
    # Without `channels`, a swapped map whose second dimension is 1 still names the layout.
    with pytest.raises(ValueError, match=re.escape("T >= 2 frames (dimension 2 of the layout")):
        MotionAwareDecomposition()(torch.randn(2, 4, 1, 7, 7))


@settings(max_examples=20, deadline=None)
@given(
    batch=st.integers(1, 3),
    channels=st.integers(1, 9),
    frames=st.integers(2, 5),
    height=st.integers(1, 6),
    width=st.integers(1, 6),
    dtype=st.sampled_from([torch.float32, torch.float64, torch.bfloat16]),
)
def test_shapes_dtypes_and_ranges(
    batch: int, channels: int, frames: int, height: int, width: int, dtype: torch.dtype
) -> None:
    features = torch.randn(batch, channels, frames, height, width).to(dtype)
    out = MotionAwareDecomposition()(features)
    for pooled in (out.dynamic, out.static, out.pooled):
        assert pooled.shape == (batch, channels)
        assert pooled.dtype == dtype
        assert torch.isfinite(pooled).all()
    assert out.saliency.shape == (batch, 1, height, width)
    assert out.step_maps.shape == (batch, frames - 1, height, width)
    assert out.saliency.min() >= 0
    assert out.saliency.max() <= 1


def test_gradcheck_in_float64() -> None:
    features = torch.randn(1, 3, 3, 3, 3, dtype=torch.float64, requires_grad=True)
    module = MotionAwareDecomposition(check_finite=False)

    def run(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = module(x)
        return out.dynamic, out.static

    assert torch.autograd.gradcheck(run, (features,))


def test_autocast_keeps_outputs_finite() -> None:
    features = torch.randn(2, 4, 3, 5, 5)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = MotionAwareDecomposition()(features)
    assert torch.isfinite(out.dynamic).all()


def test_cuda_matches_cpu() -> None:
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    features = torch.randn(2, 4, 3, 5, 5)
    cpu = MotionAwareDecomposition()(features)
    cuda = MotionAwareDecomposition()(features.cuda())
    torch.testing.assert_close(cuda.dynamic.cpu(), cpu.dynamic, rtol=1e-4, atol=1e-5)


def test_projected_saliency_stays_float32_under_autocast() -> None:
    """Regression: under CPU bf16 autocast the projection ran in bf16 (saliency off by 4e-3)."""
    generator = torch.Generator().manual_seed(0)
    features = torch.randn(2, 16, 4, 7, 7, generator=generator)
    torch.manual_seed(0)
    module = MotionAwareDecomposition(channels=16, projection_dim=8)
    full = module(features)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mixed = module(features)
    for name in ("saliency", "step_maps", "dynamic", "static"):
        assert getattr(mixed, name).dtype == torch.float32, name
        assert torch.equal(getattr(mixed, name), getattr(full, name)), name
