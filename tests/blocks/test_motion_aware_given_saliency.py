"""MotionAwareDecomposition pooling with a salient map it is given."""

from __future__ import annotations

import re

import pytest
import torch

from bgdebias import MotionAwareDecomposition


def test_given_saliency_pools_against_naive_weighted_mean() -> None:
    generator = torch.Generator().manual_seed(0)
    features = torch.randn(2, 3, 4, 5, 5, generator=generator, dtype=torch.float64)
    saliency = torch.rand(2, 1, 5, 5, generator=generator, dtype=torch.float64)
    out = MotionAwareDecomposition()(features, saliency=saliency)
    for b in range(2):
        mean_map = sum(features[b, :, t] for t in range(4)) / 4  # (C, H, W)
        weights = saliency[b, 0]
        dynamic = (mean_map * weights).sum(dim=(1, 2)) / weights.sum()
        static = (mean_map * (1 - weights)).sum(dim=(1, 2)) / (1 - weights).sum()
        torch.testing.assert_close(out.dynamic[b], dynamic)
        torch.testing.assert_close(out.static[b], static)
    torch.testing.assert_close(out.saliency, saliency)
    own = MotionAwareDecomposition()(features)
    torch.testing.assert_close(out.step_maps, own.step_maps)  # still the features' own


def test_a_still_clip_pooled_where_another_clip_moves_is_its_scene_there() -> None:
    """A still clip's own map is empty; the borrowed map picks its features on the path."""
    scene = torch.randn(1, 4, 1, 6, 6, generator=torch.Generator().manual_seed(1))
    still = scene.expand(-1, -1, 3, -1, -1)
    moving = torch.zeros(1, 4, 3, 6, 6)
    for t in range(3):
        moving[0, :, t, 2, t + 1] = 5.0  # a point moving right along row 2
    decompose = MotionAwareDecomposition()
    assert decompose(still).dynamic.abs().max().item() == 0.0
    path = decompose(moving).saliency
    borrowed = decompose(still, saliency=path).dynamic
    weights = path[0, 0]
    expected = (scene[0, :, 0] * weights).sum(dim=(1, 2)) / weights.sum()
    torch.testing.assert_close(borrowed[0], expected)


def test_given_saliency_carries_gradients_to_the_features() -> None:
    features = torch.randn(1, 2, 3, 4, 4, dtype=torch.float64, requires_grad=True)
    saliency = torch.rand(1, 1, 4, 4, dtype=torch.float64)
    decompose = MotionAwareDecomposition()
    assert torch.autograd.gradcheck(lambda f: decompose(f, saliency=saliency).dynamic, (features,))


@pytest.mark.parametrize(
    ("saliency", "error", "message"),
    [
        (torch.rand(2, 5, 5), ValueError, "`saliency` must have shape (B, 1, H, W) = (2, 1, 5, 5)"),
        (torch.rand(2, 1, 4, 5), ValueError, "got (2, 1, 4, 5)"),
        (torch.ones(2, 1, 5, 5, dtype=torch.long), TypeError, "`saliency` must have a floating"),
        ("map", TypeError, "`saliency`"),
    ],
)
def test_bad_saliency_is_refused_by_name(
    saliency: object, error: type[Exception], message: str
) -> None:
    features = torch.randn(2, 3, 4, 5, 5)
    with pytest.raises(error, match=re.escape(message)):
        MotionAwareDecomposition()(features, saliency=saliency)
