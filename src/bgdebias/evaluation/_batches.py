"""Read clips and labels out of whatever a dataset or data loader yields."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import DataLoader

from bgdebias._validation import check_int, check_tensor

#: What the protocols read data from: a map-style dataset (indexable, with a length) or any
#: iterable of batches, such as a ``DataLoader``.
DataSource = Any


def split_batch(batch: Any) -> tuple[Tensor, Tensor]:
    """Clips and labels of one batch.

    A batch is a tuple or list whose first two items are clips and labels (this includes
    named tuples such as :class:`~bgdebias.data.synthetic.MovingSpriteSample`), or a mapping
    with the keys ``"clip"`` and ``"label"``.

    Args:
        batch: One collated batch.

    Returns:
        ``(clips, labels)``; clips are ``(B, C, T, H, W)`` or, for several clips per video,
        ``(B, N, C, T, H, W)``; labels ``(B,)`` int64.
    """
    if isinstance(batch, Mapping):
        if "clip" not in batch or "label" not in batch:
            raise ValueError(
                f"a batch given as a mapping needs the keys 'clip' and 'label', "
                f"got keys {sorted(map(str, batch))}"
            )
        clips, labels = batch["clip"], batch["label"]
    elif isinstance(batch, tuple | list) and len(batch) >= 2:
        clips, labels = batch[0], batch[1]
    else:
        raise TypeError(
            "each batch must be a (clip, label, ...) tuple/list or a mapping with 'clip' and "
            f"'label', got {type(batch).__name__}"
        )
    clips = check_tensor(clips, "clip")
    if clips.ndim not in (5, 6):
        raise ValueError(
            "`clip` batches must be (B, C, T, H, W) or, with several clips per video, "
            f"(B, N, C, T, H, W); got shape {tuple(clips.shape)}"
        )
    if not clips.is_floating_point():
        raise TypeError(f"`clip` must have a floating-point dtype, got {clips.dtype}")
    labels = torch.as_tensor(labels)
    if labels.ndim != 1 or labels.shape[0] != clips.shape[0]:
        raise ValueError(
            f"`label` must have shape (B,) with B={clips.shape[0]} (the clip batch), "
            f"got shape {tuple(labels.shape)}"
        )
    if labels.dtype.is_floating_point or labels.dtype == torch.bool or labels.is_complex():
        raise TypeError(f"`label` must hold integer class indices, got {labels.dtype}")
    if labels.numel() and int(labels.min()) < 0:
        raise ValueError(f"`label` must be class indices >= 0, got {int(labels.min())}")
    return clips, labels.long()


def flatten_clips(clips: Tensor) -> tuple[Tensor, int]:
    """Fold the clips of each video into the batch.

    Args:
        clips: ``(B, C, T, H, W)`` or ``(B, N, C, T, H, W)``.

    Returns:
        ``(flat, N)`` with ``flat`` of shape ``(B * N, C, T, H, W)``, video-major.
    """
    if clips.ndim == 5:
        return clips, 1
    return clips.flatten(0, 1), clips.shape[1]


def iterate_batches(
    data: DataSource,
    name: str,
    *,
    batch_size: int,
    num_workers: int = 0,
    shuffle: bool = False,
    generator: torch.Generator | None = None,
) -> Iterable[Any]:
    """Batches of ``data``: a map-style dataset is wrapped in a ``DataLoader``.

    Args:
        data: A map-style dataset (``__getitem__`` and ``__len__``) or an iterable of batches.
        name: Argument name for error messages.
        batch_size: Videos per batch when ``data`` is a dataset.
        num_workers: Loader workers when ``data`` is a dataset.
        shuffle: Shuffle a dataset (with ``generator``); an iterable is used as it is.
        generator: Random source of the shuffling.

    Returns:
        An iterable of batches.
    """
    check_int(batch_size, "batch_size", minimum=1)
    check_int(num_workers, "num_workers", minimum=0)
    if isinstance(data, DataLoader):
        return data
    if hasattr(data, "__getitem__") and hasattr(data, "__len__"):
        if len(data) == 0:
            raise ValueError(f"`{name}` is an empty dataset (length 0); it needs at least 1 video")
        return DataLoader(
            data,
            batch_size=batch_size,
            shuffle=shuffle,
            num_workers=num_workers,
            generator=generator,
        )
    if isinstance(data, Iterable):
        return data
    raise TypeError(
        f"`{name}` must be a map-style dataset or an iterable of batches (e.g. a DataLoader), "
        f"got {type(data).__name__}"
    )


def non_empty(batches: Iterable[Any], name: str) -> Iterator[Any]:
    """Yield the batches, raising ``ValueError`` when there are none."""
    empty = True
    for batch in batches:
        empty = False
        yield batch
    if empty:
        raise ValueError(f"`{name}` yielded no batches; it needs at least 1 video")
