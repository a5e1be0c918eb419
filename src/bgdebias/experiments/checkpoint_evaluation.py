"""Evaluate a pretraining checkpoint with one of the field's protocols (``bgdebias evaluate``)."""

from __future__ import annotations

import copy
import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, get_args

import torch
from torch import nn

from bgdebias._validation import check_choice, check_int
from bgdebias.data import UniformClipSampler, eval_clip_transform
from bgdebias.data.datasets.base import VideoClipDataset
from bgdebias.data.datasets.registry import VIDEO_DATASETS, build_video_dataset
from bgdebias.evaluation import (
    BiasStressResult,
    PooledFeatures,
    background_bias_stress_test,
    make_stress_splits,
)
from bgdebias.evaluation.normalized_encoder import NormalizedEncoder
from bgdebias.evaluation.video_protocol import (
    VIDEO_PROTOCOLS,
    VideoProtocolResult,
    run_video_protocol,
)
from bgdebias.training import ResolvedPretrainConfig, pick_device
from bgdebias.training.loading import load_pretrained_encoder

#: ``stress`` (the background-bias stress test, synthetic data) or a video protocol.
EvaluationProtocol = Literal["stress", "linear", "knn", "retrieval", "finetune"]
PROTOCOLS: tuple[EvaluationProtocol, ...] = get_args(EvaluationProtocol)
#: Datasets a checkpoint can be evaluated on.
EVALUATION_DATASETS: tuple[str, ...] = ("synthetic", *VIDEO_DATASETS)


@dataclass(frozen=True)
class CheckpointEvaluation:
    """What :func:`evaluate_checkpoint` ran, and its result.

    Attributes:
        protocol: The protocol that ran (the default resolved).
        dataset: The dataset it ran on (the default resolved).
        result: A :class:`~bgdebias.evaluation.BiasStressResult` for ``stress``, else what
            :func:`~bgdebias.evaluation.run_video_protocol` returns.

    Example:
        See :func:`evaluate_checkpoint`.
    """

    protocol: EvaluationProtocol
    dataset: str
    result: BiasStressResult | VideoProtocolResult


def evaluate_checkpoint(
    checkpoint: str | os.PathLike[str],
    *,
    protocol: EvaluationProtocol | None = None,
    dataset: str | None = None,
    root: str | os.PathLike[str] | None = None,
    annotations: str | os.PathLike[str] | None = None,
    fold: int = 1,
    missing_files: Literal["raise", "skip"] = "raise",
    clips: int = 10,
    batch_size: int = 16,
    epochs: int = 10,
    k: int = 20,
    num_workers: int = 0,
    device: torch.device | str = "auto",
    on_start: Callable[[EvaluationProtocol, str], None] | None = None,
) -> CheckpointEvaluation:
    """Score the query encoder's backbone of a pretraining checkpoint with one protocol.

    ``stress`` runs :func:`~bgdebias.evaluation.background_bias_stress_test` on synthetic
    data made like the run's (aligned / conflicting / static accuracy of a probe trained on
    the biased split and of one trained on the independent split). The other protocols run
    :func:`~bgdebias.evaluation.run_video_protocol` on a video dataset's train split (one
    clip per video) and test split (``clips`` uniformly spaced clips per video), with the
    run's clip length, frame stride and size. The checkpoint is left unchanged
    (fine-tuning trains a copy of the backbone).

    Args:
        checkpoint: A checkpoint written by :func:`~bgdebias.training.pretrain`.
        protocol: One of :data:`PROTOCOLS` (default: ``stress`` on synthetic data,
            ``linear`` otherwise).
        dataset: One of :data:`EVALUATION_DATASETS` (default: the run's dataset).
        root: Video folder of the dataset (needed by every protocol but ``stress``).
        annotations: Folder of the split/annotation files (default: ``root``).
        fold: Official split (UCF101 and HMDB51).
        missing_files: Videos listed in the annotations but absent from ``root``: raise an
            error naming them, or skip them with a warning.
        clips: Test clips per video.
        batch_size: Videos per batch.
        epochs: Fine-tuning epochs.
        k: Neighbours of the kNN classifier.
        num_workers: Loader worker processes.
        device: ``"auto"`` (CUDA when available), or a device.
        on_start: Called with the resolved protocol and dataset once the checkpoint is
            read, before the protocol runs (e.g. to print what runs).

    Returns:
        The protocol, the dataset and the result.

    Raises:
        ValueError: If an option is outside its choices or below 1, if ``stress`` is asked
            on a video dataset or a video protocol on synthetic data, or if ``root`` is
            missing for a video dataset.
        CheckpointError: If the checkpoint cannot be read.

    Example:
        >>> import tempfile
        >>> from bgdebias.training import PretrainConfig, pretrain
        >>> folder = tempfile.TemporaryDirectory()
        >>> run = pretrain(PretrainConfig(
        ...     steps=1, size=32, batch_size=4, synthetic_videos=8, queue_size=8,
        ...     hidden_dim=16, embed_dim=8, device="cpu", output_dir=folder.name,
        ... ), progress=False)
        >>> try:
        ...     evaluate_checkpoint(run.checkpoint, protocol="linear")
        ... except ValueError as error:
        ...     print(error)
        protocol 'linear' needs a video dataset (dataset, root)
        >>> folder.cleanup()
    """
    if protocol is not None:
        check_choice(protocol, "protocol", PROTOCOLS)
    if dataset is not None:
        check_choice(dataset, "dataset", EVALUATION_DATASETS)
    for name, value in (("clips", clips), ("batch_size", batch_size), ("epochs", epochs)):
        check_int(value, name, minimum=1)
    check_int(k, "k", minimum=1)
    encoder, config = load_pretrained_encoder(checkpoint)
    dataset = dataset or config.dataset
    protocol = protocol or ("stress" if dataset == "synthetic" else "linear")
    run_on = device if isinstance(device, torch.device) else pick_device(device)
    if protocol == "stress":
        if dataset != "synthetic":
            raise ValueError(f"protocol 'stress' runs on the synthetic data, not {dataset!r}")
        if on_start is not None:
            on_start(protocol, dataset)
        stress = _stress_test(
            encoder.backbone, config, batch_size=batch_size, num_workers=num_workers, device=run_on
        )
        return CheckpointEvaluation(protocol, dataset, stress)
    if dataset == "synthetic":
        raise ValueError(f"protocol {protocol!r} needs a video dataset (dataset, root)")
    if root is None:
        raise ValueError(f"`root` is required for dataset {dataset!r}")
    if on_start is not None:
        on_start(protocol, dataset)
    read = functools.partial(
        _video_split,
        dataset,
        root,
        config,
        annotations=annotations,
        fold=fold,
        missing_files=missing_files,
    )
    train, test = read(split="train", clips=1), read(split="test", clips=clips)
    result = run_video_protocol(
        check_choice(protocol, "protocol", VIDEO_PROTOCOLS),
        PooledFeatures(copy.deepcopy(encoder.backbone).to(run_on)),
        train,
        test,
        num_classes=len(train.classes),
        batch_size=batch_size,
        epochs=epochs,
        k=k,
        num_workers=num_workers,
        device=run_on,
    )
    return CheckpointEvaluation(protocol, dataset, result)


def _stress_test(
    backbone: nn.Module,
    config: ResolvedPretrainConfig,
    *,
    batch_size: int,
    num_workers: int,
    device: torch.device,
) -> BiasStressResult:
    # Synthetic data made like the run's: its clip length, size, bias and seed.
    splits = make_stress_splits(
        num_frames=config.num_frames,
        size=config.size,
        bias=config.synthetic_bias,
    )
    return background_bias_stress_test(
        NormalizedEncoder(backbone.to(device)),
        splits,
        batch_size=batch_size,
        device=device,
        num_workers=num_workers,
        seed=config.seed,
    )


def _video_split(
    dataset: str,
    root: str | os.PathLike[str],
    config: ResolvedPretrainConfig,
    *,
    split: Literal["train", "test"],
    clips: int,
    annotations: str | os.PathLike[str] | None,
    fold: int,
    missing_files: Literal["raise", "skip"],
) -> VideoClipDataset:
    sampler = UniformClipSampler(config.num_frames, stride=config.frame_stride, num_clips=clips)
    return build_video_dataset(
        dataset,
        root,
        split=split,
        clip_sampler=sampler,
        annotations=annotations,
        fold=fold,
        transform=eval_clip_transform(config.size),
        missing_files=missing_files,
    )
