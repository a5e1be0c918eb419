"""Kinetics-400/600/700 from the official CSV annotations and the usual download layouts."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any, Literal

from typing_extensions import Unpack

from bgdebias._validation import check_choice
from bgdebias.data.datasets._index import AnnotationError, ListedVideo, require_file
from bgdebias.data.datasets.base import VideoClipDataset, VideoDatasetOptions
from bgdebias.data.sampling import ClipSampler

KineticsSplit = Literal["train", "val", "test"]

_CSV_NAMES: dict[str, tuple[str, ...]] = {
    "train": ("train.csv",),
    "val": ("validate.csv", "val.csv"),
    "test": ("test.csv",),
}
_FOLDER_NAMES: dict[str, tuple[str, ...]] = {
    "train": ("train",),
    "val": ("val", "validate", "validation"),
    "test": ("test",),
}
_REQUIRED_COLUMNS = ("youtube_id", "time_start", "time_end")


def kinetics_file_name(youtube_id: str, time_start: int, time_end: int) -> str:
    """File name the common download scripts give a clip: ``<id>_<start:06d>_<end:06d>.mp4``.

    Example:
        >>> kinetics_file_name("-abc123", 14, 24)  # a CSV row's youtube_id, time_start, time_end
        '-abc123_000014_000024.mp4'
    """
    return f"{youtube_id}_{time_start:06d}_{time_end:06d}.mp4"


class Kinetics(VideoClipDataset):
    """Kinetics-400, -600 or -700 (the version is whatever the CSV files list).

    Layout (either video layout is found; the class folder may use spaces or underscores)::

        <annotation_path>/train.csv, validate.csv (or val.csv), test.csv
            header "label,youtube_id,time_start,time_end,split" (extra columns ignored;
            test.csv may lack "label")
        <root>/<split>/<label>/<youtube_id>_<start:06d>_<end:06d>.mp4
        <root>/<split>/<youtube_id>_<start:06d>_<end:06d>.mp4

    ``<split>`` is ``train``, ``val`` (or ``validate``/``validation``) or ``test``. Classes
    are the sorted labels of ``train.csv`` (of the split's own file if there is no
    ``train.csv``), so every split uses the same label numbers. Videos of an unlabelled test
    split get label ``-1``. Indexing lists each class folder once (``os.scandir``) instead of
    probing every file; videos missing from the download are common, see ``missing_files``.

    Args:
        root: Folder with the ``train``/``val``/``test`` video folders.
        split: ``"train"``, ``"val"`` or ``"test"``.
        annotation_path: Folder with the CSV files; default ``<root>/annotations``.
        clip_sampler: Frame indices per video, see :class:`VideoClipDataset`.
        **options: The common options of :class:`VideoClipDataset`.

    Raises:
        FileNotFoundError: If the root, the CSV file, the split folder or a video is missing.
        ValueError: On a bad ``split``, a malformed CSV row (file and line) or an id that
            leaves ``root``.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> import torch
        >>> from bgdebias.data import UniformClipSampler, write_video
        >>> frames = torch.zeros(8, 32, 32, 3, dtype=torch.uint8)
        >>> sampler = UniformClipSampler(4, num_clips=1)
        >>> with tempfile.TemporaryDirectory() as root:
        ...     train = Path(root, "train")  # a label folder (spaces as _) or no folder at all
        ...     _ = write_video(train / "abseiling" / kinetics_file_name("abc", 0, 10), frames)
        ...     _ = write_video(train / "playing_guitar" / kinetics_file_name("xyz", 5, 15), frames)
        ...     _ = write_video(train / kinetics_file_name("uvw", 30, 40), frames)
        ...     Path(root, "annotations").mkdir()
        ...     _ = Path(root, "annotations", "train.csv").write_text(
        ...         "label,youtube_id,time_start,time_end,split\\n"
        ...         "abseiling,abc,0,10,train\\n"
        ...         "playing guitar,xyz,5,15,train\\n"
        ...         "playing guitar,uvw,30,40,train\\n"
        ...     )
        ...     data = Kinetics(root, split="train", clip_sampler=sampler)
        ...     sample = data[1]
        >>> data.classes, data.labels
        (('abseiling', 'playing guitar'), (0, 1, 1))
        >>> data.paths[1:]
        ('train/playing_guitar/xyz_000005_000015.mp4', 'train/uvw_000030_000040.mp4')
        >>> sample.clip.shape, sample.label
        (torch.Size([3, 4, 32, 32]), 1)
    """

    dataset_name = "Kinetics"

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        split: KineticsSplit = "train",
        annotation_path: str | os.PathLike[str] | None = None,
        clip_sampler: ClipSampler,
        **options: Unpack[VideoDatasetOptions],
    ) -> None:
        self.split: KineticsSplit = split
        check_choice(split, "split", ("train", "val", "test"))
        self.annotation_path = (
            Path(root) / "annotations" if annotation_path is None else Path(annotation_path)
        )
        super().__init__(root, clip_sampler=clip_sampler, **options)

    def _csv_file(self, split: str) -> Path:
        names = _CSV_NAMES[split]
        for name in names:
            candidate = self.annotation_path / name
            if candidate.is_file():
                return candidate
        return require_file(
            self.annotation_path / names[0],
            f"Kinetics {split} annotations ({' or '.join(names)})",
        )

    def _video_folder(self) -> str:
        names = _FOLDER_NAMES[self.split]
        for name in names:
            if (self.root / name).is_dir():
                return name
        raise FileNotFoundError(
            f"Kinetics {self.split} videos not found: expected a folder "
            f"{' or '.join(repr(str(self.root / n)) for n in names)}"
        )

    def _index_sources(self) -> list[Path]:
        sources = [self._csv_file(self.split), self.root / self._video_folder()]
        train = self.annotation_path / "train.csv"
        if self.split != "train" and train.is_file():
            sources.append(train)
        return sources

    def _cache_key(self) -> dict[str, Any]:
        return {**super()._cache_key(), "split": self.split}

    def _read_rows(self, source: Path) -> list[tuple[int, dict[str, str]]]:
        with source.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            columns = set(reader.fieldnames or ())
            lacking = [c for c in _REQUIRED_COLUMNS if c not in columns]
            if lacking:
                raise AnnotationError(
                    source,
                    1,
                    f"the header lacks column(s) {', '.join(lacking)}; expected "
                    "'label,youtube_id,time_start,time_end,split'",
                )
            rows: list[tuple[int, dict[str, str]]] = []
            for row in reader:
                if None in row or any(row.get(c) is None for c in _REQUIRED_COLUMNS):
                    raise AnnotationError(
                        source, reader.line_num, "wrong number of fields for the header"
                    )
                rows.append((reader.line_num, row))
        return rows

    def _read_classes(self, own_rows: list[tuple[int, dict[str, str]]]) -> tuple[str, ...]:
        train = self.annotation_path / "train.csv"
        rows = own_rows if self.split == "train" or not train.is_file() else self._read_rows(train)
        return tuple(sorted({row["label"] for _, row in rows if row.get("label")}))

    def _scan(self, folder: str) -> dict[str, str]:
        """Video file name -> path relative to root, for both layouts (one level of folders)."""
        found: dict[str, str] = {}
        with os.scandir(self.root / folder) as entries:
            for entry in entries:
                if entry.is_dir():
                    with os.scandir(entry.path) as files:
                        for file in files:
                            found.setdefault(file.name, f"{folder}/{entry.name}/{file.name}")
                else:
                    found.setdefault(entry.name, f"{folder}/{entry.name}")
        return found

    def _list_videos(self) -> tuple[tuple[str, ...], list[ListedVideo]]:
        source = self._csv_file(self.split)
        rows = self._read_rows(source)
        classes = self._read_classes(rows)
        labels = {name: label for label, name in enumerate(classes)}
        folder = self._video_folder()
        found = self._scan(folder)
        listed: list[ListedVideo] = []
        for line, row in rows:
            try:
                start, end = int(float(row["time_start"])), int(float(row["time_end"]))
            except ValueError:
                raise AnnotationError(
                    source,
                    line,
                    f"time_start/time_end must be numbers, got {row['time_start']!r}, "
                    f"{row['time_end']!r}",
                ) from None
            label_name = row.get("label") or ""
            if label_name and label_name not in labels:
                raise AnnotationError(
                    source, line, f"label {label_name!r} does not occur in train.csv"
                )
            label = labels[label_name] if label_name else -1
            name = kinetics_file_name(row["youtube_id"], start, end)
            expected = f"{folder}/{label_name}/{name}" if label_name else f"{folder}/{name}"
            if "/" in row["youtube_id"] or "\\" in row["youtube_id"]:
                raise ValueError(
                    f"{source}, line {line}: youtube_id {row['youtube_id']!r} must not contain "
                    "path separators (it would resolve outside the split folder)"
                )
            path = self._guard.relative(found.get(name, expected), source=source, line=line)
            listed.append(ListedVideo(path=path, label=label, source=source, line=line))
        return classes, listed
