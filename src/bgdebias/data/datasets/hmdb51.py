"""HMDB51 with its official three splits (``testTrainMulti_7030_splits``)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from bgdebias.data.datasets._index import AnnotationError, ListedVideo, read_text_lines
from bgdebias.data.datasets._three_folds import ThreeFoldDataset

_SPLIT_IDS = {"train": "1", "test": "2"}


class HMDB51(ThreeFoldDataset):
    """HMDB51: 6,766 videos of 51 actions, with the official 70/30 split files.

    Layout::

        <root>/<class>/<video>.avi                                 the videos
        <annotation_path>/<class>_test_split{1,2,3}.txt            "<video>.avi <id>"

    In a split file, id ``1`` marks a training video, ``2`` a test video and ``0`` a video
    unused by that split. Classes are the split files' class names, sorted.

    Args:
        root: Folder with one sub-folder of ``.avi`` files per class.
        annotation_path: Folder with the 153 split files.
        split: ``"train"`` or ``"test"``.
        fold: Official split number, 1, 2 or 3.
        clip_sampler: Frame indices per video, see :class:`VideoClipDataset`.
        **options: The common options of :class:`VideoClipDataset`.

    Raises:
        FileNotFoundError: If the root, the fold's split files or a video is missing.
        ValueError: On a bad ``split``/``fold``, a malformed line or a path leaving ``root``.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> import torch
        >>> from bgdebias.data import UniformClipSampler, write_video
        >>> frames = torch.zeros(8, 32, 32, 3, dtype=torch.uint8)
        >>> sampler = UniformClipSampler(4, num_clips=1)
        >>> with tempfile.TemporaryDirectory() as root:
        ...     for video in ("brush_hair/a.avi", "brush_hair/b.avi", "cartwheel/c.avi"):
        ...         _ = write_video(Path(root, video), frames, codec="mpeg4")
        ...     splits = Path(root, "testTrainMulti_7030_splits")
        ...     splits.mkdir()
        ...     # 1: train, 2: test, 0: unused by this fold (its file may be absent)
        ...     _ = (splits / "brush_hair_test_split1.txt").write_text("a.avi 1\\nb.avi 2\\n")
        ...     _ = (splits / "cartwheel_test_split1.txt").write_text("c.avi 1\\nd.avi 0\\n")
        ...     train = HMDB51(root, splits, split="train", clip_sampler=sampler)
        ...     test = HMDB51(root, splits, split="test", clip_sampler=sampler)
        ...     sample = test[0]
        >>> train.classes, train.paths, train.labels
        (('brush_hair', 'cartwheel'), ('brush_hair/a.avi', 'cartwheel/c.avi'), (0, 1))
        >>> test.paths, sample.clip.shape, sample.label
        (('brush_hair/b.avi',), torch.Size([3, 4, 32, 32]), 0)
    """

    dataset_name = "HMDB51"

    def _split_files(self) -> dict[str, Path]:
        pattern = re.compile(rf"^(.+)_test_split{self.fold}\.txt$")
        files: dict[str, Path] = {}
        if self.annotation_path.is_dir():
            for entry in os.scandir(self.annotation_path):
                match = pattern.match(entry.name)
                if match and entry.is_file():
                    files[match.group(1)] = Path(entry.path)
        if not files:
            raise FileNotFoundError(
                f"HMDB51 split files of fold {self.fold} not found: expected "
                f"<class>_test_split{self.fold}.txt files in {str(self.annotation_path)!r}"
            )
        return dict(sorted(files.items()))

    def _index_sources(self) -> list[Path]:
        return list(self._split_files().values())

    def _list_videos(self) -> tuple[tuple[str, ...], list[ListedVideo]]:
        files = self._split_files()
        wanted = _SPLIT_IDS[self.split]
        listed: list[ListedVideo] = []
        for label, (name, source) in enumerate(files.items()):
            for line, text in read_text_lines(source):
                parts = text.split()
                if len(parts) != 2 or parts[1] not in ("0", "1", "2"):
                    raise AnnotationError(
                        source, line, f"expected '<video>.avi <0|1|2>', got {text!r}"
                    )
                if "/" in parts[0] or "\\" in parts[0]:
                    raise AnnotationError(
                        source, line, f"expected a bare video file name, got {parts[0]!r}"
                    )
                if parts[1] != wanted:
                    continue
                path = self._guard.relative(f"{name}/{parts[0]}", source=source, line=line)
                listed.append(ListedVideo(path=path, label=label, source=source, line=line))
        return tuple(files), listed
