"""Video-level accuracy: per-clip logits averaged over each video's clips, then top-k."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

from bgdebias._validation import check_int, check_tensor
from bgdebias.evaluation.features import ClipFeatures


@dataclass(frozen=True)
class VideoAccuracy:
    """Video-level accuracy of a classifier (all values are fractions in [0, 1]).

    Attributes:
        top1: Fraction of videos whose highest averaged logit is their class.
        top5: Fraction of videos whose class is among the 5 highest averaged logits; ``None``
            with fewer than 5 classes.
        per_class_accuracy: Top-1 accuracy over the videos of each class, in class order;
            ``None`` for a class without test videos.

    Example:
        >>> import torch
        >>> logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [0.0, 3.0], [1.0, 2.0]])
        >>> result = accuracy_from_logits(logits, torch.tensor([0, 0, 1, 1]), num_classes=2)
        >>> result.top1, result.top5, result.per_class_accuracy  # no top-5 with 2 classes
        (0.75, None, (0.5, 1.0))
    """

    top1: float
    top5: float | None
    per_class_accuracy: tuple[float | None, ...]


def video_logits(clip_logits: Tensor, clips: ClipFeatures) -> tuple[Tensor, Tensor]:
    """Average per-clip logits over each video's clips.

    Args:
        clip_logits: One row of class scores per clip of ``clips``. Shape: ``(M, K)``.
        clips: The clips the logits belong to (their labels and video indices are used).

    Returns:
        ``(logits, labels)`` per video. Shape: ``(V, K)`` and ``(V,)``.
    """
    check_tensor(clip_logits, "clip_logits")
    return clips.video_mean(clip_logits), clips.video_labels().to(clip_logits.device)


def accuracy_from_logits(logits: Tensor, labels: Tensor, *, num_classes: int) -> VideoAccuracy:
    """Top-1, top-5 and per-class accuracy of video-level logits.

    Ties between classes go to the lowest class index (``argmax`` semantics).

    Args:
        logits: Class scores per video. Shape: ``(V, K)`` with ``K == num_classes``.
        labels: Class per video. Shape: ``(V,)``, int64.
        num_classes: Number of classes ``K``.

    Returns:
        The accuracies.

    Example:
        >>> import torch
        >>> logits = torch.arange(6.0).repeat(2, 1)  # both videos: class 5 first, 0 last
        >>> result = accuracy_from_logits(logits, torch.tensor([5, 0]), num_classes=6)
        >>> result.top1, result.top5  # class 0 is not among the 5 highest
        (0.5, 0.5)
        >>> result.per_class_accuracy  # None: no video of that class
        (0.0, None, None, None, None, 1.0)
    """
    check_int(num_classes, "num_classes", minimum=2)
    check_tensor(logits, "logits")
    check_tensor(labels, "labels")
    if logits.ndim != 2 or logits.shape[1] != num_classes:
        raise ValueError(f"`logits` must have shape (V, {num_classes}), got {tuple(logits.shape)}")
    if labels.shape != (logits.shape[0],):
        raise ValueError(
            f"`labels` must have shape ({logits.shape[0]},) to match `logits`, "
            f"got {tuple(labels.shape)}"
        )
    if logits.shape[0] == 0:
        raise ValueError("`logits` must hold at least one video, got 0 rows")
    if int(labels.min()) < 0 or int(labels.max()) >= num_classes:
        raise ValueError(
            f"`labels` must be in [0, {num_classes}), got range "
            f"[{int(labels.min())}, {int(labels.max())}]"
        )
    labels = labels.to(logits.device)
    correct = logits.argmax(dim=1) == labels
    top5 = None
    if num_classes >= 5:
        top5 = float((logits.topk(5, dim=1).indices == labels.unsqueeze(1)).any(1).float().mean())
    per_class: list[float | None] = []
    for cls in range(num_classes):
        members = labels == cls
        per_class.append(float(correct[members].float().mean()) if bool(members.any()) else None)
    return VideoAccuracy(float(correct.float().mean()), top5, tuple(per_class))


def video_accuracy(clip_logits: Tensor, clips: ClipFeatures, *, num_classes: int) -> VideoAccuracy:
    """Video-level accuracy of per-clip logits: logits averaged over each video's clips.

    Args:
        clip_logits: One row of class scores per clip. Shape: ``(M, K)``.
        clips: The clips the logits belong to.
        num_classes: Number of classes ``K``.

    Returns:
        Top-1, top-5 (``K >= 5``) and per-class accuracy over videos.

    Example:
        >>> import torch
        >>> clips = ClipFeatures(  # 2 videos of 2 clips each
        ...     torch.zeros(4, 1), labels=torch.tensor([0, 0, 1, 1]),
        ...     video_index=torch.tensor([0, 0, 1, 1]),
        ... )
        >>> clip_logits = torch.tensor([[2.0, 0.0], [1.0, 0.0], [0.0, 3.0], [1.0, 0.0]])
        >>> video_accuracy(clip_logits, clips, num_classes=2).top1  # the last clip is outvoted
        1.0
        >>> accuracy_from_logits(clip_logits, clips.labels, num_classes=2).top1  # per clip
        0.75
    """
    logits, labels = video_logits(clip_logits, clips)
    return accuracy_from_logits(logits, labels, num_classes=num_classes)


def infer_num_classes(*label_sets: Tensor) -> int:
    """Largest label over all sets + 1 (at least 2)."""
    return max(2, *(int(labels.max()) + 1 for labels in label_sets))
