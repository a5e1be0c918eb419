"""Atomic, resumable checkpoints loaded with ``weights_only=True``."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import torch

_NAME = re.compile(r"^checkpoint-(\d{8})\.pt$")


class CheckpointError(RuntimeError):
    """A checkpoint cannot be read or does not match the run that loads it.

    Example:
        >>> from bgdebias.training import CheckpointError, load_checkpoint
        >>> try:
        ...     load_checkpoint("runs/none/checkpoint-00000010.pt")
        ... except CheckpointError as error:
        ...     print(error)
        checkpoint not found: runs/none/checkpoint-00000010.pt
    """


def checkpoint_path(folder: str | os.PathLike[str], step: int) -> Path:
    """``<folder>/checkpoint-<step, 8 digits>.pt``."""
    return Path(folder) / f"checkpoint-{step:08d}.pt"


def save_checkpoint(
    state: dict[str, Any], folder: str | os.PathLike[str], step: int, *, keep: int = 2
) -> Path:
    """Write ``state`` atomically (temporary file, fsync, rename) and keep the last ``keep``.

    A crash or a signal at any moment leaves either the previous checkpoints or the new
    one complete on disk, never a torn file under a checkpoint name.

    Example:
        >>> import tempfile
        >>> import torch
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     for step in (10, 20, 30):
        ...         state = {"step": step, "model": {"weight": torch.zeros(2)}}
        ...         path = save_checkpoint(state, folder, step, keep=2)
        ...     kept = [checkpoint.name for checkpoint in list_checkpoints(folder)]
        >>> path.name, kept  # the oldest was deleted
        ('checkpoint-00000030.pt', ['checkpoint-00000020.pt', 'checkpoint-00000030.pt'])
    """
    target = checkpoint_path(folder, step)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    with open(temporary, "wb") as handle:
        torch.save(state, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, target)
    for old in list_checkpoints(folder)[:-keep]:
        old.unlink(missing_ok=True)
    return target


def list_checkpoints(folder: str | os.PathLike[str]) -> list[Path]:
    """Complete checkpoints in ``folder``, oldest first.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     for name in ("checkpoint-00000900.pt", "checkpoint-00001000.pt", "config.yaml"):
        ...         _ = Path(folder, name).write_bytes(b"")
        ...     _ = Path(folder, ".checkpoint-00001100.pt.tmp-42").write_bytes(b"")  # torn write
        ...     found = [path.name for path in list_checkpoints(folder)]
        >>> found  # by step; other files and unfinished writes are ignored
        ['checkpoint-00000900.pt', 'checkpoint-00001000.pt']
        >>> list_checkpoints("no/such/folder")
        []
    """
    directory = Path(folder)
    if not directory.is_dir():
        return []
    found = [path for path in directory.iterdir() if _NAME.match(path.name)]
    return sorted(found, key=lambda path: int(_NAME.match(path.name).group(1)))  # type: ignore[union-attr]


def latest_checkpoint(folder: str | os.PathLike[str]) -> Path | None:
    """The newest complete checkpoint in ``folder``, or ``None``.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     before = latest_checkpoint(folder)  # nothing to resume from yet
        ...     for step in (5, 10):
        ...         _ = save_checkpoint({"step": step}, folder, step)
        ...     newest = latest_checkpoint(folder)
        >>> before, newest.name
        (None, 'checkpoint-00000010.pt')
    """
    found = list_checkpoints(folder)
    return found[-1] if found else None


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load a checkpoint on the CPU with ``weights_only=True`` (no code is unpickled).

    Example:
        >>> import tempfile
        >>> import torch
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     model = torch.nn.Linear(2, 1)
        ...     path = save_checkpoint({"step": 7, "model": model.state_dict()}, folder, 7)
        ...     state = load_checkpoint(path)
        ...     torch.save({"weights": torch.zeros(1)}, f"{folder}/other.pt")
        ...     try:
        ...         load_checkpoint(f"{folder}/other.pt")
        ...     except CheckpointError as error:
        ...         print(str(error).replace(folder, "<folder>"))
        <folder>/other.pt is not a bgdebias checkpoint (no 'step' entry)
        >>> state["step"], sorted(state["model"])
        (7, ['bias', 'weight'])
    """
    source = Path(path)
    if not source.is_file():
        raise CheckpointError(f"checkpoint not found: {source}")
    try:
        state = torch.load(source, map_location="cpu", weights_only=True)
    except Exception as error:
        raise CheckpointError(f"cannot read checkpoint {source}: {error}") from error
    if not isinstance(state, dict) or "step" not in state:
        raise CheckpointError(f"{source} is not a bgdebias checkpoint (no 'step' entry)")
    return state
