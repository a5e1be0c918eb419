"""Video retrieval: test queries against the training gallery, recall at k (R@k)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from bgdebias._validation import check_int
from bgdebias.evaluation._neighbours import (
    check_k,
    check_labelled,
    check_same_dim,
    normalise,
    ranked_neighbours,
)

#: The recall levels reported by the field.
RETRIEVAL_KS: tuple[int, ...] = (1, 5, 10, 20, 50)


@dataclass(frozen=True)
class RetrievalResult:
    """Recall at k of a retrieval run (fractions in [0, 1]).

    Attributes:
        recall_at: ``{k: R@k}``: the fraction of queries with at least one gallery item of
            their class among their ``k`` most similar items.

    Example:
        >>> import torch
        >>> same, swapped = torch.tensor([0, 1]), torch.tensor([1, 0])
        >>> result = retrieval_recall(torch.eye(2), same, torch.eye(2), swapped, ks=(1, 2),
        ...                           centre=False)
        >>> result.recall_at  # the nearest item has the other class; the second is a hit
        {1: 0.0, 2: 1.0}
    """

    recall_at: dict[int, float]


def retrieval_recall(
    query: Tensor,
    query_labels: Tensor,
    gallery: Tensor,
    gallery_labels: Tensor,
    *,
    ks: Sequence[int] = RETRIEVAL_KS,
    centre: bool = True,
    chunk_size: int = 1024,
) -> RetrievalResult:
    """Recall at k of cosine-similarity retrieval (the field's protocol).

    Queries are test videos and the gallery is the training videos. Each set is centred by
    **its own** mean (``centre=True``), rows are L2-normalised and ranked by cosine
    similarity (ties: lower gallery index first). A query is a hit at ``k`` when any of its
    top-``k`` gallery items has its class.

    Args:
        query: Query (test) features. Shape: ``(M, D)``.
        query_labels: Query classes. Shape: ``(M,)``, int64.
        gallery: Gallery (training) features. Shape: ``(N, D)``.
        gallery_labels: Gallery classes. Shape: ``(N,)``, int64.
        ks: Recall levels, each in ``[1, N]``.
        centre: Centre each set by its own mean before normalising.
        chunk_size: Queries compared at once (bounds memory to ``chunk_size * N``).

    Returns:
        R@k for every ``k`` in ``ks``.

    Example:
        >>> import torch
        >>> gallery = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
        >>> query = torch.tensor([[1.0, 0.1], [-0.1, 1.0]])
        >>> labels, kinds = torch.tensor([0, 2]), torch.tensor([0, 1, 2])
        >>> result = retrieval_recall(query, labels, gallery, kinds, ks=(1, 2), centre=False)
        >>> result.recall_at
        {1: 0.5, 2: 1.0}
    """
    query, query_labels = check_labelled(query, query_labels, "query")
    gallery, gallery_labels = check_labelled(gallery, gallery_labels, "gallery")
    check_same_dim(query, gallery)
    if isinstance(ks, str | bytes) or not isinstance(ks, Sequence) or len(ks) == 0:
        raise ValueError(f"`ks` must be a non-empty sequence of ints, got {ks!r}")
    levels = [check_k(k, gallery.shape[0], "ks") for k in ks]
    check_int(chunk_size, "chunk_size", minimum=1)

    query_n = normalise(query, centre=centre)
    gallery_n = normalise(gallery.to(query.device), centre=centre)
    labels = gallery_labels.to(query.device)
    targets = query_labels.to(query.device)
    first_hit = torch.empty(query.shape[0], dtype=torch.long, device=query.device)
    for rows, _, index in ranked_neighbours(
        query_n, gallery_n, k=max(levels), chunk_size=chunk_size
    ):
        hits = labels[index] == targets[rows].unsqueeze(1)
        # 0-based rank of the first hit (argmax returns the first maximum); max(levels) if none.
        rank = hits.float().argmax(1)
        first_hit[rows] = torch.where(hits.any(1), rank, torch.full_like(rank, max(levels)))
    return RetrievalResult({k: float((first_hit < k).float().mean()) for k in levels})
