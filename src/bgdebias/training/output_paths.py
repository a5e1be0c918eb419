"""Check that an output folder or file can be written before any work starts."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def check_writable_folder(path: str | os.PathLike[str], *, name: str) -> Path:
    """Raise ``ValueError`` unless ``path`` is, or can be made, a folder this process can write.

    Nothing is created: writability is tested by opening (and at once discarding) an
    unnamed temporary file in the folder, or in its nearest existing parent, which also
    catches read-only file systems and works for root, for whom permission bits do not
    apply.

    Args:
        path: The folder.
        name: The option or argument it came from, for the message (``"--output-dir"``).

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     ok = check_writable_folder(Path(folder, "runs", "new"), name="--output-dir")
        ...     _ = Path(folder, "notes.txt").write_text("a file")
        ...     try:
        ...         check_writable_folder(Path(folder, "notes.txt", "run"), name="--output-dir")
        ...     except ValueError as error:
        ...         print(str(error).replace(folder, "<tmp>"))
        --output-dir <tmp>/notes.txt/run cannot be created: <tmp>/notes.txt is a file
        >>> ok.exists()  # nothing was created
        False
    """
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{name} {folder} is a file, not a folder")
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ValueError(f"{name} {folder} cannot be created: {existing} is a file")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        where = "" if existing == folder else f" (in {existing})"
        raise ValueError(f"{name} {folder} is not writable{where}: {error.strerror}") from error
    return folder


def check_writable_file(
    path: str | os.PathLike[str], *, name: str, example: str = "results.json"
) -> Path:
    """Raise ``ValueError`` unless ``path`` names a file that can be written.

    Args:
        path: The file (it may exist; its folder may not yet).
        name: The option or argument it came from, for the message (``"--output"``).
        example: A file name the message suggests when ``path`` is a folder.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     try:
        ...         check_writable_file(folder, name="--output")
        ...     except ValueError as error:
        ...         print(str(error).replace(folder, "<tmp>"))
        --output <tmp> is a folder; give a file name such as <tmp>/results.json
    """
    target = Path(path)
    if target.is_dir():
        raise ValueError(
            f"{name} {target} is a folder; give a file name such as {target / example}"
        )
    if target.exists() and not os.access(target, os.W_OK):
        raise ValueError(f"{name} {target} is not writable (a read-only file)")
    check_writable_folder(target.parent, name=f"the folder of {name} {target}:")
    return target
