"""Shared by kNN and retrieval: input checks, centring, cosine similarity, ranked neighbours."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor

from bgdebias._validation import check_int, check_tensor


def check_features(features: object, name: str) -> Tensor:
    """Check a non-empty ``(N, D)`` floating-point feature matrix and return it."""
    rows = check_tensor(features, name)
    if rows.ndim != 2:
        raise ValueError(f"`{name}` must be 2D of shape (N, D), got shape {tuple(rows.shape)}")
    if not rows.is_floating_point():
        raise TypeError(f"`{name}` must be floating point, got {rows.dtype}")
    if rows.shape[0] == 0:
        raise ValueError(f"`{name}` must hold at least one row, got shape {tuple(rows.shape)}")
    return rows


def check_labelled(features: object, labels: object, name: str) -> tuple[Tensor, Tensor]:
    """Check ``(N, D)`` features (see :func:`check_features`) with ``(N,)`` integer labels."""
    rows = check_features(features, name)
    tags = check_tensor(labels, f"{name}_labels")
    if tags.shape != (rows.shape[0],):
        raise ValueError(
            f"`{name}_labels` must have shape ({rows.shape[0]},) to match `{name}` of shape "
            f"{tuple(rows.shape)}, got {tuple(tags.shape)}"
        )
    if tags.dtype.is_floating_point or tags.dtype == torch.bool or tags.is_complex():
        raise TypeError(f"`{name}_labels` must hold integer class indices, got {tags.dtype}")
    if int(tags.min()) < 0:
        raise ValueError(f"`{name}_labels` must be >= 0, got minimum {int(tags.min())}")
    return rows, tags.long()


def check_same_dim(query: Tensor, gallery: Tensor) -> None:
    """Raise unless query and gallery features have the same dimension ``D``."""
    if query.shape[1] != gallery.shape[1]:
        raise ValueError(
            f"`query` and `gallery` must have the same feature dimension, got "
            f"{query.shape[1]} and {gallery.shape[1]}"
        )


def check_k(k: object, gallery_size: int, name: str = "k") -> int:
    """Check ``1 <= k <= gallery_size``."""
    value = check_int(k, name, minimum=1)
    if value > gallery_size:
        raise ValueError(
            f"`{name}` = {value} is larger than the gallery ({gallery_size} items); "
            f"use at most {gallery_size}"
        )
    return value


def normalise(features: Tensor, *, centre: bool) -> Tensor:
    """Optionally subtract the set's own mean, then L2-normalise each row.

    Shape:
        ``(N, D)`` -> ``(N, D)``; a zero row stays zero.
    """
    rows = features.float()
    if centre:
        rows = rows - rows.mean(dim=0, keepdim=True)
    return torch.nn.functional.normalize(rows, dim=1)


def ranked_neighbours(
    query: Tensor, gallery: Tensor, *, k: int, chunk_size: int
) -> Iterator[tuple[slice, Tensor, Tensor]]:
    """The ``k`` most similar gallery rows of each query row, most similar first.

    Both inputs must already be normalised; the similarity is their dot product. Ties are
    broken by the lower gallery index (a stable sort), so results are deterministic.

    Yields:
        ``(rows, similarity, index)`` per chunk of queries: the query slice, and the
        similarities and gallery indices of the neighbours. Shape: ``(chunk, k)`` each.
    """
    for start in range(0, query.shape[0], chunk_size):
        rows = slice(start, start + chunk_size)
        similarity = query[rows] @ gallery.T
        ordered, index = torch.sort(similarity, dim=1, descending=True, stable=True)
        yield rows, ordered[:, :k], index[:, :k]
