from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from bgdebias import InfoNCELoss, info_nce


def _naive_info_nce(
    q: np.ndarray, k: np.ndarray, negatives: np.ndarray | None, t: float, hard: np.ndarray | None
) -> float:
    """Row by row, in float64 NumPy, straight from the definition."""
    q = q / np.linalg.norm(q, axis=1, keepdims=True)
    k = k / np.linalg.norm(k, axis=1, keepdims=True)
    losses = []
    for i in range(len(q)):
        positive = q[i] @ k[i]
        if negatives is None:
            others = [q[i] @ k[j] for j in range(len(k)) if j != i]
        else:
            n = negatives / np.linalg.norm(negatives, axis=1, keepdims=True)
            others = list(n @ q[i])
        if hard is not None:
            h = hard[i] / np.linalg.norm(hard[i], axis=-1, keepdims=True)
            others += list(np.atleast_2d(h) @ q[i])
        logits = np.array([positive, *others]) / t
        losses.append(-logits[0] + np.log(np.exp(logits).sum()))
    return float(np.mean(losses))


@settings(max_examples=30, deadline=None)
@given(
    batch=st.integers(1, 6),
    dim=st.integers(2, 8),
    queue=st.one_of(st.none(), st.integers(1, 10)),
    hard=st.one_of(st.none(), st.integers(1, 3)),
    temperature=st.floats(0.05, 2.0),
    seed=st.integers(0, 2**16),
)
def test_matches_naive_reference(
    batch: int, dim: int, queue: int | None, hard: int | None, temperature: float, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    q, k = rng.normal(size=(2, batch, dim))
    negatives = None if queue is None else rng.normal(size=(queue, dim))
    hard_negatives = None if hard is None else rng.normal(size=(batch, hard, dim))
    expected = _naive_info_nce(q, k, negatives, temperature, hard_negatives)
    loss = info_nce(
        torch.tensor(q),
        torch.tensor(k),
        None if negatives is None else torch.tensor(negatives),
        temperature=temperature,
        hard_negatives=None if hard_negatives is None else torch.tensor(hard_negatives),
    )
    assert loss.item() == pytest.approx(expected, rel=1e-5, abs=1e-5)


@pytest.mark.parametrize("queue_size", [1, 7, 100])
def test_uninformative_embeddings_give_log_k_plus_one(queue_size: int) -> None:
    same = torch.ones(4, 8)
    loss = info_nce(same, same, torch.ones(queue_size, 8), temperature=0.1)
    assert loss.item() == pytest.approx(math.log(queue_size + 1), rel=1e-6)
    in_batch = info_nce(same, same, temperature=0.1)
    assert in_batch.item() == pytest.approx(math.log(4), rel=1e-6)


def test_perfect_separation_approaches_zero() -> None:
    q = torch.eye(4)
    loss = info_nce(q, q, -torch.eye(4), temperature=0.01)
    assert loss.item() < 1e-10


def test_masked_hard_negatives_equal_dropping_them() -> None:
    generator = torch.Generator().manual_seed(0)
    q, k, h = torch.randn(3, 5, 6, generator=generator)
    queue = torch.randn(9, 6, generator=generator)
    valid = torch.tensor([True, False, True, False, True])
    masked = info_nce(q, k, queue, hard_negatives=h, hard_negative_valid=valid, reduction="none")
    with_hard = info_nce(q, k, queue, hard_negatives=h, reduction="none")
    without = info_nce(q, k, queue, reduction="none")
    torch.testing.assert_close(masked[valid], with_hard[valid])
    torch.testing.assert_close(masked[~valid], without[~valid])


def test_hard_negative_raises_the_loss() -> None:
    q = torch.tensor([[1.0, 0.0]])
    k = torch.tensor([[0.8, 0.6]])
    queue = torch.tensor([[-1.0, 0.0]])
    easy = info_nce(q, k, queue)
    hard = info_nce(q, k, queue, hard_negatives=torch.tensor([[1.0, 0.1]]))
    assert hard > easy + 1.0


def test_learnability_a_few_steps_lower_the_loss() -> None:
    torch.manual_seed(0)
    q = torch.nn.Parameter(torch.randn(8, 16))
    k = torch.randn(8, 16)
    queue = torch.randn(32, 16)
    optimiser = torch.optim.Adam([q], lr=0.1)
    criterion = InfoNCELoss(temperature=0.2)
    losses = []
    for _ in range(20):
        loss = criterion(q, k, queue)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_low_precision_inputs_are_computed_in_float32() -> None:
    generator = torch.Generator().manual_seed(0)
    q, k = torch.randn(2, 4, 8, generator=generator)
    full = info_nce(q, k)
    half = info_nce(q.bfloat16(), k.bfloat16())
    assert half.dtype == torch.float32
    assert half.item() == pytest.approx(full.item(), rel=2e-2)


def test_reductions() -> None:
    q, k = torch.randn(2, 4, 8).unbind(0)
    per_row = info_nce(q, k, reduction="none")
    assert per_row.shape == (4,)
    torch.testing.assert_close(info_nce(q, k, reduction="sum"), per_row.sum())
    torch.testing.assert_close(info_nce(q, k), per_row.mean())


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: info_nce(torch.ones(2, 3), torch.ones(2, 4)),
            ValueError,
            "`query` and `positive_key` must have the same shape (B, D), got (2, 3) and (2, 4)",
        ),
        (
            lambda: info_nce(torch.ones(2, 3), torch.ones(2, 3), torch.ones(5, 4)),
            ValueError,
            "`negatives` has dimension D=4 but the embeddings have D=3",
        ),
        (
            lambda: info_nce(torch.ones(2, 3), torch.ones(2, 3), torch.ones(5)),
            ValueError,
            "`negatives` must be a 2D tensor of shape (K, D), got 1D",
        ),
        (
            lambda: info_nce(torch.ones(2, 3, 1), torch.ones(2, 3, 1)),
            ValueError,
            "`query` must be a 2D tensor of shape (B, D), got 3D",
        ),
        (
            lambda: info_nce(torch.ones(2, 3), torch.ones(2, 3), temperature=0.0),
            ValueError,
            "`temperature` must be a finite number > 0, got 0.0",
        ),
        (
            lambda: info_nce(torch.ones(2, 3), torch.ones(2, 3), temperature=-1),
            ValueError,
            "`temperature` must be a finite number > 0, got -1",
        ),
        (
            lambda: info_nce(torch.ones(2, 3, dtype=torch.long), torch.ones(2, 3)),
            TypeError,
            "`query` must have a floating-point dtype",
        ),
        (
            lambda: info_nce(torch.ones(2, 3), torch.ones(2, 3), hard_negatives=torch.ones(3, 3)),
            ValueError,
            "`hard_negatives` must have shape (B, D) or (B, M, D) with B=2 and D=3",
        ),
        (
            lambda: info_nce(
                torch.ones(2, 3),
                torch.ones(2, 3),
                hard_negatives=torch.ones(2, 3),
                hard_negative_valid=torch.ones(2),
            ),
            ValueError,
            "`hard_negative_valid` must be a bool tensor",
        ),
        (
            lambda: info_nce(
                torch.ones(2, 3),
                torch.ones(2, 3),
                hard_negative_valid=torch.ones(2, dtype=torch.bool),
            ),
            ValueError,
            "`hard_negative_valid` was given without `hard_negatives`",
        ),
        (
            lambda: info_nce(torch.ones(2, 3), torch.ones(2, 3), reduction="max"),  # type: ignore[arg-type]
            ValueError,
            "`reduction` must be one of 'mean', 'sum', 'none'; got 'max'",
        ),
        (
            lambda: InfoNCELoss(temperature=float("inf")),
            ValueError,
            "`temperature` must be a finite number > 0, got inf",
        ),
    ],
)
def test_errors(call: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=re.escape(message)):
        call()  # type: ignore[operator]


@pytest.mark.parametrize("in_batch", [True, False])
def test_logits_stay_float32_under_autocast(in_batch: bool) -> None:
    """Regression: under CPU bf16 autocast `q @ queue.T` ran in bf16 (losses off by ~1e-4)."""
    generator = torch.Generator().manual_seed(0)
    q, k = torch.randn(2, 16, 128, generator=generator)
    queue = None if in_batch else torch.randn(512, 128, generator=generator)
    hard = torch.randn(16, 3, 128, generator=generator)
    full = info_nce(q, k, queue, hard_negatives=hard, reduction="none")
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mixed = info_nce(q, k, queue, hard_negatives=hard, reduction="none")
    assert mixed.dtype == full.dtype == torch.float32
    torch.testing.assert_close(mixed, full, rtol=1e-6, atol=0.0)


@pytest.mark.parametrize("name", ["query", "positive_key", "negatives", "hard_negatives"])
def test_non_finite_embeddings_are_rejected_by_name(name: str) -> None:
    generator = torch.Generator().manual_seed(0)
    inputs = {
        "query": torch.randn(4, 8, generator=generator),
        "positive_key": torch.randn(4, 8, generator=generator),
        "negatives": torch.randn(16, 8, generator=generator),
        "hard_negatives": torch.randn(4, 2, 8, generator=generator),
    }
    inputs[name].view(-1)[3] = float("-inf")
    message = f"`{name}` contains 1 non-finite values (NaN or Inf); clean the input, or pass "
    with pytest.raises(ValueError, match=re.escape(message + "`check_finite=False`")):
        info_nce(**inputs)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=re.escape(message)):
        InfoNCELoss()(**inputs)
    assert torch.isnan(info_nce(**inputs, check_finite=False))  # type: ignore[arg-type]
    assert torch.isnan(InfoNCELoss(check_finite=False)(**inputs))


def test_negatives_that_are_not_tensors_get_a_type_error() -> None:
    with pytest.raises(TypeError, match=re.escape("`negatives` must be a torch.Tensor, got list")):
        info_nce(torch.ones(2, 3), torch.ones(2, 3), [[1.0, 2.0, 3.0]])  # type: ignore[arg-type]
