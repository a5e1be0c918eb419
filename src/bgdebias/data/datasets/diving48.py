"""Diving48 (V2 annotations) from its JSON files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from typing_extensions import Unpack

from bgdebias._validation import check_choice
from bgdebias.data.datasets._index import AnnotationError, ListedVideo, read_json, require_file
from bgdebias.data.datasets.base import VideoClipDataset, VideoDatasetOptions
from bgdebias.data.sampling import ClipSampler

Diving48Split = Literal["train", "test"]

#: Dive classes of Diving48.
DIVING48_NUM_CLASSES = 48


class Diving48(VideoClipDataset):
    """Diving48 with the V2 (cleaned) labels: 18k dives of 48 classes.

    Layout::

        <root>/rgb/<vid_name>.mp4                    the trimmed videos
        <annotation_path>/Diving48_V2_train.json, Diving48_V2_test.json
            [{"vid_name": "-mmq0PT-u8k_00000", "label": 0,
              "start_frame": 0, "end_frame": 83}, ...]
        <annotation_path>/Diving48_vocab.json        optional: [[takeoff, somersault,
                                                     twist, flight], ...] per class

    ``start_frame``/``end_frame`` locate the dive in the untrimmed source; the released
    ``rgb`` files are already trimmed, so they are ignored. Class names join the vocabulary
    words (``"Back 15som 05Twis FREE"``) when ``Diving48_vocab.json`` exists, else they are
    ``"0"`` to ``"47"``.

    Args:
        root: Folder with the ``rgb`` video folder.
        split: ``"train"`` or ``"test"``.
        annotation_path: Folder with the JSON files; default ``root``.
        clip_sampler: Frame indices per video, see :class:`VideoClipDataset`.
        **options: The common options of :class:`VideoClipDataset`.

    Raises:
        FileNotFoundError: If the root, the split's JSON file or a video is missing.
        ValueError: On a bad ``split``, a malformed entry (file and entry number) or a name
            that leaves ``root``.

    Example:
        >>> import json
        >>> import tempfile
        >>> from pathlib import Path
        >>> import torch
        >>> from bgdebias.data import UniformClipSampler, write_video
        >>> frames = torch.zeros(8, 32, 32, 3, dtype=torch.uint8)
        >>> entries = [{"vid_name": "dive_00000", "label": 7, "start_frame": 0, "end_frame": 7}]
        >>> with tempfile.TemporaryDirectory() as root:
        ...     _ = write_video(Path(root, "rgb", "dive_00000.mp4"), frames)
        ...     _ = Path(root, "Diving48_V2_train.json").write_text(json.dumps(entries))
        ...     data = Diving48(root, clip_sampler=UniformClipSampler(4, num_clips=1))
        ...     sample = data[0]
        >>> len(data.classes), data.classes[7], data.paths  # no vocabulary file: names "0".."47"
        (48, '7', ('rgb/dive_00000.mp4',))
        >>> sample.clip.shape, sample.label
        (torch.Size([3, 4, 32, 32]), 7)
    """

    dataset_name = "Diving48"

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        split: Diving48Split = "train",
        annotation_path: str | os.PathLike[str] | None = None,
        clip_sampler: ClipSampler,
        **options: Unpack[VideoDatasetOptions],
    ) -> None:
        self.split: Diving48Split = split
        check_choice(split, "split", ("train", "test"))
        self.annotation_path = Path(root if annotation_path is None else annotation_path)
        super().__init__(root, clip_sampler=clip_sampler, **options)

    @property
    def _vocab_file(self) -> Path:
        return self.annotation_path / "Diving48_vocab.json"

    def _index_sources(self) -> list[Path]:
        split_file = self.annotation_path / f"Diving48_V2_{self.split}.json"
        sources = [require_file(split_file, f"Diving48 V2 {self.split} annotations")]
        if self._vocab_file.is_file():
            sources.append(self._vocab_file)
        return sources

    def _cache_key(self) -> dict[str, Any]:
        return {**super()._cache_key(), "split": self.split}

    def _read_classes(self) -> tuple[str, ...]:
        if not self._vocab_file.is_file():
            return tuple(str(label) for label in range(DIVING48_NUM_CLASSES))
        vocab = read_json(self._vocab_file)
        if not isinstance(vocab, list) or not vocab:
            raise AnnotationError(self._vocab_file, None, "expected a list of word lists")
        return tuple(
            " ".join(str(w) for w in words) if isinstance(words, list) else str(words)
            for words in vocab
        )

    def _list_videos(self) -> tuple[tuple[str, ...], list[ListedVideo]]:
        source = self._index_sources()[0]
        classes = self._read_classes()
        data = read_json(source)
        if not isinstance(data, list):
            raise AnnotationError(source, None, "expected a list of {vid_name, label} objects")
        listed: list[ListedVideo] = []
        for number, entry in enumerate(data, start=1):
            if not isinstance(entry, dict) or not isinstance(entry.get("vid_name"), str):
                raise AnnotationError(source, number, "entry lacks a 'vid_name'", unit="entry")
            label = entry.get("label")
            if isinstance(label, bool) or not isinstance(label, int):
                raise AnnotationError(
                    source, number, f"'label' must be an int, got {label!r}", unit="entry"
                )
            if not 0 <= label < len(classes):
                raise AnnotationError(
                    source,
                    number,
                    f"label {label} is outside the {len(classes)} classes",
                    unit="entry",
                )
            name = entry["vid_name"]
            if "/" in name or "\\" in name or name in ("", ".", ".."):
                raise ValueError(
                    f"{source}, entry {number}: vid_name {name!r} must be a plain file stem "
                    "(it would resolve outside the dataset root)"
                )
            path = self._guard.relative(f"rgb/{name}.mp4", source=source, line=number, unit="entry")
            listed.append(
                ListedVideo(path=path, label=label, source=source, line=number, unit="entry")
            )
        return classes, listed
