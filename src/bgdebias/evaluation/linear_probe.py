"""Linear probe: a linear classifier on frozen, standardised features; video-level accuracy."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from bgdebias._validation import check_choice, check_int, check_non_negative, check_positive
from bgdebias.evaluation.accuracy import VideoAccuracy, infer_num_classes, video_accuracy
from bgdebias.evaluation.features import ClipFeatures

ProbeOptimizer = Literal["lbfgs", "adam"]

_OPTIMIZERS = ("lbfgs", "adam")
_DEFAULT_LR = {"lbfgs": 1.0, "adam": 1e-2}


class LinearClassifier(nn.Module):
    """A linear layer on features standardised with fixed (training-set) statistics.

    Args:
        mean: Per-dimension mean of the training features. Shape: ``(D,)``.
        std: Per-dimension standard deviation (1 where a dimension is constant).
            Shape: ``(D,)``.
        num_classes: Number of classes ``K``.

    Shape:
        features ``(N, D)`` -> logits ``(N, K)``.

    Example:
        >>> import torch
        >>> probe = LinearClassifier(torch.tensor([10.0, 0.0]), torch.tensor([2.0, 1.0]), 3)
        >>> probe(torch.zeros(4, 2)).shape
        torch.Size([4, 3])
        >>> at_mean = probe(torch.tensor([[10.0, 0.0]]))  # standardised to 0: logits = bias
        >>> torch.allclose(at_mean[0], probe.linear.bias)
        True
        >>> sorted(probe.state_dict())  # the statistics are saved with the weights
        ['linear.bias', 'linear.weight', 'mean', 'std']
    """

    mean: Tensor
    std: Tensor

    def __init__(self, mean: Tensor, std: Tensor, num_classes: int) -> None:
        super().__init__()
        check_int(num_classes, "num_classes", minimum=2)
        if mean.ndim != 1 or std.shape != mean.shape:
            raise ValueError(
                f"`mean` and `std` must both have shape (D,), got {tuple(mean.shape)} and "
                f"{tuple(std.shape)}"
            )
        self.register_buffer("mean", mean.detach().clone())
        self.register_buffer("std", std.detach().clone())
        self.linear = nn.Linear(mean.shape[0], num_classes, device=mean.device, dtype=mean.dtype)

    def forward(self, features: Tensor) -> Tensor:
        """Class logits. Shape: ``(N, D)`` -> ``(N, K)``."""
        logits: Tensor = self.linear((features - self.mean) / self.std)
        return logits


@dataclass(frozen=True)
class LinearProbeResult:
    """Video-level accuracy of a linear probe (fractions in [0, 1]) and the probe itself.

    Attributes:
        top1: Fraction of test videos classified correctly (logits averaged over clips).
        top5: Top-5 accuracy; ``None`` with fewer than 5 classes.
        per_class_accuracy: Top-1 accuracy per class (``None`` for a class without videos).
        classifier: The trained probe (standardisation included); left out of reports.

    Example:
        >>> import torch
        >>> from bgdebias.evaluation import result_to_dict
        >>> labels = torch.arange(12) % 3
        >>> noise = 0.1 * torch.randn(12, 3, generator=torch.Generator().manual_seed(0))
        >>> clips = ClipFeatures.from_videos(torch.eye(3)[labels] + noise, labels)
        >>> result = linear_probe(clips, clips, epochs=20)
        >>> result.top1, result.top5, result.per_class_accuracy  # no top-5 with 3 classes
        (1.0, None, (1.0, 1.0, 1.0))
        >>> result.classifier(clips.features).shape  # the probe itself, to reuse
        torch.Size([12, 3])
        >>> sorted(result_to_dict(result))  # reports leave the classifier out
        ['per_class_accuracy', 'top1', 'top5']
    """

    top1: float
    top5: float | None
    per_class_accuracy: tuple[float | None, ...]
    classifier: LinearClassifier


def _standardisation(features: Tensor) -> tuple[Tensor, Tensor]:
    mean = features.mean(dim=0)
    std = features.std(dim=0, unbiased=False)
    constant = std <= 1e-6 * features.abs().amax(dim=0).clamp_min(1.0)
    return mean, torch.where(constant, torch.ones_like(std), std)


def train_linear_probe(
    train: ClipFeatures,
    *,
    num_classes: int | None = None,
    optimizer: ProbeOptimizer = "lbfgs",
    epochs: int = 100,
    lr: float | None = None,
    weight_decay: float = 1e-3,
    batch_size: int | None = None,
    seed: int = 0,
) -> LinearClassifier:
    """Fit a softmax-regression probe on frozen per-clip features.

    Features are standardised with the training mean and standard deviation; the loss is
    cross-entropy plus ``weight_decay / 2 * ||W||^2`` (the bias is not decayed), the same
    objective for both optimisers. Each clip is a training example with its video's label.

    Args:
        train: Training clip features.
        num_classes: Number of classes; the largest training label + 1 by default.
        optimizer: ``"lbfgs"`` (full batch, strong-Wolfe line search, ``epochs`` iterations)
            or ``"adam"`` (``epochs`` passes, full batch unless ``batch_size``).
        epochs: L-BFGS iterations or Adam epochs.
        lr: Learning rate; 1.0 for L-BFGS, 1e-2 for Adam by default.
        weight_decay: L2 penalty on the weights, >= 0.
        batch_size: Adam mini-batch size (shuffled with ``seed``); full batch when ``None``.
            Only for Adam.
        seed: Seeds the weight initialisation and the shuffling; the result is deterministic.

    Returns:
        The trained classifier, on the device of ``train.features``.

    Example:
        >>> import torch
        >>> labels = torch.tensor([0, 1] * 4)
        >>> noise = torch.randn(8, generator=torch.Generator().manual_seed(0))
        >>> features = torch.stack([labels.float(), noise], dim=1)  # dimension 0 tells the class
        >>> train = ClipFeatures.from_videos(features, labels)
        >>> probe = train_linear_probe(train, epochs=20)
        >>> probe(features).argmax(dim=1).tolist() == labels.tolist(), probe.training
        (True, False)
        >>> torch.equal(train_linear_probe(train, epochs=20).linear.weight, probe.linear.weight)
        True
    """
    check_choice(optimizer, "optimizer", _OPTIMIZERS)
    check_int(epochs, "epochs", minimum=1)
    rate = check_positive(_DEFAULT_LR[optimizer] if lr is None else lr, "lr")
    decay = check_non_negative(weight_decay, "weight_decay")
    check_int(seed, "seed", minimum=0)
    classes = infer_num_classes(train.labels) if num_classes is None else num_classes
    check_int(classes, "num_classes", minimum=2)
    if int(train.labels.max()) >= classes:
        raise ValueError(
            f"`num_classes` is {classes} but the training labels go up to {int(train.labels.max())}"
        )
    if batch_size is not None:
        check_int(batch_size, "batch_size", minimum=1)
        if optimizer != "adam":
            raise ValueError("`batch_size` is only used with optimizer='adam'; leave it None")

    features, labels = train.features.detach(), train.labels.to(train.features.device)
    generator = torch.Generator().manual_seed(seed)
    classifier = LinearClassifier(*_standardisation(features), classes)
    bound = 1.0 / math.sqrt(features.shape[1])
    with torch.no_grad():
        weight = (torch.rand(classifier.linear.weight.shape, generator=generator) * 2 - 1) * bound
        classifier.linear.weight.copy_(weight)
        classifier.linear.bias.zero_()
    standardised = (features - classifier.mean) / classifier.std
    linear = classifier.linear

    def objective(rows: Tensor | slice) -> Tensor:
        loss = F.cross_entropy(linear(standardised[rows]), labels[rows])
        return loss + 0.5 * decay * linear.weight.pow(2).sum()

    with torch.enable_grad():
        if optimizer == "lbfgs":
            lbfgs = torch.optim.LBFGS(
                linear.parameters(), lr=rate, max_iter=epochs, line_search_fn="strong_wolfe"
            )

            def closure() -> Tensor:
                lbfgs.zero_grad()
                loss = objective(slice(None))
                torch.autograd.backward(loss)
                return loss

            # `LBFGS.step` is untyped in some torch releases; call it through a typed alias.
            run_lbfgs: Callable[[Callable[[], Tensor]], object] = lbfgs.step
            run_lbfgs(closure)
        else:
            adam = torch.optim.Adam(linear.parameters(), lr=rate)
            count = features.shape[0]
            step = count if batch_size is None else batch_size
            for _ in range(epochs):
                order = torch.randperm(count, generator=generator).to(features.device)
                for start in range(0, count, step):
                    adam.zero_grad()
                    torch.autograd.backward(objective(order[start : start + step]))
                    adam.step()
    return classifier.eval()


def evaluate_classifier(
    classifier: nn.Module, test: ClipFeatures, *, num_classes: int | None = None
) -> VideoAccuracy:
    """Video-level accuracy of a classifier on clip features (logits averaged per video).

    Args:
        classifier: Maps features ``(M, D)`` to logits ``(M, K)``.
        test: Test clip features (several clips per video are averaged at the logit level).
        num_classes: ``K``; the classifier's output width by default.

    Returns:
        Top-1, top-5 (``K >= 5``) and per-class accuracy over test videos.

    Example:
        >>> import torch
        >>> clips = ClipFeatures(  # 2 videos of 2 clips; here the features are the logits
        ...     torch.tensor([[1.0, 0.0], [0.0, 0.5], [0.0, 1.0], [0.0, 2.0]]),
        ...     labels=torch.tensor([0, 0, 1, 1]),
        ...     video_index=torch.tensor([0, 0, 1, 1]),
        ... )
        >>> result = evaluate_classifier(torch.nn.Identity(), clips)
        >>> result.top1, result.per_class_accuracy  # clip 2 is wrong, its video is right
        (1.0, (1.0, 1.0))
    """
    was_training = classifier.training
    classifier.eval()
    try:
        with torch.no_grad():
            logits = classifier(test.features)
    finally:
        classifier.train(was_training)
    classes = logits.shape[1] if num_classes is None else num_classes
    return video_accuracy(logits, test, num_classes=classes)


def linear_probe(
    train: ClipFeatures,
    test: ClipFeatures,
    *,
    num_classes: int | None = None,
    optimizer: ProbeOptimizer = "lbfgs",
    epochs: int = 100,
    lr: float | None = None,
    weight_decay: float = 1e-3,
    batch_size: int | None = None,
    seed: int = 0,
) -> LinearProbeResult:
    """Train a linear probe on frozen train features and test it at video level.

    Protocol of the field: the backbone is frozen, a linear classifier is trained on its
    features, and each test video's class is the argmax of its clips' averaged logits.

    Args:
        train: Training clip features (e.g. from :func:`extract_features`).
        test: Test clip features, e.g. 10 uniformly spaced clips per video.
        num_classes: Number of classes; the largest label of either set + 1 by default.
        optimizer: ``"lbfgs"`` or ``"adam"``, see :func:`train_linear_probe`.
        epochs: L-BFGS iterations or Adam epochs.
        lr: Learning rate (optimizer-specific default when ``None``).
        weight_decay: L2 penalty on the weights.
        batch_size: Adam mini-batch size; full batch when ``None``.
        seed: Makes the probe deterministic.

    Returns:
        Top-1, top-5, per-class accuracy and the trained classifier.

    Example:
        >>> import torch
        >>> labels = torch.arange(12) % 3
        >>> features = torch.eye(3)[labels] * 4 + 0.1 * torch.randn(12, 3)
        >>> clips = ClipFeatures.from_videos(features, labels)
        >>> linear_probe(clips, clips).top1
        1.0

    Shape:
        ``train.features`` ``(M, D)`` and ``test.features`` ``(M', D)``.
    """
    if train.features.shape[1] != test.features.shape[1]:
        raise ValueError(
            f"`train` and `test` features must have the same dimension, got "
            f"{train.features.shape[1]} and {test.features.shape[1]}"
        )
    classes = infer_num_classes(train.labels, test.labels) if num_classes is None else num_classes
    classifier = train_linear_probe(
        train,
        num_classes=classes,
        optimizer=optimizer,
        epochs=epochs,
        lr=lr,
        weight_decay=weight_decay,
        batch_size=batch_size,
        seed=seed,
    )
    accuracy = evaluate_classifier(classifier, test, num_classes=classes)
    return LinearProbeResult(accuracy.top1, accuracy.top5, accuracy.per_class_accuracy, classifier)
