"""Build any supported video dataset by name, with a train/test vocabulary shared by all."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from bgdebias._choices import VIDEO_DATASETS as VIDEO_DATASETS  # re-exported
from bgdebias._validation import check_choice
from bgdebias.data.datasets.base import VideoClipDataset
from bgdebias.data.datasets.diving48 import Diving48
from bgdebias.data.datasets.folder import VideoFolder
from bgdebias.data.datasets.hmdb51 import HMDB51
from bgdebias.data.datasets.kinetics import Kinetics
from bgdebias.data.datasets.something_something import SomethingSomethingV2
from bgdebias.data.datasets.ucf101 import UCF101
from bgdebias.data.sampling import ClipSampler

#: What "test" means for each dataset (its evaluation split).
_TEST_SPLIT = {"kinetics": "val", "ssv2": "validation"}


def build_video_dataset(
    name: str,
    root: str | os.PathLike[str],
    *,
    split: Literal["train", "test"],
    clip_sampler: ClipSampler,
    annotations: str | os.PathLike[str] | None = None,
    fold: int = 1,
    **options: Any,
) -> VideoClipDataset:
    """One of :data:`VIDEO_DATASETS` in its official layout.

    Args:
        name: ``ucf101``, ``hmdb51``, ``kinetics``, ``ssv2``, ``diving48`` or ``folder``.
        root: Folder of the videos.
        split: ``"train"`` or ``"test"`` (Kinetics' ``val``, SSv2's ``validation``);
            ``folder`` has no splits: ``root/train`` and ``root/test`` are used.
        clip_sampler: Frame indices of the clips of each video.
        annotations: Folder of the split/annotation files (default: ``root``); for UCF101
            the ``ucfTrainTestlist`` folder, for HMDB51 the split-file folder.
        fold: Official split number (UCF101 and HMDB51: 1 to 3).
        **options: Passed to the dataset (``transform``, ``backend``, ``on_error``, ...).

    Returns:
        The dataset.
    """
    check_choice(name, "dataset", VIDEO_DATASETS)
    check_choice(split, "split", ("train", "test"))
    notes = Path(annotations) if annotations is not None else Path(root)
    dataset_split = _TEST_SPLIT.get(name, "test") if split == "test" else "train"
    common: dict[str, Any] = {"clip_sampler": clip_sampler, **options}
    if name == "ucf101":
        return UCF101(root, notes, split=split, fold=fold, **common)
    if name == "hmdb51":
        return HMDB51(root, notes, split=split, fold=fold, **common)
    if name == "kinetics":
        return Kinetics(root, split=dataset_split, annotation_path=annotations, **common)  # type: ignore[arg-type]
    if name == "ssv2":
        return SomethingSomethingV2(root, notes, split=dataset_split, **common)  # type: ignore[arg-type]
    if name == "diving48":
        return Diving48(root, split=split, annotation_path=annotations, **common)
    return VideoFolder(Path(root) / split, **common)
