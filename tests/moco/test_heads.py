from __future__ import annotations

import re

import pytest
import torch
from torch import nn

from bgdebias.moco import ProjectionHead


def test_default_is_moco_v2_linear_relu_linear() -> None:
    head = ProjectionHead(16)
    kinds = [type(layer) for layer in head.layers]
    assert kinds == [nn.Linear, nn.ReLU, nn.Linear]
    first, last = head.layers[0], head.layers[2]
    assert isinstance(first, nn.Linear)
    assert isinstance(last, nn.Linear)
    assert (first.in_features, first.out_features) == (16, 2048)
    assert (last.in_features, last.out_features) == (2048, 128)
    assert (head.in_dim, head.hidden_dim, head.out_dim) == (16, 2048, 128)


def test_matches_a_hand_written_mlp() -> None:
    head = ProjectionHead(4, hidden_dim=6, out_dim=3)
    x = torch.randn(5, 4)
    first, last = head.layers[0], head.layers[2]
    assert isinstance(first, nn.Linear)
    assert isinstance(last, nn.Linear)
    expected = torch.relu(x @ first.weight.T + first.bias) @ last.weight.T + last.bias
    torch.testing.assert_close(head(x), expected)


@pytest.mark.parametrize(("num_layers", "batch_norm"), [(1, False), (2, True), (3, True)])
def test_shapes_and_gradients_reach_the_first_layer(num_layers: int, batch_norm: bool) -> None:
    head = ProjectionHead(8, hidden_dim=16, out_dim=4, num_layers=num_layers, batch_norm=batch_norm)
    out = head(torch.randn(6, 8))
    assert out.shape == (6, 4)
    out.square().sum().backward()
    first = head.layers[0]
    assert isinstance(first, nn.Linear)
    assert first.weight.grad is not None
    assert first.weight.grad.abs().sum() > 0
    linears = [layer for layer in head.layers if isinstance(layer, nn.Linear)]
    assert len(linears) == num_layers
    norms = [layer for layer in head.layers if isinstance(layer, nn.BatchNorm1d)]
    assert len(norms) == (num_layers - 1 if batch_norm else 0)
    if batch_norm and num_layers > 1:
        assert first.bias is None


def test_constructor_errors() -> None:
    with pytest.raises(ValueError, match=re.escape("`in_dim` must be an int >= 1, got 0")):
        ProjectionHead(0)
    with pytest.raises(ValueError, match=re.escape("`num_layers` must be an int >= 1, got 0")):
        ProjectionHead(4, num_layers=0)
    with pytest.raises(TypeError, match=re.escape("`out_dim` must be an int, got float (2.0)")):
        ProjectionHead(4, hidden_dim=8, out_dim=2.0)  # type: ignore[arg-type]


def test_sizes_are_keyword_only() -> None:
    with pytest.raises(TypeError, match="positional argument"):
        ProjectionHead(4, 8, 2)  # type: ignore[call-arg]


def test_forward_errors() -> None:
    head = ProjectionHead(4, hidden_dim=8, out_dim=2)
    with pytest.raises(TypeError, match=re.escape("`features` must be a torch.Tensor")):
        head([1.0, 2.0])
    with pytest.raises(
        ValueError, match=re.escape("`features` must be a 2D tensor of shape (B, in_dim)")
    ):
        head(torch.zeros(2, 4, 1))
    with pytest.raises(TypeError, match="`features` must have a floating-point dtype"):
        head(torch.zeros(2, 4, dtype=torch.long))
    with pytest.raises(
        ValueError,
        match=re.escape("`features` must have shape (B, 4) to match in_dim=4, got (2, 5)"),
    ):
        head(torch.zeros(2, 5))
