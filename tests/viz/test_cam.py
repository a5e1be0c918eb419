from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from bgdebias.viz import activation_norm_map, class_activation_map, grad_cam


def _features(seed: int = 0) -> torch.Tensor:
    return torch.randn(2, 3, 2, 3, 2, generator=torch.Generator().manual_seed(seed))


def _naive_cam(features: np.ndarray, weight: np.ndarray, classes: list[int]) -> np.ndarray:
    """Loop over every clip and place, straight from the definition."""
    batch, channels, frames, height, width = features.shape
    cam = np.zeros((batch, frames, height, width))
    for b in range(batch):
        for t in range(frames):
            for h in range(height):
                for w in range(width):
                    total = sum(
                        weight[classes[b], c] * features[b, c, t, h, w] for c in range(channels)
                    )
                    cam[b, t, h, w] = max(total, 0.0)
    return cam


def test_cam_equals_the_hand_computed_sum_with_relu() -> None:
    features = _features()
    weight = torch.randn(4, 3, generator=torch.Generator().manual_seed(1))
    cam = class_activation_map(features, weight, 2, normalize=False)
    assert cam.shape == (2, 2, 3, 2)
    expected = _naive_cam(features.double().numpy(), weight.double().numpy(), [2, 2])
    np.testing.assert_allclose(cam.numpy(), expected, rtol=1e-5, atol=1e-6)
    raw = torch.einsum("bcthw,c->bthw", features, weight[2])
    assert (raw < 0).any(), "the test needs negative evidence to check the ReLU"
    assert (cam[raw < 0] == 0).all()


def test_cam_with_one_class_per_clip() -> None:
    features = _features()
    weight = torch.randn(4, 3)
    cam = class_activation_map(features, weight, torch.tensor([3, 0]), normalize=False)
    expected = _naive_cam(features.double().numpy(), weight.double().numpy(), [3, 0])
    np.testing.assert_allclose(cam.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_cam_is_normalised_per_clip() -> None:
    features = _features()
    features[1] = -features[1].abs()  # clip 1: only negative evidence
    weight = torch.ones(1, 3)
    features[0, :, 0, 0, 0] = 10.0
    raw = class_activation_map(features, weight, 0, normalize=False)
    cam = class_activation_map(features, weight, 0)
    torch.testing.assert_close(cam[0], raw[0] / raw[0].max())
    assert cam[0, 0, 0, 0] == 1.0
    assert (cam[1] == 0).all()  # nothing positive stays all zeros, not NaN


def test_activation_norm_peaks_where_features_are_large() -> None:
    features = 0.1 * _features()
    features[0, :, 1, 2, 0] = torch.tensor([3.0, -4.0, 0.0])
    features[1, :, 0, 1, 1] = torch.tensor([0.0, 0.0, -2.0])
    energy = activation_norm_map(features)
    assert energy.shape == (2, 2, 3, 2)
    assert energy[0].argmax().item() == np.ravel_multi_index((1, 2, 0), (2, 3, 2))
    assert energy[1].argmax().item() == np.ravel_multi_index((0, 1, 1), (2, 3, 2))
    assert energy.flatten(1).amax(dim=1).tolist() == [1.0, 1.0]
    raw = activation_norm_map(features, normalize=False)
    assert raw[0, 1, 2, 0].item() == pytest.approx(5.0)
    torch.testing.assert_close(raw, features.pow(2).sum(dim=1).sqrt())


def test_grad_cam_of_a_linear_classifier_equals_cam() -> None:
    features = _features().requires_grad_(True)
    weight = torch.randn(4, 3, generator=torch.Generator().manual_seed(2))
    logits = features.mean(dim=(2, 3, 4)) @ weight.T
    maps = grad_cam(features, logits[:, 1])
    torch.testing.assert_close(maps, class_activation_map(features, weight, 1))
    assert not maps.requires_grad


def test_grad_cam_label_free_similarity() -> None:
    features = _features().requires_grad_(True)
    key = torch.randn(2, 3)
    query = features.mean(dim=(2, 3, 4))
    score = torch.nn.functional.cosine_similarity(query, key, dim=1)
    maps = grad_cam(features, score, retain_graph=True)
    assert maps.shape == (2, 2, 3, 2)
    assert float(maps.min()) >= 0.0
    assert maps.flatten(1).amax(dim=1).tolist() == [1.0, 1.0]
    score.sum().backward()  # type: ignore[no-untyped-call]  # the graph was kept


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: class_activation_map(torch.zeros(2, 3, 4, 4), torch.zeros(4, 3), 0), ValueError,
         "`features` must be a 5D tensor of shape (B, C, T', H', W'), got 4D"),
        (lambda: activation_norm_map(torch.zeros(1, 3, 2, 2, 2, dtype=torch.int64)), TypeError,
         "`features` must have a floating-point dtype"),
        (lambda: activation_norm_map(np.zeros((1, 3, 2, 2, 2))), TypeError,  # type: ignore[arg-type]
         "`features` must be a torch.Tensor, got ndarray"),
        (lambda: class_activation_map(_features(), torch.zeros(3), 0), ValueError,
         "`weight` must be a 2D tensor of shape (K, C), got 1D"),
        (lambda: class_activation_map(_features(), torch.zeros(4, 5), 0), ValueError,
         "`weight` has C=5 input channels but `features` has C=3 channels"),
        (lambda: class_activation_map(_features(), torch.zeros(4, 3), 4), ValueError,
         "`class_index` must be in [0, 3] for a classifier with K=4 classes, got 4"),
        (lambda: class_activation_map(_features(), torch.zeros(4, 3), torch.tensor([0, -1])),
         ValueError, "`class_index` must be in [0, 3] for a classifier with K=4 classes, "
         "got [0, -1]"),
        (lambda: class_activation_map(_features(), torch.zeros(4, 3), torch.tensor([0, 1, 2])),
         ValueError, "`class_index` must be one class for all clips or one per clip, shape () "
         "or (2,), got shape (3,)"),
        (lambda: class_activation_map(_features(), torch.zeros(4, 3), torch.tensor([0.0, 1.0])),
         TypeError, "`class_index` must be an int or an integer tensor, got torch.float32"),
        (lambda: class_activation_map(_features(), torch.zeros(4, 3), True), TypeError,
         "`class_index` must be an int or an integer tensor, got bool"),
        (lambda: grad_cam(_features(), torch.zeros(2)), ValueError,
         "`score` must be computed from `features` with gradients enabled"),
        (lambda: grad_cam(_features().requires_grad_(True), torch.zeros(3)), ValueError,
         "`score` must hold one scalar per clip, shape (2,) or (), got shape (3,)"),
        (lambda: grad_cam(_features().requires_grad_(True), 1.0), TypeError,  # type: ignore[arg-type]
         "`score` must be a torch.Tensor, got float"),
        (lambda: grad_cam(_features().requires_grad_(True), torch.ones(2, requires_grad=True)),
         ValueError, "`score` does not depend on `features`; pass the map it came from"),
    ],
)  # fmt: skip
def test_errors(call: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=re.escape(message)):
        call()  # type: ignore[operator]
