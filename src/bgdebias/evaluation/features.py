"""Frozen features of every clip of a dataset, with the video each clip comes from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from bgdebias._inference import Encoder, encoder_device, frozen_encoder
from bgdebias._validation import check_tensor
from bgdebias.evaluation._batches import (
    DataSource,
    flatten_clips,
    iterate_batches,
    non_empty,
    split_batch,
)


@dataclass(frozen=True)
class ClipFeatures:
    """Per-clip features of a set of videos.

    Clips of one video share its label and its ``video_index``; a video tested with 10
    uniformly spaced clips contributes 10 rows.

    Attributes:
        features: One row per clip. Shape: ``(M, D)``, float.
        labels: Class of each clip's video. Shape: ``(M,)``, int64.
        video_index: Video of each clip, numbered ``0 .. V-1`` in the order they were read.
            Shape: ``(M,)``, int64.

    Example:
        >>> import torch
        >>> clips = ClipFeatures(  # 3 clips of video 0, 1 clip of video 1
        ...     torch.tensor([[1.0, 0.0], [3.0, 0.0], [2.0, 3.0], [0.0, 4.0]]),
        ...     labels=torch.tensor([1, 1, 1, 0]),
        ...     video_index=torch.tensor([0, 0, 0, 1]),
        ... )
        >>> clips.num_videos, clips.video_labels().tolist()
        (2, [1, 0])
        >>> clips.video_mean().tolist()  # features averaged over each video's clips
        [[2.0, 1.0], [0.0, 4.0]]
        >>> ClipFeatures.from_videos(torch.zeros(3, 8), torch.tensor([0, 1, 2])).video_index
        tensor([0, 1, 2])
    """

    features: Tensor
    labels: Tensor
    video_index: Tensor

    def __post_init__(self) -> None:
        check_tensor(self.features, "features")
        check_tensor(self.labels, "labels")
        check_tensor(self.video_index, "video_index")
        if self.features.ndim != 2:
            raise ValueError(
                f"`features` must be 2D of shape (M, D), got shape {tuple(self.features.shape)}"
            )
        if not self.features.is_floating_point():
            raise TypeError(f"`features` must be floating point, got {self.features.dtype}")
        rows = self.features.shape[0]
        if rows == 0:
            raise ValueError("`features` must hold at least one clip, got 0 rows")
        for name, value in (("labels", self.labels), ("video_index", self.video_index)):
            if value.shape != (rows,):
                raise ValueError(
                    f"`{name}` must have shape ({rows},) to match `features` of shape "
                    f"{tuple(self.features.shape)}, got {tuple(value.shape)}"
                )
            if value.dtype != torch.long:
                raise TypeError(f"`{name}` must be int64, got {value.dtype}")
        if int(self.labels.min()) < 0:
            raise ValueError(f"`labels` must be >= 0, got minimum {int(self.labels.min())}")
        if int(self.video_index.min()) < 0:
            raise ValueError("`video_index` must be >= 0")

    @classmethod
    def from_videos(cls, features: Tensor, labels: Tensor) -> ClipFeatures:
        """One clip per video: ``video_index`` is ``0 .. M-1``.

        Args:
            features: Shape: ``(M, D)``.
            labels: Shape: ``(M,)``, int64.

        Returns:
            The clip features.
        """
        check_tensor(features, "features")
        return cls(features, labels, torch.arange(features.shape[0], device=features.device))

    @property
    def num_videos(self) -> int:
        """Number of videos ``V`` (largest video index + 1)."""
        return int(self.video_index.max()) + 1

    def video_labels(self) -> Tensor:
        """The label of each video, checking that all its clips agree.

        Returns:
            Shape: ``(V,)``, int64.
        """
        videos = self.num_videos
        labels = torch.full((videos,), -1, dtype=torch.long, device=self.labels.device)
        labels.scatter_(0, self.video_index, self.labels)
        counts = torch.bincount(self.video_index, minlength=videos)
        if bool((counts == 0).any()):
            missing = int((counts == 0).nonzero()[0])
            raise ValueError(f"`video_index` skips video {missing}; videos must be 0 .. V-1")
        disagree = labels[self.video_index] != self.labels
        if bool(disagree.any()):
            video = int(self.video_index[disagree.nonzero()[0]])
            raise ValueError(f"the clips of video {video} carry different labels")
        return labels

    def video_mean(self, values: Tensor | None = None) -> Tensor:
        """Average per-clip rows over each video's clips.

        Args:
            values: Rows to average (e.g. per-clip logits); the features when ``None``.
                Shape: ``(M, K)``.

        Returns:
            One row per video. Shape: ``(V, K)``.
        """
        rows = self.features if values is None else check_tensor(values, "values")
        if rows.ndim != 2 or rows.shape[0] != self.video_index.shape[0]:
            raise ValueError(
                f"`values` must have shape ({self.video_index.shape[0]}, K) (one row per clip), "
                f"got {tuple(rows.shape)}"
            )
        videos = self.num_videos
        index = self.video_index.to(rows.device)
        total = rows.new_zeros(videos, rows.shape[1]).index_add_(0, index, rows)
        counts = torch.bincount(index, minlength=videos).clamp_min(1).to(rows.dtype)
        return total / counts.unsqueeze(1)


class PooledFeatures(nn.Module):
    """Adapt a backbone whose output carries ``.pooled`` (e.g. ``BackboneOutput``) to an encoder.

    Being a module, it is switched to eval mode by the frozen-feature protocols together
    with the backbone it wraps (a ``lambda`` would hide the backbone from them).

    Args:
        backbone: A module whose forward returns an object with a ``pooled`` tensor
            attribute, or a tensor (returned unchanged).
        attribute: Name of the attribute to read.

    Shape:
        clips ``(B, C, T, H, W)`` -> features ``(B, D)``.

    Example:
        >>> import torch
        >>> from bgdebias.data import MovingSpriteDataset
        >>> from bgdebias.models import Small3DCNN
        >>> backbone = Small3DCNN(base_width=2, generator=torch.Generator().manual_seed(0))
        >>> encoder = PooledFeatures(backbone)  # BackboneOutput -> its pooled features
        >>> encoder(torch.rand(2, 3, 8, 32, 32)).shape  # (B, 8 * base_width)
        torch.Size([2, 16])
        >>> videos = MovingSpriteDataset(split="aligned", length=4, size=32)
        >>> extract_features(encoder, videos).features.shape, encoder.training  # mode restored
        (torch.Size([4, 16]), True)
    """

    def __init__(self, backbone: nn.Module, *, attribute: str = "pooled") -> None:
        super().__init__()
        if not isinstance(backbone, nn.Module):
            raise TypeError(f"`backbone` must be an nn.Module, got {type(backbone).__name__}")
        self.backbone = backbone
        self.attribute = attribute

    def forward(self, clips: Tensor) -> Tensor:
        """Pooled features of a batch of clips. Shape: ``(B, C, T, H, W)`` -> ``(B, D)``."""
        output = self.backbone(clips)
        if isinstance(output, Tensor):
            return output
        pooled = getattr(output, self.attribute, None)
        if not isinstance(pooled, Tensor):
            raise TypeError(
                f"the backbone output ({type(output).__name__}) has no tensor attribute "
                f"{self.attribute!r}"
            )
        return pooled


def freeze_frames(clips: Tensor) -> Tensor:
    """Repeat the first frame of every clip over time: the motion is removed, the scene kept.

    This is the SCUFO-style "frozen" version of a clip (our choice of frame: the first; any
    single frame removes the motion equally).

    Args:
        clips: Shape: ``(..., C, T, H, W)``.

    Returns:
        A view with every frame equal to the first. Shape: same as ``clips``.

    Example:
        >>> import torch
        >>> clips = torch.rand(2, 3, 4, 8, 8, generator=torch.Generator().manual_seed(0))
        >>> frozen = freeze_frames(clips)
        >>> frozen.shape, bool((frozen == clips[:, :, :1]).all())  # every frame is frame 0
        (torch.Size([2, 3, 4, 8, 8]), True)
        >>> frozen.diff(dim=2).abs().max().item()  # no motion left
        0.0
    """
    check_tensor(clips, "clips")
    if clips.ndim < 4:
        raise ValueError(f"`clips` must be (..., C, T, H, W), got shape {tuple(clips.shape)}")
    return clips[..., :1, :, :].expand_as(clips)


def extract_features(
    encoder: Encoder,
    data: DataSource,
    *,
    batch_size: int = 8,
    device: torch.device | str | None = None,
    num_workers: int = 0,
    clip_transform: Callable[[Tensor], Tensor] | None = None,
) -> ClipFeatures:
    """Run a frozen encoder over every clip of ``data``.

    The encoder runs in eval mode under ``torch.no_grad``; the training flag of every one of
    its modules is restored afterwards. Videos are numbered in the order they are read, so
    read a dataset unshuffled (a dataset passed directly is).

    Args:
        encoder: Maps clips ``(B, C, T, H, W)`` to features ``(B, D)``; an ``nn.Module`` is
            switched to eval mode (wrap a backbone with :class:`PooledFeatures`).
        data: A map-style dataset or an iterable of batches (e.g. a ``DataLoader``); each
            sample or batch is ``(clip, label, ...)`` or a mapping with ``"clip"`` and
            ``"label"``. A sample may hold several clips of one video, ``(N, C, T, H, W)``.
        batch_size: Videos per batch when ``data`` is a dataset (``N`` clips each).
        device: Where the encoder runs; by default the device of its first parameter (CPU
            for a parameterless callable).
        num_workers: Loader workers when ``data`` is a dataset.
        clip_transform: Optional function applied to each flattened clip batch on the device
            before the encoder (e.g. :func:`freeze_frames`).

    Returns:
        Per-clip features on the CPU as float32, their labels and video indices.

    Shape:
        clips ``(B, C, T, H, W)`` or ``(B, N, C, T, H, W)`` -> features ``(B * N, D)``.

    Example:
        >>> import torch
        >>> from torch.utils.data import TensorDataset
        >>> videos = TensorDataset(torch.rand(4, 10, 3, 8, 16, 16), torch.tensor([0, 1, 0, 1]))
        >>> out = extract_features(lambda clips: clips.mean(dim=(2, 3, 4)), videos)
        >>> out.features.shape, out.num_videos, out.video_mean().shape
        (torch.Size([40, 3]), 4, torch.Size([4, 3]))
    """
    if not callable(encoder):
        raise TypeError(f"`encoder` must be callable, got {type(encoder).__name__}")
    if clip_transform is not None and not callable(clip_transform):
        raise TypeError(f"`clip_transform` must be callable, got {type(clip_transform).__name__}")
    target = torch.device(device) if device is not None else encoder_device(encoder)
    batches = iterate_batches(data, "data", batch_size=batch_size, num_workers=num_workers)
    features, labels, videos = [], [], []
    seen = 0
    with frozen_encoder(encoder):
        for batch in non_empty(batches, "data"):
            clips, batch_labels = split_batch(batch)
            flat, per_video = flatten_clips(clips.to(target, non_blocking=True))
            if clip_transform is not None:
                flat = clip_transform(flat)
            output = encoder(flat)
            if not isinstance(output, Tensor) or output.ndim != 2 or output.shape[0] != len(flat):
                described = (
                    f"shape {tuple(output.shape)}"
                    if isinstance(output, Tensor)
                    else type(output).__name__
                )
                raise ValueError(
                    f"`encoder` must return features of shape ({len(flat)}, D) for "
                    f"{len(flat)} clips, got {described}; wrap a backbone that returns "
                    "`BackboneOutput` in `PooledFeatures`"
                )
            features.append(output.detach().float().cpu())
            labels.append(batch_labels.cpu().repeat_interleave(per_video))
            count = clips.shape[0]
            videos.append(torch.arange(seen, seen + count).repeat_interleave(per_video))
            seen += count
    return ClipFeatures(torch.cat(features), torch.cat(labels), torch.cat(videos))
