"""k-nearest-neighbour classification on cosine similarity, with InstDisc weighted voting."""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from bgdebias._validation import check_choice, check_int, check_positive
from bgdebias.evaluation._neighbours import (
    check_features,
    check_k,
    check_labelled,
    check_same_dim,
    normalise,
    ranked_neighbours,
)
from bgdebias.evaluation.accuracy import VideoAccuracy, accuracy_from_logits, infer_num_classes

KNNWeighting = Literal["exponential", "uniform"]

_WEIGHTINGS = ("exponential", "uniform")


def knn_scores(
    query: Tensor,
    gallery: Tensor,
    gallery_labels: Tensor,
    *,
    k: int = 20,
    temperature: float = 0.07,
    weighting: KNNWeighting = "exponential",
    num_classes: int | None = None,
    centre: bool = False,
    chunk_size: int = 1024,
) -> Tensor:
    """Class votes of each query from its ``k`` nearest gallery items (cosine similarity).

    With ``weighting="exponential"`` (InstDisc, Wu et al. 2018) a neighbour with similarity
    ``s`` votes ``exp(s / temperature)`` for its class; with ``"uniform"`` every neighbour
    votes 1. Features are L2-normalised; with ``centre=True`` each set is first centred by
    its own mean (as the retrieval protocol does; InstDisc does not centre).

    Args:
        query: Query features. Shape: ``(M, D)``.
        gallery: Gallery (training) features. Shape: ``(N, D)``.
        gallery_labels: Gallery classes. Shape: ``(N,)``, int64.
        k: Neighbours per query, ``1 <= k <= N``.
        temperature: Temperature of the exponential weights, > 0.
        weighting: ``"exponential"`` or ``"uniform"``.
        num_classes: ``K``; the largest gallery label + 1 by default.
        centre: Centre each set by its own mean before normalising.
        chunk_size: Queries compared at once (bounds memory to ``chunk_size * N``).

    Returns:
        Summed votes per class. Shape: ``(M, K)``.

    Example:
        >>> import torch
        >>> gallery = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
        >>> labels = torch.tensor([0, 0, 1, 1])
        >>> query = torch.tensor([[1.0, 0.2], [0.2, 1.0]])
        >>> knn_scores(query, gallery, labels, k=3, weighting="uniform").tolist()  # votes
        [[2.0, 1.0], [1.0, 2.0]]
        >>> scores = knn_scores(query, gallery, labels, k=3)  # exp(similarity / 0.07) each
        >>> scores.shape, scores.argmax(dim=1).tolist()
        (torch.Size([2, 2]), [0, 1])
    """
    gallery, gallery_labels = check_labelled(gallery, gallery_labels, "gallery")
    query = check_features(query, "query")
    check_same_dim(query, gallery)
    neighbours = check_k(k, gallery.shape[0])
    tau = check_positive(temperature, "temperature")
    check_choice(weighting, "weighting", _WEIGHTINGS)
    check_int(chunk_size, "chunk_size", minimum=1)
    classes = infer_num_classes(gallery_labels) if num_classes is None else num_classes
    check_int(classes, "num_classes", minimum=2)
    if int(gallery_labels.max()) >= classes:
        raise ValueError(
            f"`gallery_labels` must be < num_classes={classes}, got {int(gallery_labels.max())}"
        )

    query_n = normalise(query, centre=centre)
    gallery_n = normalise(gallery.to(query.device), centre=centre)
    labels = gallery_labels.to(query.device)
    scores = query_n.new_zeros(query.shape[0], classes)
    for rows, similarity, index in ranked_neighbours(
        query_n, gallery_n, k=neighbours, chunk_size=chunk_size
    ):
        weights = (
            torch.exp(similarity / tau)
            if weighting == "exponential"
            else torch.ones_like(similarity)
        )
        scores[rows].scatter_add_(1, labels[index], weights)
    return scores


def knn_classify(
    query: Tensor,
    query_labels: Tensor,
    gallery: Tensor,
    gallery_labels: Tensor,
    *,
    k: int = 20,
    temperature: float = 0.07,
    weighting: KNNWeighting = "exponential",
    num_classes: int | None = None,
    centre: bool = False,
    chunk_size: int = 1024,
) -> VideoAccuracy:
    """Accuracy of kNN classification of the queries against a labelled gallery.

    The predicted class is the one with the most votes (:func:`knn_scores`); a tie goes to
    the lowest class index. Pass video-level features (e.g. ``ClipFeatures.video_mean()``
    with ``ClipFeatures.video_labels()``) to classify videos.

    Args:
        query: Query (test) features. Shape: ``(M, D)``.
        query_labels: Query classes. Shape: ``(M,)``, int64.
        gallery: Gallery (training) features. Shape: ``(N, D)``.
        gallery_labels: Gallery classes. Shape: ``(N,)``, int64.
        k: Neighbours per query.
        temperature: Temperature of the exponential weights.
        weighting: ``"exponential"`` (InstDisc) or ``"uniform"`` (majority vote).
        num_classes: ``K``; the largest label of either set + 1 by default.
        centre: Centre each set by its own mean before normalising.
        chunk_size: Queries compared at once.

    Returns:
        Top-1, top-5 (``K >= 5``) and per-class accuracy over the queries.

    Example:
        >>> import torch
        >>> gallery = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
        >>> gallery_labels = torch.tensor([0, 0, 1, 1])
        >>> query = torch.tensor([[1.0, 0.2], [0.2, 1.0], [0.6, 0.4]])
        >>> result = knn_classify(query, torch.tensor([0, 1, 1]), gallery, gallery_labels, k=2)
        >>> round(result.top1, 3), result.per_class_accuracy  # query 3's neighbours: class 0
        (0.667, (1.0, 0.5))
    """
    query, query_labels = check_labelled(query, query_labels, "query")
    gallery, gallery_labels = check_labelled(gallery, gallery_labels, "gallery")
    classes = (
        infer_num_classes(query_labels, gallery_labels) if num_classes is None else num_classes
    )
    scores = knn_scores(
        query,
        gallery,
        gallery_labels,
        k=k,
        temperature=temperature,
        weighting=weighting,
        num_classes=classes,
        centre=centre,
        chunk_size=chunk_size,
    )
    return accuracy_from_logits(scores, query_labels.to(scores.device), num_classes=classes)
