"""Full fine-tuning: backbone and a new linear head trained end to end; video-level accuracy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from bgdebias._inference import encoder_device, frozen_encoder
from bgdebias._validation import (
    check_choice,
    check_int,
    check_non_negative,
    check_positive,
    check_unit,
)
from bgdebias.evaluation._batches import (
    DataSource,
    flatten_clips,
    iterate_batches,
    non_empty,
    split_batch,
)
from bgdebias.evaluation.accuracy import video_accuracy
from bgdebias.evaluation.features import extract_features

FineTuneOptimizer = Literal["sgd", "adamw"]

_OPTIMIZERS = ("sgd", "adamw")


@dataclass(frozen=True)
class FineTuneResult:
    """Video-level accuracy after fine-tuning (fractions in [0, 1]) and the trained model.

    Attributes:
        top1: Fraction of test videos classified correctly (logits averaged over clips).
        top5: Top-5 accuracy; ``None`` with fewer than 5 classes.
        per_class_accuracy: Top-1 accuracy per class (``None`` for a class without videos).
        steps: Optimiser steps taken.
        losses: Training loss of every step, in order.
        model: ``nn.Sequential(encoder, head)``, mapping clips to logits; left out of reports.

    Example:
        >>> from torch import nn
        >>> from bgdebias.evaluation import flatten_metrics
        >>> result = FineTuneResult(0.5, None, (1.0, 0.0), 2, (0.7, 0.6), nn.Sequential())
        >>> flatten_metrics(result)  # the scalars a report shows; lists and the model left out
        {'top1': 0.5, 'top5': None, 'steps': 2.0}
    """

    top1: float
    top5: float | None
    per_class_accuracy: tuple[float | None, ...]
    steps: int
    losses: tuple[float, ...]
    model: nn.Sequential


def _feature_dim(encoder: nn.Module, clips: Tensor) -> int:
    with frozen_encoder(encoder):
        output = encoder(clips[:1])
    if not isinstance(output, Tensor) or output.ndim != 2:
        described = f"shape {tuple(output.shape)}" if isinstance(output, Tensor) else type(output)
        raise ValueError(
            f"`encoder` must return features of shape (B, D), got {described}; wrap a "
            "backbone that returns `BackboneOutput` in `PooledFeatures`"
        )
    return int(output.shape[1])


def fine_tune(
    encoder: nn.Module,
    train_data: DataSource,
    test_data: DataSource,
    *,
    num_classes: int,
    epochs: int = 1,
    max_steps: int | None = None,
    batch_size: int = 8,
    optimizer: FineTuneOptimizer = "adamw",
    lr: float = 1e-3,
    weight_decay: float = 1e-4,
    momentum: float = 0.9,
    seed: int = 0,
    device: torch.device | str | None = None,
    num_workers: int = 0,
) -> FineTuneResult:
    """Fine-tune ``encoder`` with a new linear head, then test at video level.

    The encoder is trained **in place** (pass ``copy.deepcopy(backbone)`` to keep the
    original). Training uses cross-entropy on single clips (a training sample holding
    ``N`` clips contributes all of them); testing runs the model frozen on every clip and
    averages each video's logits, as the field's protocol does with 10 uniformly spaced
    clips. The global RNG is forked and seeded with ``seed`` for the run (dropout, random
    clip sampling and augmentations become repeatable) and restored afterwards.

    Args:
        encoder: Maps clips ``(B, C, T, H, W)`` to features ``(B, D)``.
        train_data: Labelled training dataset (shuffled with ``seed``) or a re-iterable
            source of batches such as a ``DataLoader`` (used as it is), see
            :func:`extract_features` for the batch format.
        test_data: Labelled test dataset or iterable of batches.
        num_classes: Number of classes ``K``.
        epochs: Passes over ``train_data``.
        max_steps: Stop after this many optimiser steps (``epochs`` is then an upper bound).
        batch_size: Videos per batch when a dataset is given.
        optimizer: ``"adamw"`` (default) or ``"sgd"`` (with ``momentum``). On small data
            Adam-type optimisers learn motion where plain SGD stalls (see
            :ref:`learnable-first`).
        lr: Learning rate for backbone and head.
        weight_decay: Weight decay (decoupled for AdamW, L2 for SGD).
        momentum: SGD momentum in [0, 1].
        seed: Seeds the head, the shuffling and the global RNG during training.
        device: Where to train; by default the encoder's device.
        num_workers: Loader workers when datasets are given.

    Returns:
        Top-1, top-5, per-class accuracy, the loss curve and the fine-tuned model.

    Shape:
        clips ``(B, C, T, H, W)`` or ``(B, N, C, T, H, W)`` -> logits ``(B * N, K)``.

    Example:
        >>> import torch
        >>> from bgdebias.data import MovingSpriteDataset
        >>> from bgdebias.evaluation import PooledFeatures
        >>> from bgdebias.models import Small3DCNN
        >>> backbone = Small3DCNN(base_width=2, generator=torch.Generator().manual_seed(0))
        >>> train = MovingSpriteDataset(split="train", length=8, num_classes=2, size=32)
        >>> test = MovingSpriteDataset(split="conflicting", length=4, num_classes=2, size=32)
        >>> result = fine_tune(
        ...     PooledFeatures(backbone), train, test, num_classes=2, epochs=2, batch_size=4
        ... )
        >>> result.steps, len(result.losses), 0.0 <= result.top1 <= 1.0  # 2 epochs x 2 batches
        (4, 4, True)
        >>> with torch.no_grad():
        ...     logits = result.model.eval()(test.batch([0, 1]).clip)  # backbone + new head
        >>> logits.shape
        torch.Size([2, 2])
    """
    if not isinstance(encoder, nn.Module):
        raise TypeError(
            f"`encoder` must be an nn.Module to fine-tune, got {type(encoder).__name__}"
        )
    if not any(p.requires_grad for p in encoder.parameters()):
        raise ValueError("`encoder` has no trainable parameters to fine-tune")
    check_int(num_classes, "num_classes", minimum=2)
    check_int(epochs, "epochs", minimum=1)
    if max_steps is not None:
        check_int(max_steps, "max_steps", minimum=1)
    check_choice(optimizer, "optimizer", _OPTIMIZERS)
    rate = check_positive(lr, "lr")
    decay = check_non_negative(weight_decay, "weight_decay")
    beta = check_unit(momentum, "momentum")
    check_int(seed, "seed", minimum=0)
    target = torch.device(device) if device is not None else encoder_device(encoder)
    generator = torch.Generator().manual_seed(seed)
    batches = iterate_batches(
        train_data,
        "train_data",
        batch_size=batch_size,
        num_workers=num_workers,
        shuffle=True,
        generator=generator,
    )

    fork_devices = [target.index or 0] if target.type == "cuda" else []
    with torch.random.fork_rng(devices=fork_devices):
        torch.manual_seed(seed)
        encoder.to(target)
        model: nn.Sequential | None = None
        opt: torch.optim.Optimizer | None = None
        losses: list[float] = []
        modes = [(module, module.training) for module in encoder.modules()]
        done = False
        for _ in range(epochs):
            for batch in non_empty(batches, "train_data"):
                clips, labels = split_batch(batch)
                flat, per_video = flatten_clips(clips.to(target, non_blocking=True))
                targets = labels.to(target).repeat_interleave(per_video)
                if int(targets.max()) >= num_classes:
                    raise ValueError(
                        f"`num_classes` is {num_classes} but a training label is "
                        f"{int(targets.max())}"
                    )
                if model is None or opt is None:
                    head = nn.Linear(_feature_dim(encoder, flat), num_classes).to(target)
                    model = nn.Sequential(encoder, head)
                    params = list(model.parameters())
                    opt = (
                        torch.optim.AdamW(params, lr=rate, weight_decay=decay)
                        if optimizer == "adamw"
                        else torch.optim.SGD(params, lr=rate, momentum=beta, weight_decay=decay)
                    )
                model.train()
                opt.zero_grad()
                loss = F.cross_entropy(model(flat), targets)
                torch.autograd.backward(loss)
                opt.step()
                losses.append(float(loss.detach()))
                if max_steps is not None and len(losses) >= max_steps:
                    done = True
                    break
            if done:
                break
        if model is None:  # pragma: no cover - non_empty raised already
            raise ValueError("`train_data` yielded no batches")
        for module, mode in modes:
            module.training = mode
        test = extract_features(
            model, test_data, batch_size=batch_size, device=target, num_workers=num_workers
        )
    accuracy = video_accuracy(test.features, test, num_classes=num_classes)
    return FineTuneResult(
        accuracy.top1,
        accuracy.top5,
        accuracy.per_class_accuracy,
        len(losses),
        tuple(losses),
        model,
    )
