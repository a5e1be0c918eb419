from __future__ import annotations

import math
import re

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import Tensor

from bgdebias.evaluation import knn_classify, knn_scores

# Query [1, 0]: one neighbour of class 0 at similarity 1, two of class 1 at similarity 0.
QUERY = torch.tensor([[1.0, 0.0]])
GALLERY = torch.tensor([[2.0, 0.0], [0.0, 1.0], [0.0, 3.0], [-1.0, 0.0]])
LABELS = torch.tensor([0, 1, 1, 0])


def test_weighted_votes_by_hand() -> None:
    scores = knn_scores(QUERY, GALLERY, LABELS, k=3)
    assert torch.allclose(scores, torch.tensor([[math.exp(1 / 0.07), 2.0]]))
    uniform = knn_scores(QUERY, GALLERY, LABELS, k=3, weighting="uniform")
    assert torch.equal(uniform, torch.tensor([[1.0, 2.0]]))
    # The close neighbour wins with InstDisc weights, the majority with uniform votes.
    assert knn_classify(QUERY, torch.tensor([0]), GALLERY, LABELS, k=3).top1 == 1.0
    assert (
        knn_classify(QUERY, torch.tensor([0]), GALLERY, LABELS, k=3, weighting="uniform").top1 == 0
    )
    # A hot temperature flattens the weights: the majority wins again.
    assert knn_classify(QUERY, torch.tensor([0]), GALLERY, LABELS, k=3, temperature=100.0).top1 == 0
    # k = 4 reaches the opposite item (similarity -1) of class 0.
    four = knn_scores(QUERY, GALLERY, LABELS, k=4)
    assert torch.allclose(four, torch.tensor([[math.exp(1 / 0.07) + math.exp(-1 / 0.07), 2.0]]))


def _naive_scores(
    query: Tensor, gallery: Tensor, labels: Tensor, k: int, tau: float, weighting: str, centre: bool
) -> Tensor:
    if centre:
        query = query - query.mean(0)
        gallery = gallery - gallery.mean(0)
    classes = int(labels.max()) + 1
    out = torch.zeros(len(query), classes, dtype=torch.float64)
    for i, q in enumerate(query.double()):
        sims = []
        for j, g in enumerate(gallery.double()):
            denominator = max(float(q.norm()), 1e-12) * max(float(g.norm()), 1e-12)
            sims.append((-float(q @ g) / denominator, j))
        for negative_sim, j in sorted(sims)[:k]:
            weight = math.exp(-negative_sim / tau) if weighting == "exponential" else 1.0
            out[i, int(labels[j])] += weight
    return out


@settings(max_examples=25, deadline=None)
@given(
    queries=st.integers(1, 6),
    gallery_size=st.integers(2, 12),
    dim=st.integers(2, 5),
    k_fraction=st.floats(0.0, 1.0),
    weighting=st.sampled_from(["exponential", "uniform"]),
    centre=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_matches_a_naive_loop(
    queries: int,
    gallery_size: int,
    dim: int,
    k_fraction: float,
    weighting: str,
    centre: bool,
    seed: int,
) -> None:
    generator = torch.Generator().manual_seed(seed)
    query = torch.randn(queries, dim, generator=generator)
    gallery = torch.randn(gallery_size, dim, generator=generator)
    labels = torch.arange(gallery_size) % 3
    k = 1 + int(k_fraction * (gallery_size - 1))
    tau = 0.5
    scores = knn_scores(
        query,
        gallery,
        labels,
        k=k,
        temperature=tau,
        weighting=weighting,  # type: ignore[arg-type]
        centre=centre,
        chunk_size=4,
    )
    expected = _naive_scores(query, gallery, labels, k, tau, weighting, centre)
    assert torch.allclose(scores.double(), expected, rtol=1e-4, atol=1e-5)


def test_accuracy_over_several_queries() -> None:
    gallery = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    query = torch.tensor([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3]])
    result = knn_classify(query, torch.tensor([0, 1, 1]), gallery, torch.tensor([0, 1]), k=1)
    assert result.top1 == pytest.approx(2 / 3)
    assert result.per_class_accuracy == (1.0, 0.5)


def test_errors() -> None:
    with pytest.raises(ValueError, match=re.escape("`k` = 5 is larger than the gallery (4 items)")):
        knn_scores(QUERY, GALLERY, LABELS, k=5)
    with pytest.raises(ValueError, match=re.escape("`k` must be an int >= 1, got 0")):
        knn_scores(QUERY, GALLERY, LABELS, k=0)
    with pytest.raises(ValueError, match=re.escape("`temperature` must be a finite number > 0")):
        knn_scores(QUERY, GALLERY, LABELS, k=1, temperature=0.0)
    with pytest.raises(ValueError, match=re.escape("`weighting` must be one of 'exponential'")):
        knn_scores(QUERY, GALLERY, LABELS, k=1, weighting="linear")  # type: ignore[arg-type]
    with pytest.raises(
        ValueError, match=re.escape("`gallery_labels` must have shape (4,) to match `gallery`")
    ):
        knn_scores(QUERY, GALLERY, LABELS[:3], k=1)
    with pytest.raises(ValueError, match=re.escape("`query_labels` must have shape (1,)")):
        knn_classify(QUERY, torch.tensor([0, 1]), GALLERY, LABELS, k=1)
    with pytest.raises(ValueError, match=re.escape("same feature dimension, got 3 and 2")):
        knn_scores(torch.zeros(1, 3), GALLERY, LABELS, k=1)
    with pytest.raises(ValueError, match=re.escape("`gallery` must hold at least one row")):
        knn_scores(QUERY, torch.zeros(0, 2), torch.zeros(0, dtype=torch.long), k=1)
    with pytest.raises(ValueError, match=re.escape("`gallery_labels` must be < num_classes=2")):
        knn_scores(QUERY, GALLERY, torch.tensor([0, 1, 2, 0]), k=1, num_classes=2)
