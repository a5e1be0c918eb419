"""The shared base of the video datasets: index, clip decoding, transforms, error policy.

A dataset item is a :class:`VideoSample`. For each item the dataset opens the video (no file
is opened while indexing), asks ``clip_sampler(num_frames, generator)`` for the frame indices
of its clips, decodes exactly those frames, converts each clip to float ``(C, T, H, W)`` in
[0, 1] (or keeps ``uint8``) and applies ``transform`` to each clip.

Unreadable videos (:class:`~bgdebias.data.VideoDecodeError`) follow
``on_error``: ``"raise"`` re-raises; ``"skip"`` logs a warning, records the path in
:attr:`VideoClipDataset.skipped` and returns the next readable video instead (index + 1,
wrapping), so the substitute is deterministic. Each ``DataLoader`` worker holds its own copy
of the dataset: with ``num_workers > 0`` the main process's :attr:`~VideoClipDataset.skipped`
stays empty and the workers' log warnings are the record.
"""

from __future__ import annotations

import abc
import logging
import operator
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, NamedTuple, TypedDict

import torch
from torch import Tensor
from torch.utils.data import Dataset

from bgdebias._random import stable_seed
from bgdebias._validation import check_choice, check_int
from bgdebias.data.datasets._index import (
    ListedVideo,
    MissingFilesPolicy,
    RootGuard,
    VideoIndex,
    cache_file,
    check_dataset_root,
    file_signature,
    keep_existing,
    load_cached_index,
    save_cached_index,
)
from bgdebias.data.decoding import BackendChoice, ShortVideoMode, VideoReader
from bgdebias.data.decoding.errors import VideoDecodeError
from bgdebias.data.sampling import ClipSampler
from bgdebias.data.transforms.colour import to_float_clip

logger = logging.getLogger("bgdebias.data.datasets")

OnErrorPolicy = Literal["raise", "skip"]
ClipDtype = Literal["float32", "uint8"]

_MAX_CONSECUTIVE_SKIPS = 32


class VideoDatasetOptions(TypedDict, total=False):
    """Keyword options every video dataset takes (see :class:`VideoClipDataset`).

    Example:
        >>> import tempfile
        >>> import torch
        >>> from bgdebias.data import UniformClipSampler, VideoFolder, write_video
        >>> options = VideoDatasetOptions(clip_dtype="uint8", backend="pyav", seed=0)
        >>> frames = torch.zeros(8, 32, 32, 3, dtype=torch.uint8)
        >>> with tempfile.TemporaryDirectory() as root:
        ...     _ = write_video(f"{root}/jump/a.mp4", frames)
        ...     data = VideoFolder(root, clip_sampler=UniformClipSampler(4, num_clips=1), **options)
        ...     clip = data[0].clip
        >>> clip.shape, clip.dtype, data.backend  # uint8 (C, T, H, W), decoded with PyAV
        (torch.Size([3, 4, 32, 32]), torch.uint8, 'pyav')
    """

    transform: Callable[[Tensor], Any] | None
    backend: BackendChoice
    short_video: ShortVideoMode
    on_error: OnErrorPolicy
    missing_files: MissingFilesPolicy
    clip_dtype: ClipDtype
    seed: int | None
    cache_dir: str | os.PathLike[str] | None
    allow_symlink_escape: bool


class VideoSample(NamedTuple):
    """One dataset item (a named tuple, so ``default_collate`` batches it).

    Attributes:
        clip: The clip(s) after ``transform``. Without a transform: float32 in [0, 1] (or
            uint8 with ``clip_dtype="uint8"``) of shape ``(C, T, H, W)`` when the sampler
            gives one clip, ``(N, C, T, H, W)`` for ``N > 1`` clips (``C == 3``,
            ``T == clip_len``). With a transform: its output, stacked over the clips if it
            returns tensors of one shape, else a list.
        label: Class index (``-1`` for unlabelled splits).
        video_index: Index of the video returned (a substitute's own index under
            ``on_error="skip"``). (Not ``index``, which tuples already define as a method.)
        path: Path of the video returned (``root`` joined with its relative path).

    Example:
        >>> import torch
        >>> from torch.utils.data import default_collate
        >>> sample = VideoSample(torch.zeros(3, 4, 8, 8), label=1, video_index=0, path="a.mp4")
        >>> batch = default_collate([sample, sample._replace(label=0, video_index=1)])
        >>> batch.clip.shape, batch.label.tolist(), batch.path  # a DataLoader batch
        (torch.Size([2, 3, 4, 8, 8]), [1, 0], ('a.mp4', 'a.mp4'))
    """

    clip: Any
    label: int
    video_index: int
    path: str


def _check_indices(indices: Any, num_frames: int) -> Tensor:
    """The sampler's output as ``(num_clips, clip_len)`` int64, or a clear error."""
    if not isinstance(indices, Tensor):
        raise TypeError(
            f"`clip_sampler` must return a Tensor of frame indices, got {type(indices).__name__}"
        )
    if indices.is_floating_point() or indices.dtype == torch.bool or indices.is_complex():
        raise TypeError(f"`clip_sampler` must return integer frame indices, got {indices.dtype}")
    if indices.ndim == 1:
        indices = indices.unsqueeze(0)
    if indices.ndim != 2 or indices.numel() == 0:
        raise ValueError(
            "`clip_sampler` must return frame indices of shape (num_clips, clip_len), got shape "
            f"{tuple(indices.shape)} for a video of {num_frames} frames"
        )
    checked: Tensor = indices.long()
    return checked


class VideoClipDataset(Dataset[VideoSample], abc.ABC):
    """Base of the map-style video datasets (subclasses parse their annotations).

    Args:
        root: Folder that holds the videos.
        clip_sampler: ``clip_sampler(num_frames, generator) -> LongTensor (num_clips,
            clip_len)``, e.g. :class:`~bgdebias.data.sampling.RandomClipSampler`.
        transform: Callable applied to each clip (float ``(C, T, H, W)`` in [0, 1], or uint8
            with ``clip_dtype="uint8"``), e.g.
            :func:`~bgdebias.data.moco_clip_augmentation`.
        backend: Decoder, ``"torchcodec"``, ``"pyav"`` or ``"auto"``.
        short_video: Frame indices past the end of a video: ``"loop"`` (wrap, default),
            ``"repeat_last"`` or ``"error"``; see :mod:`bgdebias.data.decoding`.
        on_error: Unreadable video: ``"raise"`` (default) or ``"skip"`` (substitute the next
            readable video, record it in :attr:`skipped`).
        missing_files: Annotation entries whose file is absent at indexing time:
            ``"raise"`` (default, ``FileNotFoundError`` naming them) or ``"skip"`` (drop them,
            log a warning, list them in :attr:`missing`).
        clip_dtype: ``"float32"`` (default, values in [0, 1]) or ``"uint8"`` (0-255, convert
            on the GPU later); both laid out ``(C, T, H, W)``.
        seed: ``None`` (default): the sampler draws from the global generator (reseeded per
            ``DataLoader`` worker and epoch). An int: item ``i`` of epoch ``e`` (see
            :meth:`set_epoch`) always gets the same clip positions. Only the sampler gets
            this generator; ``transform`` is called as ``transform(clip)`` and draws its own
            randomness.
        cache_dir: Folder for a JSON cache of the index, keyed on the annotation files' size
            and modification time; ``None`` (default) disables it.
        allow_symlink_escape: Accept videos that are symlinks resolving outside ``root``.

    Attributes:
        root: The dataset folder as given (a :class:`~pathlib.Path`, checked to exist);
            every video path is relative to it.

    Raises:
        FileNotFoundError: If ``root``, an annotation file or a listed video is missing.
        ValueError: On a bad option, a malformed annotation or a path outside ``root``.

    Example:
        Every dataset (here :class:`~bgdebias.data.VideoFolder`) decodes only the sampled
        frames; with ``seed``, item ``i`` of an epoch always gets the same clip:

        >>> import tempfile
        >>> import torch
        >>> from bgdebias.data import RandomClipSampler, VideoFolder, write_video
        >>> frames = torch.zeros(12, 32, 32, 3, dtype=torch.uint8)
        >>> frames[..., 0] = (20 * torch.arange(12)).view(12, 1, 1)  # red = 20 * frame index
        >>> def frame_ids(clip):  # which frames a decoded clip holds
        ...     return (clip[0].mean(dim=(1, 2)) * 255 / 20).round().int().tolist()
        >>> with tempfile.TemporaryDirectory() as root:
        ...     _ = write_video(f"{root}/jump/a.mp4", frames)
        ...     data = VideoFolder(root, clip_sampler=RandomClipSampler(3, stride=2), seed=0)
        ...     sample = data[0]
        ...     again = data[0].clip
        ...     data.set_epoch(1)
        ...     next_epoch = data[0].clip
        >>> sample.clip.shape, sample.label, data.paths  # float (C, T, H, W) in [0, 1]
        (torch.Size([3, 3, 32, 32]), 0, ('jump/a.mp4',))
        >>> frame_ids(sample.clip), frame_ids(again), frame_ids(next_epoch)
        ([3, 5, 7], [3, 5, 7], [4, 6, 8])
    """

    #: Name used in messages and cache file names.
    dataset_name = "videos"

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        clip_sampler: ClipSampler,
        transform: Callable[[Tensor], Any] | None = None,
        backend: BackendChoice = "auto",
        short_video: ShortVideoMode = "loop",
        on_error: OnErrorPolicy = "raise",
        missing_files: MissingFilesPolicy = "raise",
        clip_dtype: ClipDtype = "float32",
        seed: int | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        allow_symlink_escape: bool = False,
    ) -> None:
        if not callable(clip_sampler):
            raise TypeError(f"`clip_sampler` must be callable, got {type(clip_sampler).__name__}")
        if transform is not None and not callable(transform):
            raise TypeError(f"`transform` must be callable or None, got {type(transform).__name__}")
        self.clip_sampler = clip_sampler
        self.transform = transform
        self.backend: BackendChoice = backend
        check_choice(backend, "backend", ("torchcodec", "pyav", "auto"))
        check_choice(short_video, "short_video", ("loop", "repeat_last", "error"))
        self.short_video: ShortVideoMode = short_video
        check_choice(on_error, "on_error", ("raise", "skip"))
        self.on_error: OnErrorPolicy = on_error
        check_choice(missing_files, "missing_files", ("raise", "skip"))
        self.missing_files: MissingFilesPolicy = missing_files
        check_choice(clip_dtype, "clip_dtype", ("float32", "uint8"))
        self.clip_dtype: ClipDtype = clip_dtype
        self.seed = None if seed is None else check_int(seed, "seed", minimum=0)
        self.epoch = 0
        self.root = check_dataset_root(root, self.dataset_name)
        self._guard = RootGuard(self.root, allow_symlink_escape=allow_symlink_escape)
        self._index = self._load_index(None if cache_dir is None else Path(cache_dir))
        self._skipped: list[str] = []
        self._bad: set[int] = set()

    # -- indexing -------------------------------------------------------------------------

    @abc.abstractmethod
    def _index_sources(self) -> list[Path]:
        """Annotation files (checked to exist) whose versions key the index cache."""

    @abc.abstractmethod
    def _list_videos(self) -> tuple[tuple[str, ...], list[ListedVideo]]:
        """Parse the annotations: class names and the listed videos (not yet checked)."""

    def _cache_key(self) -> dict[str, Any]:
        """Options besides the sources that change the index (subclasses extend it)."""
        return {"missing_files": self.missing_files}

    def _load_index(self, cache_dir: Path | None) -> VideoIndex:
        sources = self._index_sources()
        file = None
        if cache_dir is not None:
            key = {
                "dataset": type(self).__qualname__,
                "root": os.path.realpath(self.root),
                "sources": [file_signature(source) for source in sources],
                "allow_symlink_escape": self._guard.allow_symlink_escape,
                **self._cache_key(),
            }
            file = cache_file(cache_dir, self.dataset_name, key)
            cached = load_cached_index(file)
            if cached is not None:
                return cached
        classes, listed = self._list_videos()
        present, missing = keep_existing(
            self._guard, listed, missing_files=self.missing_files, dataset=self.dataset_name
        )
        index = VideoIndex(
            classes=classes,
            paths=tuple(video.path for video in present),
            labels=tuple(video.label for video in present),
            missing=tuple(missing),
        )
        if file is not None:
            save_cached_index(file, index)
        return index

    # -- what the index holds -------------------------------------------------------------

    @property
    def classes(self) -> tuple[str, ...]:
        """Class names, in label order."""
        return self._index.classes

    @property
    def class_to_idx(self) -> dict[str, int]:
        """Label of each class name."""
        return {name: label for label, name in enumerate(self._index.classes)}

    @property
    def paths(self) -> tuple[str, ...]:
        """Video files relative to :attr:`~bgdebias.data.VideoClipDataset.root`, in index order."""
        return self._index.paths

    @property
    def labels(self) -> tuple[int, ...]:
        """Label of each video, in index order."""
        return self._index.labels

    @property
    def missing(self) -> tuple[str, ...]:
        """Listed videos dropped at indexing because their file was absent."""
        return self._index.missing

    def __len__(self) -> int:
        return len(self._index.paths)

    def video_path(self, index: int) -> Path:
        """Full path of video ``index``."""
        return self.root / self._index.paths[self._check_index(index)]

    # -- error policy ---------------------------------------------------------------------

    @property
    def skipped(self) -> tuple[str, ...]:
        """Paths substituted under ``on_error="skip"`` since the last :meth:`pop_skipped`
        (one entry per substitution, so a file skipped twice appears twice)."""
        return tuple(self._skipped)

    def pop_skipped(self) -> tuple[str, ...]:
        """Return :attr:`skipped` and reset it (call at the end of an epoch).

        Logs one warning with the count if any video was skipped. Files found unreadable
        stay remembered and are substituted without another decoding attempt.
        """
        skipped = tuple(self._skipped)
        self._skipped.clear()
        if skipped:
            logger.warning(
                "%s: %d item(s) substituted for %d unreadable video(s) since the last report",
                self.dataset_name,
                len(skipped),
                len(set(skipped)),
            )
        return skipped

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch mixed into the per-item seed (only matters with ``seed``).

        ``DataLoader`` workers copy the dataset when they start, so call it before iterating
        (with ``persistent_workers=True`` the workers keep the epoch they started with).
        """
        self.epoch = check_int(epoch, "epoch", minimum=0)

    # -- items ----------------------------------------------------------------------------

    def _check_index(self, index: int) -> int:
        if isinstance(index, bool) or not hasattr(type(index), "__index__"):
            raise TypeError(f"`index` must be an int, got {type(index).__name__}")
        index = operator.index(index)
        size = len(self._index.paths)
        if not -size <= index < size:
            raise IndexError(f"`index` {index} is out of range for a dataset of {size} videos")
        return index % size

    def __getitem__(self, index: int) -> VideoSample:
        """Video ``index`` as a :class:`VideoSample` (see the class docstring)."""
        index = self._check_index(index)
        if self.on_error == "raise":
            return self._load(index)
        size = len(self)
        attempts = min(size, _MAX_CONSECUTIVE_SKIPS)
        last: VideoDecodeError | None = None
        for step in range(attempts):
            current = (index + step) % size
            if current in self._bad:
                self._skipped.append(str(self.video_path(current)))
                continue
            try:
                return self._load(current)
            except VideoDecodeError as error:
                last = error
                self._bad.add(current)
                self._skipped.append(error.path)
                logger.warning(
                    "%s: skipping unreadable video %d (%s); using the next one instead",
                    self.dataset_name,
                    current,
                    error,
                )
        raise RuntimeError(
            f"{self.dataset_name}: on_error='skip' gave up at index {index}: the {attempts} "
            f"video(s) from {str(self.video_path(index))!r} on are all unreadable; last error: "
            f"{last}"
        )

    def _generator(self, index: int) -> torch.Generator | None:
        if self.seed is None:
            return None
        return torch.Generator().manual_seed(stable_seed(self.seed, self.epoch, index))

    def _load(self, index: int) -> VideoSample:
        path = self.video_path(index)
        with VideoReader(path, backend=self.backend) as video:
            num_frames = video.num_frames
            indices = _check_indices(
                self.clip_sampler(num_frames, self._generator(index)), num_frames
            )
            frames = video.get_frames(indices.reshape(-1), short_video=self.short_video)
        num_clips, clip_len = indices.shape
        clips = frames.reshape(num_clips, clip_len, *frames.shape[1:])
        outputs = [self._finish(clip) for clip in clips]
        clip: Any = outputs[0] if num_clips == 1 else _stack(outputs)
        return VideoSample(
            clip=clip, label=self._index.labels[index], video_index=index, path=str(path)
        )

    def _finish(self, frames: Tensor) -> Any:
        """Frames ``(T, C, H, W)`` uint8 to a clip ``(C, T, H, W)``, then the transform."""
        if self.clip_dtype == "float32":
            clip = to_float_clip(frames, layout="TCHW")
        else:
            clip = frames.permute(1, 0, 2, 3)
        if self.transform is None:
            return clip
        return self.transform(clip)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(root={str(self.root)!r}, videos={len(self)}, "
            f"classes={len(self.classes)}, backend={self.backend!r}, on_error={self.on_error!r})"
        )


def _stack(outputs: list[Any]) -> Any:
    """Stack per-clip outputs into ``(N, ...)`` when they are tensors of one shape."""
    if all(isinstance(o, Tensor) for o in outputs) and len({o.shape for o in outputs}) == 1:
        return torch.stack(outputs)
    return outputs
