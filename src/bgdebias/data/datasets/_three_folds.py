"""What UCF101 and HMDB51 share: a train/test split in one of three official folds."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from typing_extensions import Unpack

from bgdebias._validation import check_choice
from bgdebias.data.datasets.base import VideoClipDataset, VideoDatasetOptions
from bgdebias.data.sampling import ClipSampler

TrainTestSplit = Literal["train", "test"]

_FOLDS = (1, 2, 3)


def check_fold(fold: Any) -> int:
    """Check a split number of the official three-fold protocols (1, 2 or 3)."""
    if isinstance(fold, bool) or fold not in _FOLDS:
        raise ValueError(f"`fold` must be 1, 2 or 3 (the official splits), got {fold!r}")
    return int(fold)


class ThreeFoldDataset(VideoClipDataset):
    """A dataset whose annotation folder lists a train and a test split for folds 1 to 3.

    Subclasses read ``annotation_path`` for the ``split`` of ``fold``; both enter the index
    cache's key.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        annotation_path: str | os.PathLike[str],
        *,
        split: TrainTestSplit = "train",
        fold: int = 1,
        clip_sampler: ClipSampler,
        **options: Unpack[VideoDatasetOptions],
    ) -> None:
        self.split: TrainTestSplit = split
        check_choice(split, "split", ("train", "test"))
        self.fold = check_fold(fold)
        self.annotation_path = Path(annotation_path)
        super().__init__(root, clip_sampler=clip_sampler, **options)

    def _cache_key(self) -> dict[str, Any]:
        return {**super()._cache_key(), "split": self.split, "fold": self.fold}
