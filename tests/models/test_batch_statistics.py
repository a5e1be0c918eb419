"""record_batch_statistics and normalise_with: one pass normalised like another."""

from __future__ import annotations

import re

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from bgdebias.models import normalise_with, record_batch_statistics
from bgdebias.models.batch_statistics import BatchStatistics


def _model() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv3d(2, 4, kernel_size=1), nn.BatchNorm3d(4), nn.ReLU(), nn.BatchNorm3d(4)
    )


def test_recorded_statistics_are_the_batch_mean_and_biased_variance() -> None:
    model = _model()
    x = torch.randn(3, 2, 4, 5, 5, generator=torch.Generator().manual_seed(1))
    with record_batch_statistics(model) as statistics:
        model(x)
    assert sorted(statistics) == ["1", "3"]
    inner = model[0](x)
    mean, variance = statistics["1"]
    torch.testing.assert_close(mean, inner.mean(dim=(0, 2, 3, 4)))
    torch.testing.assert_close(variance, inner.var(dim=(0, 2, 3, 4), unbiased=False))
    assert not mean.requires_grad


@settings(max_examples=20, deadline=None)
@given(batch=st.integers(2, 5), frames=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_a_batch_normalised_with_its_own_statistics_is_unchanged(
    batch: int, frames: int, seed: int
) -> None:
    model = _model()
    x = torch.randn(batch, 2, frames, 3, 3, generator=torch.Generator().manual_seed(seed))
    with record_batch_statistics(model) as statistics:
        trained = model(x)
    with normalise_with(model, statistics):
        again = model(x)
    torch.testing.assert_close(again, trained, atol=1e-4, rtol=1e-4)


def test_other_clips_are_normalised_with_the_recorded_batch() -> None:
    """A second batch gets the first batch's normalisation, as an affine map of it."""
    norm = nn.BatchNorm1d(3, affine=False)
    first = torch.randn(64, 3, generator=torch.Generator().manual_seed(0)) * 2 + 5
    with record_batch_statistics(norm) as statistics:
        norm(first)
    second = torch.randn(8, 3, generator=torch.Generator().manual_seed(1))
    with normalise_with(norm, statistics):
        out = norm(second)
    mean, variance = first.mean(0), first.var(0, unbiased=False)
    torch.testing.assert_close(out, (second - mean) / torch.sqrt(variance + norm.eps))


def test_normalising_leaves_mode_and_running_statistics_as_they_were() -> None:
    model = _model()
    x = torch.randn(3, 2, 4, 5, 5, generator=torch.Generator().manual_seed(1))
    with record_batch_statistics(model) as statistics:
        model(x)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with normalise_with(model, statistics):
        model(torch.randn(2, 2, 1, 5, 5))
        assert not model[1].training
    assert model[1].training
    assert model[3].training
    for name, value in model.state_dict().items():
        assert torch.equal(value, before[name]), name


def test_layers_in_evaluation_mode_are_not_recorded() -> None:
    model = _model()
    model[1].eval()
    with record_batch_statistics(model) as statistics:
        model(torch.randn(2, 2, 2, 3, 3))
    assert list(statistics) == ["3"]


def test_hooks_are_removed_on_leaving() -> None:
    model = _model()
    with record_batch_statistics(model) as statistics:
        model(torch.randn(2, 2, 2, 3, 3))
    model(torch.randn(2, 2, 2, 3, 3))  # a second forward outside: no error, no record
    assert len(statistics) == 2
    assert all(not layer._forward_pre_hooks for layer in model)


def test_statistics_in_float32_under_autocast_and_for_half_inputs() -> None:
    norm = nn.BatchNorm1d(3)
    with record_batch_statistics(norm) as statistics, torch.autocast("cpu", dtype=torch.bfloat16):
        norm(torch.randn(4, 3).bfloat16())
    assert statistics[""][0].dtype == torch.float32


def test_a_layer_running_twice_is_refused() -> None:
    norm = nn.BatchNorm1d(3)
    x = torch.randn(4, 3)
    with record_batch_statistics(norm):
        norm(x)
        with pytest.raises(ValueError, match=re.escape("batch-norm layer '' ran twice")):
            norm(x)


def test_sync_batch_norm_is_refused() -> None:
    model = nn.Sequential(nn.SyncBatchNorm(3))
    recording = record_batch_statistics(model)
    with pytest.raises(ValueError, match=re.escape("SyncBatchNorm layer '0'")):
        recording.__enter__()


def test_statistics_of_another_module_are_refused() -> None:
    statistics: BatchStatistics = {"9": (torch.zeros(4), torch.ones(4))}
    normalising = normalise_with(_model(), statistics)
    with pytest.raises(ValueError, match=re.escape("names '9', which is not a batch-norm")):
        normalising.__enter__()
    normalising = normalise_with(_model(), {"1": (torch.zeros(5), torch.ones(5))})
    with pytest.raises(ValueError, match=re.escape("holds (5,) values, but layer '1' has 4")):
        normalising.__enter__()


def test_a_failed_normalisation_restores_what_it_changed() -> None:
    model = _model()
    statistics = {"1": (torch.zeros(4), torch.ones(4)), "3": (torch.zeros(5), torch.ones(5))}
    running_mean = model[1].running_mean
    normalising = normalise_with(model, statistics)
    with pytest.raises(ValueError, match="holds"):
        normalising.__enter__()
    assert model[1].training
    assert model[1].running_mean is running_mean
