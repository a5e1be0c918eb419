"""Atomic-ish image writes: a temporary file in the target folder, then ``os.replace``."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import Any

from PIL import Image


def write_image_atomically(
    image: Image.Image, path: str | os.PathLike[str], image_format: str, **options: Any
) -> Path:
    """Save ``image`` to ``path`` so that readers see the old file or the new one, never half.

    Missing parent folders are created. The temporary file lives in the target folder (so
    ``os.replace`` stays on one file system) and is removed if saving fails.
    """
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"`path` must be a str or os.PathLike, got {type(path).__name__}")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
    )
    try:
        with os.fdopen(handle, "wb") as stream:
            image.save(stream, format=image_format, **options)
        os.chmod(temporary, _file_mode(target))
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def _file_mode(target: Path) -> int:
    """The existing file's permissions, else those a plain ``open`` would give (umask)."""
    if target.exists():
        return stat.S_IMODE(target.stat().st_mode)
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
