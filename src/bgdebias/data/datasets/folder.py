"""Any videos sorted into one folder per class."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from typing_extensions import Unpack

from bgdebias.data.datasets._index import ListedVideo
from bgdebias.data.datasets.base import VideoClipDataset, VideoDatasetOptions
from bgdebias.data.sampling import ClipSampler

#: File name endings :class:`VideoFolder` takes by default (case-insensitive).
VIDEO_EXTENSIONS: tuple[str, ...] = (".mp4", ".avi", ".webm", ".mkv", ".mov", ".m4v")


class VideoFolder(VideoClipDataset):
    """Videos in ``<root>/<class>/<video>.<ext>``; classes are the sorted folder names.

    Files directly in ``root``, hidden folders and files with other endings are ignored.
    Videos within a class are sorted by name.

    Args:
        root: Folder with one sub-folder per class.
        clip_sampler: Frame indices per video, see :class:`VideoClipDataset`.
        extensions: File endings to take, compared case-insensitively.
        **options: The common options of :class:`VideoClipDataset`.

    Raises:
        FileNotFoundError: If ``root`` is missing or holds no class folder with a video.
        ValueError: If ``extensions`` is empty.

    Example:
        >>> import tempfile
        >>> import torch
        >>> from bgdebias.data import UniformClipSampler, write_video
        >>> frames = torch.zeros(8, 32, 32, 3, dtype=torch.uint8)
        >>> with tempfile.TemporaryDirectory() as root:
        ...     for name in ("run/c.mp4", "jump/b.avi", "jump/a.mp4", "loose.mp4"):
        ...         _ = write_video(f"{root}/{name}", frames, codec="mpeg4")
        ...     data = VideoFolder(root, clip_sampler=UniformClipSampler(4, num_clips=2))
        ...     sample = data[2]
        >>> data.classes, data.paths, data.labels  # loose.mp4 (not in a class folder) is ignored
        (('jump', 'run'), ('jump/a.mp4', 'jump/b.avi', 'run/c.mp4'), (0, 0, 1))
        >>> sample.clip.shape, sample.label  # 2 clips of 4 frames
        (torch.Size([2, 3, 4, 32, 32]), 1)
    """

    dataset_name = "VideoFolder"

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        clip_sampler: ClipSampler,
        extensions: Sequence[str] = VIDEO_EXTENSIONS,
        **options: Unpack[VideoDatasetOptions],
    ) -> None:
        if isinstance(extensions, str) or not extensions:
            raise ValueError(
                f"`extensions` must be a non-empty sequence of endings like ('.mp4',), "
                f"got {extensions!r}"
            )
        self.extensions = tuple(e.lower() for e in extensions)
        super().__init__(root, clip_sampler=clip_sampler, **options)

    def _class_folders(self) -> list[Path]:
        with os.scandir(self.root) as entries:
            return sorted(
                (Path(e.path) for e in entries if e.is_dir() and not e.name.startswith(".")),
                key=lambda p: p.name,
            )

    def _index_sources(self) -> list[Path]:
        return [self.root, *self._class_folders()]

    def _cache_key(self) -> dict[str, Any]:
        return {**super()._cache_key(), "extensions": self.extensions}

    def _list_videos(self) -> tuple[tuple[str, ...], list[ListedVideo]]:
        classes: list[str] = []
        listed: list[ListedVideo] = []
        for folder in self._class_folders():
            with os.scandir(folder) as entries:
                names = sorted(
                    e.name
                    for e in entries
                    if e.name.lower().endswith(self.extensions) and not e.is_dir()
                )
            if not names:
                continue
            label = len(classes)
            classes.append(folder.name)
            listed.extend(
                ListedVideo(path=f"{folder.name}/{n}", label=label, source=folder, line=None)
                for n in names
            )
        if not listed:
            raise FileNotFoundError(
                f"VideoFolder found no videos ({', '.join(self.extensions)}) in the class "
                f"folders of {str(self.root)!r}; expected <root>/<class>/<video>"
            )
        return tuple(classes), listed
