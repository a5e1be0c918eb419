from __future__ import annotations

import math
import re

import pytest
import torch
from torch import nn

from bgdebias.moco import cosine_momentum, momentum_copy, update_momentum


def _filled_linear(value: float) -> nn.Linear:
    layer = nn.Linear(2, 3)
    with torch.no_grad():
        layer.weight.fill_(value)
        layer.bias.fill_(value)
    return layer


def test_momentum_copy_is_an_independent_frozen_copy() -> None:
    online = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3)).train()
    target = momentum_copy(online)
    assert target is not online
    assert target.training
    for (name, a), (_, b) in zip(online.named_parameters(), target.named_parameters(), strict=True):
        assert torch.equal(a, b), name
        assert a.data_ptr() != b.data_ptr()
        assert a.requires_grad
        assert not b.requires_grad
    online_linear, target_linear = online[0], target[0]
    assert isinstance(online_linear, nn.Linear)
    assert isinstance(target_linear, nn.Linear)
    with torch.no_grad():
        online_linear.weight.add_(1.0)
    assert not torch.equal(online_linear.weight, target_linear.weight)


def test_update_matches_hand_computed_ema() -> None:
    online, target = _filled_linear(1.0), _filled_linear(0.0)
    update_momentum(online, target, 0.9)
    torch.testing.assert_close(target.weight, torch.full((3, 2), 0.1))
    update_momentum(online, target, 0.9)  # 0.9 * 0.1 + 0.1 * 1
    torch.testing.assert_close(target.weight, torch.full((3, 2), 0.19))
    torch.testing.assert_close(target.bias, torch.full((3,), 0.19))
    assert torch.equal(online.weight, torch.ones(3, 2))


def test_update_against_random_reference_and_endpoints() -> None:
    online, target = nn.Linear(4, 5), nn.Linear(4, 5)
    expected = 0.7 * target.weight.detach() + 0.3 * online.weight.detach()
    update_momentum(online, target, 0.7)
    torch.testing.assert_close(target.weight, expected)
    before = target.weight.detach().clone()
    update_momentum(online, target, 1.0)
    assert torch.equal(target.weight, before)
    update_momentum(online, target, 0.0)
    assert torch.equal(target.weight, online.weight)


def test_update_runs_without_grad_and_casts_online_to_target_dtype() -> None:
    online = _filled_linear(1.0)
    target = _filled_linear(0.0).double().requires_grad_(True)
    update_momentum(online, target, 0.5)
    assert target.weight.dtype == torch.float64
    assert target.weight.grad_fn is None
    torch.testing.assert_close(target.weight, torch.full((3, 2), 0.5, dtype=torch.float64))


def test_buffers_are_kept_by_default_and_copied_on_request() -> None:
    online = nn.BatchNorm1d(3)
    target = momentum_copy(online)
    online(torch.randn(8, 3) + 5.0)  # moves the online running statistics
    update_momentum(online, target, 0.5)
    assert target.running_mean is not None
    assert online.running_mean is not None
    assert target.num_batches_tracked is not None
    assert torch.equal(target.running_mean, torch.zeros(3))
    assert int(target.num_batches_tracked) == 0
    update_momentum(online, target, 0.5, buffers="copy")
    assert torch.equal(target.running_mean, online.running_mean)
    assert int(target.num_batches_tracked) == 1


def test_update_errors() -> None:
    with pytest.raises(
        ValueError,
        match=re.escape(
            "only in online: ['0.bias', '0.weight'], only in target: ['bias', 'weight']"
        ),
    ):
        update_momentum(nn.Sequential(nn.Linear(2, 3)), nn.Linear(2, 3), 0.9)
    with pytest.raises(
        ValueError,
        match=re.escape("parameter 'weight' has shape (3, 2) in `online` but (4, 2) in `target`"),
    ):
        update_momentum(nn.Linear(2, 3), nn.Linear(2, 4), 0.9)
    with pytest.raises(
        ValueError, match=re.escape("`online` and `target` must have the same buffers")
    ):
        update_momentum(
            nn.Sequential(nn.Identity(), nn.Linear(2, 2)),
            nn.Sequential(nn.BatchNorm1d(2, affine=False), nn.Linear(2, 2)),
            0.9,
            buffers="copy",
        )
    with pytest.raises(
        ValueError, match=re.escape("`momentum` must be in the closed interval [0, 1], got 1.5")
    ):
        update_momentum(nn.Linear(2, 3), nn.Linear(2, 3), 1.5)
    with pytest.raises(TypeError, match=re.escape("`momentum` must be a number, got str")):
        update_momentum(nn.Linear(2, 3), nn.Linear(2, 3), "0.9")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=re.escape("`buffers` must be one of 'keep', 'copy'")):
        update_momentum(nn.Linear(2, 3), nn.Linear(2, 3), 0.9, buffers="ema")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=re.escape("`target` must be an nn.Module, got Tensor")):
        update_momentum(nn.Linear(2, 3), torch.zeros(3), 0.9)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=re.escape("`module` must be an nn.Module, got Tensor")):
        momentum_copy(torch.zeros(3))  # type: ignore[type-var]


def test_cosine_schedule_endpoints_midpoint_and_beyond() -> None:
    assert cosine_momentum(0, 100) == pytest.approx(0.999)
    assert cosine_momentum(50, 100) == pytest.approx((0.999 + 1.0) / 2)
    assert cosine_momentum(100, 100) == pytest.approx(1.0)
    assert cosine_momentum(250, 100) == pytest.approx(1.0)
    assert cosine_momentum(25, 100, base=0.9, final=1.0) == pytest.approx(
        1.0 - 0.1 * (math.cos(math.pi / 4) + 1) / 2
    )
    values = [cosine_momentum(step, 20, base=0.5) for step in range(21)]
    assert values == sorted(values)


def test_cosine_schedule_errors() -> None:
    with pytest.raises(ValueError, match=re.escape("`step` must be an int >= 0, got -1")):
        cosine_momentum(-1, 10)
    with pytest.raises(TypeError, match=re.escape("`step` must be an int, got float (1.0)")):
        cosine_momentum(1.0, 10)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=re.escape("`total_steps` must be an int >= 1, got 0")):
        cosine_momentum(0, 0)
    with pytest.raises(ValueError, match=re.escape("`base` must be in the closed interval")):
        cosine_momentum(0, 10, base=1.5)
    with pytest.raises(ValueError, match=re.escape("`final` must be in the closed interval")):
        cosine_momentum(0, 10, final=-0.1)
