"""The field's protocols on a video dataset's train and test split, chosen by name."""

from __future__ import annotations

from typing import Literal, get_args

import torch
from torch import nn

from bgdebias._validation import check_choice, check_int
from bgdebias.evaluation._batches import DataSource
from bgdebias.evaluation.accuracy import VideoAccuracy
from bgdebias.evaluation.features import extract_features
from bgdebias.evaluation.fine_tune import FineTuneResult, fine_tune
from bgdebias.evaluation.knn import knn_classify
from bgdebias.evaluation.linear_probe import LinearProbeResult, linear_probe
from bgdebias.evaluation.retrieval import RETRIEVAL_KS, RetrievalResult, retrieval_recall

#: A protocol on video data: linear probe, kNN, retrieval or full fine-tuning.
VideoProtocol = Literal["linear", "knn", "retrieval", "finetune"]
VIDEO_PROTOCOLS: tuple[VideoProtocol, ...] = get_args(VideoProtocol)

#: What :func:`run_video_protocol` returns, by protocol.
VideoProtocolResult = LinearProbeResult | VideoAccuracy | RetrievalResult | FineTuneResult


def run_video_protocol(
    protocol: VideoProtocol,
    encoder: nn.Module,
    train: DataSource,
    test: DataSource,
    *,
    num_classes: int | None = None,
    batch_size: int = 16,
    epochs: int = 10,
    k: int = 20,
    num_workers: int = 0,
    device: torch.device | str | None = None,
) -> VideoProtocolResult:
    """Score an encoder with one protocol: the test split against the train split.

    ``linear`` trains a linear probe on frozen features; ``knn`` classifies each test
    video by its ``k`` nearest train videos; ``retrieval`` reports R@1/5/10/20/50 (those
    not above the gallery size; test queries against the train gallery, each centred by
    its own mean); ``finetune`` trains the encoder and a new linear head end to end, **in
    place** (pass a copy to keep the original). A video with several clips is scored by
    its features (or logits) averaged over them.

    Args:
        protocol: One of :data:`VIDEO_PROTOCOLS`.
        encoder: Clips ``(B, C, T, H, W)`` -> features ``(B, D)`` (e.g.
            :class:`~bgdebias.evaluation.PooledFeatures` around a backbone).
        train: The training videos (a dataset or an iterable of batches).
        test: The test videos, one or several clips each.
        num_classes: Classes of the fine-tuning head (default: ``len(train.classes)``).
            Only ``finetune`` reads it.
        batch_size: Videos per batch.
        epochs: Fine-tuning epochs.
        k: Neighbours of the kNN classifier.
        num_workers: Loader worker processes.
        device: Where the encoder runs (default: where its parameters are).

    Returns:
        A :class:`~bgdebias.evaluation.LinearProbeResult`,
        :class:`~bgdebias.evaluation.VideoAccuracy`,
        :class:`~bgdebias.evaluation.RetrievalResult` or
        :class:`~bgdebias.evaluation.FineTuneResult`, by protocol.

    Raises:
        ValueError: If ``protocol`` is unknown or ``batch_size``, ``epochs`` or ``k`` is
            below 1.

    Example:
        >>> import torch
        >>> from bgdebias.data import MovingSpriteDataset
        >>> from bgdebias.evaluation import PooledFeatures
        >>> from bgdebias.models import Small3DCNN
        >>> encoder = PooledFeatures(Small3DCNN(base_width=2))
        >>> train = MovingSpriteDataset(split="train", length=8, size=32)
        >>> test = MovingSpriteDataset(split="independent", length=4, size=32)
        >>> result = run_video_protocol("retrieval", encoder, train, test, batch_size=4)
        >>> sorted(result.recall_at)  # R@k up to the gallery's 8 videos
        [1, 5]
    """
    protocol = check_choice(protocol, "protocol", VIDEO_PROTOCOLS)
    for name, value in (("batch_size", batch_size), ("epochs", epochs), ("k", k)):
        check_int(value, name, minimum=1)
    if protocol == "finetune":
        if num_classes is None:
            num_classes = len(train.classes)
        return fine_tune(
            encoder,
            train,
            test,
            num_classes=num_classes,
            epochs=epochs,
            batch_size=batch_size,
            device=device,
        )
    train_features = extract_features(
        encoder, train, batch_size=batch_size, device=device, num_workers=num_workers
    )
    test_features = extract_features(
        encoder, test, batch_size=batch_size, device=device, num_workers=num_workers
    )
    if protocol == "linear":
        return linear_probe(train_features, test_features)
    gallery, gallery_labels = train_features.video_mean(), train_features.video_labels()
    query, query_labels = test_features.video_mean(), test_features.video_labels()
    if protocol == "knn":
        return knn_classify(query, query_labels, gallery, gallery_labels, k=k)
    ks = tuple(cutoff for cutoff in RETRIEVAL_KS if cutoff <= gallery.shape[0]) or (
        gallery.shape[0],
    )
    return retrieval_recall(query, query_labels, gallery, gallery_labels, ks=ks)
