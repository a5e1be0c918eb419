"""Write synthetic videos as files in the UCF101 layout, to exercise the real video loaders.

Layout under ``root`` (split 1 of UCF101: groups ``g01``-``g07`` are test, ``g08``-``g25``
train)::

    classInd.txt                      "1 MoveRight" ... (1-based)
    trainlist01.txt                   "MoveRight/v_MoveRight_g08_c01.avi 1"
    testlist01.txt                    "MoveRight/v_MoveRight_g01_c01.avi"
    MoveRight/v_MoveRight_g08_c01.avi ...
    synthetic_metadata.csv            path, list, split, index, label, background_family

The metadata file is ours (UCF101 has none): it keeps each file's background family so the
bias can still be measured through the real loaders.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import torch

from bgdebias._validation import check_choice, check_int
from bgdebias.data.decoding.writer import SUPPORTED_CODECS, write_video
from bgdebias.data.synthetic.dataset import MovingSpriteDataset

_TRAIN_GROUPS = range(8, 26)  # g08 .. g25
_TEST_GROUPS = range(1, 8)  # g01 .. g07
_MAX_CLIPS_PER_GROUP = 99


def ucf101_video_name(class_name: str, rank: int, *, train: bool) -> str:
    """File name of the ``rank``-th video of a class in a UCF101-style split 1.

    Videos are dealt round-robin over the split's groups: rank 0 is ``g08_c01`` (train) or
    ``g01_c01`` (test), rank 1 is ``g09_c01`` / ``g02_c01``, and so on.

    Args:
        class_name: Folder and class name.
        rank: Position of the video among its class's videos in the split, from 0.
        train: Whether the video is in the training list.

    Returns:
        E.g. ``"v_MoveRight_g08_c01.avi"``.

    Example:
        >>> [ucf101_video_name("MoveUp", rank, train=True) for rank in (0, 1, 18)]
        ['v_MoveUp_g08_c01.avi', 'v_MoveUp_g09_c01.avi', 'v_MoveUp_g08_c02.avi']
        >>> ucf101_video_name("MoveUp", 1, train=False)  # test videos use groups g01-g07
        'v_MoveUp_g02_c01.avi'
    """
    groups = _TRAIN_GROUPS if train else _TEST_GROUPS
    group = groups[rank % len(groups)]
    clip = rank // len(groups) + 1
    if clip > _MAX_CLIPS_PER_GROUP:
        limit = len(groups) * _MAX_CLIPS_PER_GROUP
        raise ValueError(
            f"UCF101 names allow at most {limit} {'train' if train else 'test'} videos per "
            f"class (c01-c99 in {len(groups)} groups), got rank {rank}"
        )
    return f"v_{class_name}_g{group:02d}_c{clip:02d}.avi"


def export_ucf101_layout(
    root: str | os.PathLike[str],
    train: MovingSpriteDataset,
    test: MovingSpriteDataset,
    *,
    fps: int = 25,
    codec: str = "mpeg4",
) -> Path:
    """Encode two splits of the synthetic dataset as a UCF101-style folder (split 1).

    Every video of ``train`` goes to ``trainlist01.txt`` and every video of ``test`` to
    ``testlist01.txt``, as whole videos (samplers and transforms are not applied).

    Args:
        root: Output folder (created if needed).
        train: The training split, usually ``split="train"``.
        test: The test split, e.g. ``split="conflicting"``.
        fps: Frame rate written into the files.
        codec: One of :data:`~bgdebias.data.decoding.SUPPORTED_CODECS`; ``"mpeg4"`` in
            ``.avi`` like the real UCF101 (XviD). Keep it: torchcodec 0.17 fails to decode
            ``"libx264"`` frames from ``.avi`` files (PyAV reads them).

    Returns:
        ``root`` as a path.

    Raises:
        ValueError: If the splits use different classes or a class has too many videos.

    Example:
        >>> import tempfile
        >>> from bgdebias.data import UCF101, UniformClipSampler
        >>> train = MovingSpriteDataset(split="train", length=4, num_classes=2, size=32)
        >>> test = MovingSpriteDataset(split="conflicting", length=2, num_classes=2, size=32)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     root = export_ucf101_layout(folder, train, test)
        ...     files = sorted(path.name for path in root.iterdir() if path.is_file())
        ...     whole = UniformClipSampler(8, num_clips=1)
        ...     loaded = UCF101(root, root, split="test", clip_sampler=whole)
        ...     sample = loaded[1]
        >>> files  # besides the class folders MoveRight/ and MoveLeft/
        ['classInd.txt', 'synthetic_metadata.csv', 'testlist01.txt', 'trainlist01.txt']
        >>> loaded.paths
        ('MoveRight/v_MoveRight_g01_c01.avi', 'MoveLeft/v_MoveLeft_g01_c01.avi')
        >>> sample.clip.shape, sample.label  # the whole 8-frame video, read back by UCF101
        (torch.Size([3, 8, 32, 32]), 1)
        >>> float((sample.clip - test[1].clip).abs().mean()) < 0.05  # mpeg4: nearly lossless
        True
    """
    check_choice(codec, "codec", SUPPORTED_CODECS)
    check_int(fps, "fps", minimum=1)
    if train.classes != test.classes:
        raise ValueError(
            f"`train` and `test` must use the same classes, got {train.num_classes} and "
            f"{test.num_classes} classes"
        )
    out = Path(root)
    out.mkdir(parents=True, exist_ok=True)
    classes = train.classes
    (out / "classInd.txt").write_text(
        "".join(f"{label + 1} {name}\n" for label, name in enumerate(classes))
    )
    rows: list[tuple[str, str, str, int, int, int]] = []
    for dataset, is_train in ((train, True), (test, False)):
        lines = []
        ranks = [0] * len(classes)
        for index in range(len(dataset)):
            video = dataset.render(index)
            name = classes[video.label]
            relative = f"{name}/{ucf101_video_name(name, ranks[video.label], train=is_train)}"
            ranks[video.label] += 1
            frames = (video.clip * 255).round().to(torch.uint8).permute(1, 2, 3, 0)
            write_video(out / relative, frames, fps=fps, codec=codec)
            lines.append(f"{relative} {video.label + 1}\n" if is_train else f"{relative}\n")
            listed = "train" if is_train else "test"
            rows.append(
                (relative, listed, dataset.split, index, video.label, video.background_family)
            )
        list_file = "trainlist01.txt" if is_train else "testlist01.txt"
        (out / list_file).write_text("".join(lines))
    with (out / "synthetic_metadata.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("path", "list", "split", "index", "label", "background_family"))
        writer.writerows(rows)
    return out
