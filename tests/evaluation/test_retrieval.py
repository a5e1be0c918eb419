from __future__ import annotations

import re

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import Tensor

from bgdebias.evaluation import RETRIEVAL_KS, retrieval_recall


def test_hand_made_recall() -> None:
    gallery = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    gallery_labels = torch.tensor([0, 1, 2])
    # Query 0 (class 0) is nearest to item 0; query 1 (class 2) ranks items 1, 2, 0 ...
    query = torch.tensor([[1.0, 0.1], [-0.1, 1.0]])
    result = retrieval_recall(
        query, torch.tensor([0, 2]), gallery, gallery_labels, ks=(1, 2, 3), centre=False
    )
    assert result.recall_at == {1: 0.5, 2: 1.0, 3: 1.0}


def test_centring_each_set_by_its_own_mean_matters() -> None:
    # The gallery sits around (10, 0), the queries around (0, -5); centred, query A is (0, 1)
    # like gallery item A, but uncentred both queries point away from A.
    gallery = torch.tensor([[10.0, 1.0], [10.0, -1.0]])
    query = torch.tensor([[0.0, -4.0], [0.0, -6.0]])
    labels = torch.tensor([0, 1])
    centred = retrieval_recall(query, labels, gallery, labels, ks=(1, 2))
    plain = retrieval_recall(query, labels, gallery, labels, ks=(1, 2), centre=False)
    assert centred.recall_at == {1: 1.0, 2: 1.0}
    assert plain.recall_at == {1: 0.5, 2: 1.0}


def _naive_recall(
    query: Tensor, query_labels: Tensor, gallery: Tensor, gallery_labels: Tensor, k: int
) -> float:
    query = query - query.mean(0)
    gallery = gallery - gallery.mean(0)
    hits = 0
    for q, label in zip(query.double(), query_labels.tolist(), strict=True):
        sims = [
            (-float(q @ g) / (float(q.norm()) * float(g.norm())), j)
            for j, g in enumerate(gallery.double())
        ]
        top = [j for _, j in sorted(sims)[:k]]
        hits += any(int(gallery_labels[j]) == label for j in top)
    return hits / len(query)


@settings(max_examples=25, deadline=None)
@given(
    queries=st.integers(2, 8),
    gallery_size=st.integers(2, 60),
    classes=st.integers(2, 6),
    seed=st.integers(0, 1000),
)
def test_matches_a_naive_loop(queries: int, gallery_size: int, classes: int, seed: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    query = torch.randn(queries, 4, generator=generator)
    gallery = torch.randn(gallery_size, 4, generator=generator)
    query_labels = torch.randint(0, classes, (queries,), generator=generator)
    gallery_labels = torch.randint(0, classes, (gallery_size,), generator=generator)
    ks = [k for k in RETRIEVAL_KS if k <= gallery_size]
    result = retrieval_recall(query, query_labels, gallery, gallery_labels, ks=ks, chunk_size=3)
    for k in ks:
        expected = _naive_recall(query, query_labels, gallery, gallery_labels, k)
        assert result.recall_at[k] == pytest.approx(expected)


def test_errors() -> None:
    gallery, labels = torch.randn(3, 2), torch.tensor([0, 1, 0])
    with pytest.raises(
        ValueError, match=re.escape("`ks` = 5 is larger than the gallery (3 items)")
    ):
        retrieval_recall(gallery, labels, gallery, labels)
    with pytest.raises(ValueError, match=re.escape("`ks` must be a non-empty sequence of ints")):
        retrieval_recall(gallery, labels, gallery, labels, ks=())
    with pytest.raises(ValueError, match=re.escape("`query_labels` must have shape (3,)")):
        retrieval_recall(gallery, labels[:2], gallery, labels, ks=(1,))
    with pytest.raises(TypeError, match=re.escape("`gallery_labels` must hold integer class")):
        retrieval_recall(gallery, labels, gallery, labels.float(), ks=(1,))
    with pytest.raises(TypeError, match=re.escape("`query` must be a torch.Tensor, got list")):
        retrieval_recall([[0.0, 1.0]], labels, gallery, labels, ks=(1,))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=re.escape("`query` must be 2D of shape (N, D)")):
        retrieval_recall(torch.zeros(3), labels, gallery, labels, ks=(1,))
