"""Building a dataset's video index: annotation parsing helpers, path safety, a JSON cache.

Indexing never opens a video: it parses annotation files and checks each listed file with
one ``os.lstat`` (plus ``realpath`` for symlinks), so a 13k-video split indexes in well
under a second.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import posixpath
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

logger = logging.getLogger("bgdebias.data.datasets")

MissingFilesPolicy = Literal["raise", "skip"]

_CACHE_VERSION = 1
_SHOWN_MISSING = 5


class AnnotationError(ValueError):
    """A malformed line (or entry) of an annotation file.

    Args:
        path: The annotation file.
        line: 1-based line number (entry number for JSON lists), or ``None``.
        message: What is wrong.
        unit: What ``line`` counts, ``"line"`` or ``"entry"``.

    Attributes:
        path: The annotation file.
        line: The line (or entry) number, or ``None``.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> from bgdebias.data import UCF101, AnnotationError, UniformClipSampler
        >>> with tempfile.TemporaryDirectory() as root:
        ...     _ = Path(root, "classInd.txt").write_text("1 Archery\\nBowling\\n")  # no number
        ...     _ = Path(root, "trainlist01.txt").write_text("")
        ...     try:
        ...         UCF101(root, root, clip_sampler=UniformClipSampler(4))
        ...     except AnnotationError as error:
        ...         print(str(error).replace(root, "<root>"))
        ...         print(error.line, isinstance(error, ValueError))
        <root>/classInd.txt, line 2: expected '<number> <ClassName>', got 'Bowling'
        2 True
    """

    def __init__(
        self, path: str | os.PathLike[str], line: int | None, message: str, *, unit: str = "line"
    ) -> None:
        self.path = os.fspath(path)
        self.line = line
        super().__init__(f"{where(self.path, line, unit)}: {message}")


def where(source: str | os.PathLike[str], line: int | None, unit: str = "line") -> str:
    """``"<file>, line <n>"`` (or just the file when there is no line number)."""
    return f"{os.fspath(source)}, {unit} {line}" if line is not None else os.fspath(source)


@dataclass(frozen=True)
class VideoIndex:
    """The videos of one dataset split.

    Attributes:
        classes: Class names, in label order.
        paths: Video files relative to the dataset root, ``/``-separated.
        labels: Class index of each video (``-1`` where the split has no labels).
        missing: Listed videos that were not found and dropped (``missing_files="skip"``).

    Example:
        >>> index = VideoIndex(
        ...     classes=("Archery", "Bowling"),
        ...     paths=("Archery/v_Archery_g01_c01.avi", "Bowling/v_Bowling_g01_c01.avi"),
        ...     labels=(0, 1),
        ... )
        >>> [index.classes[label] for label in index.labels], index.missing
        (['Archery', 'Bowling'], ())

        A dataset exposes its index as ``classes``, ``paths``, ``labels`` and ``missing``.
    """

    classes: tuple[str, ...]
    paths: tuple[str, ...]
    labels: tuple[int, ...]
    missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class ListedVideo:
    """One annotation entry before the file check: where it came from and what it names."""

    path: str
    label: int
    source: Path
    line: int | None
    unit: str = "line"


def check_dataset_root(root: str | os.PathLike[str], dataset: str) -> Path:
    """Return ``root`` as a path if it is a directory, else raise ``FileNotFoundError``."""
    path = Path(root)
    if not path.is_dir():
        state = "is not a directory" if path.exists() else "does not exist"
        raise FileNotFoundError(
            f"{dataset} root {str(path)!r} {state}; pass the folder that holds the videos"
        )
    return path


def require_file(path: Path, what: str) -> Path:
    """Return ``path`` if it is a file, else raise ``FileNotFoundError`` saying what and where."""
    if not path.is_file():
        raise FileNotFoundError(f"{what} not found: expected a file at {str(path)!r}")
    return path


def read_text_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Non-blank lines of a text file as ``(line_number, stripped_text)`` (BOM, CRLF safe)."""
    with path.open(encoding="utf-8-sig", newline=None) as handle:
        for number, raw in enumerate(handle, start=1):
            text = raw.strip()
            if text:
                yield number, text


def read_json(path: Path) -> Any:
    """Parse a JSON file; a syntax error becomes an :class:`AnnotationError` with its line."""
    try:
        with path.open(encoding="utf-8-sig") as handle:
            return json.load(handle)
    except json.JSONDecodeError as error:
        raise AnnotationError(path, error.lineno, f"invalid JSON: {error.msg}") from error


class RootGuard:
    """Turns annotation paths into safe paths below a dataset root and checks the files.

    Args:
        root: The dataset root.
        allow_symlink_escape: Accept files that are (or lie under) symlinks pointing outside
            the root.
    """

    def __init__(self, root: Path, *, allow_symlink_escape: bool = False) -> None:
        self.root = root
        self.allow_symlink_escape = allow_symlink_escape
        self._real_root = os.path.realpath(root)
        self._real_dirs: dict[str, str] = {}

    def relative(self, name: str, *, source: Path, line: int | None, unit: str = "line") -> str:
        """Normalise an annotation path; reject absolute paths and ``..`` escapes.

        Raises:
            ValueError: If ``name`` is absolute or leaves the root.
        """
        text = name.replace("\\", "/")
        if (
            not text
            or text.startswith("/")
            or os.path.isabs(name)
            or (len(text) > 1 and text[1] == ":")
        ):
            raise ValueError(
                f"{where(source, line, unit)}: path {name!r} must be relative to the dataset root "
                f"{str(self.root)!r}"
            )
        normal = posixpath.normpath(text)
        if normal == ".." or normal.startswith("../") or normal == ".":
            raise ValueError(
                f"{where(source, line, unit)}: path {name!r} resolves outside the dataset root "
                f"{str(self.root)!r}"
            )
        return normal

    def _inside(self, real: str) -> bool:
        return real == self._real_root or real.startswith(self._real_root + os.sep)

    def _real_dir(self, directory: str) -> str:
        real = self._real_dirs.get(directory)
        if real is None:
            real = os.path.realpath(os.path.join(self.root, directory))
            self._real_dirs[directory] = real
        return real

    def is_file(self, relative: str, *, source: Path, line: int | None, unit: str = "line") -> bool:
        """Whether ``root/relative`` is a file; a symlink escape is a ``ValueError``."""
        full = os.path.join(self.root, relative)
        try:
            info = os.lstat(full)
        except OSError:
            return False
        if stat.S_ISLNK(info.st_mode):
            real = os.path.realpath(full)
            inside = self._inside(real)
        else:
            inside = self._inside(self._real_dir(posixpath.dirname(relative)))
            real = full
        if not inside and not self.allow_symlink_escape:
            raise ValueError(
                f"{where(source, line, unit)}: {relative!r} is a symlink (or lies under one) that "
                f"resolves outside the dataset root {str(self.root)!r}; pass "
                "allow_symlink_escape=True to accept it"
            )
        return os.path.isfile(real) if stat.S_ISLNK(info.st_mode) else stat.S_ISREG(info.st_mode)


def keep_existing(
    guard: RootGuard,
    listed: Iterable[ListedVideo],
    *,
    missing_files: MissingFilesPolicy,
    dataset: str,
) -> tuple[list[ListedVideo], list[str]]:
    """Split the listed videos into present ones and missing relative paths.

    Raises:
        FileNotFoundError: If a file is missing and ``missing_files="raise"``.
    """
    present: list[ListedVideo] = []
    missing: list[ListedVideo] = []
    for video in listed:
        if guard.is_file(video.path, source=video.source, line=video.line, unit=video.unit):
            present.append(video)
        else:
            missing.append(video)
    if missing and missing_files == "raise":
        shown = "; ".join(
            f"{str(guard.root / m.path)!r} ({where(m.source.name, m.line, m.unit)})"
            for m in missing[:_SHOWN_MISSING]
        )
        more = f" and {len(missing) - _SHOWN_MISSING} more" if len(missing) > _SHOWN_MISSING else ""
        raise FileNotFoundError(
            f"{dataset}: {len(missing)} listed video(s) are missing, expected at: {shown}{more}; "
            "pass missing_files='skip' to drop them"
        )
    if missing:
        logger.warning(
            "%s: dropped %d listed video(s) missing under %s (first: %s)",
            dataset,
            len(missing),
            guard.root,
            missing[0].path,
        )
    return present, [m.path for m in missing]


def file_signature(path: Path) -> list[Any]:
    """What identifies a version of a file or folder for the cache: path, size, mtime."""
    info = path.stat()
    return [os.path.realpath(path), info.st_size, info.st_mtime_ns]


def cache_file(cache_dir: Path, dataset: str, key: dict[str, Any]) -> Path:
    """The JSON file that caches the index identified by ``key``."""
    text = json.dumps({"version": _CACHE_VERSION, **key}, sort_keys=True, default=str)
    digest = hashlib.sha256(text.encode()).hexdigest()[:20]
    return cache_dir / f"{dataset}-{digest}.json"


def load_cached_index(path: Path) -> VideoIndex | None:
    """The cached index at ``path``, or ``None`` if absent or unreadable (then rebuilt)."""
    try:
        with path.open(encoding="utf-8") as handle:
            data = json.load(handle)
        index = VideoIndex(
            classes=tuple(str(c) for c in data["classes"]),
            paths=tuple(str(p) for p in data["paths"]),
            labels=tuple(int(label) for label in data["labels"]),
            missing=tuple(str(m) for m in data.get("missing", ())),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if len(index.paths) != len(index.labels):
        return None
    return index


def save_cached_index(path: Path, index: VideoIndex) -> None:
    """Write ``index`` to ``path`` atomically (a temporary file renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    data = {
        "classes": index.classes,
        "paths": index.paths,
        "labels": index.labels,
        "missing": index.missing,
    }
    with temporary.open("w", encoding="utf-8") as handle:
        json.dump(data, handle)
    os.replace(temporary, path)
