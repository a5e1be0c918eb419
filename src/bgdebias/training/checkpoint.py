"""Atomic, resumable checkpoints loaded with ``weights_only=True``."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import torch

_NAME = re.compile(r"^checkpoint-(\d{8})\.pt$")


class CheckpointError(RuntimeError):
    """A checkpoint cannot be read or does not match the run that loads it."""


def checkpoint_path(folder: str | os.PathLike[str], step: int) -> Path:
    """``<folder>/checkpoint-<step, 8 digits>.pt``."""
    return Path(folder) / f"checkpoint-{step:08d}.pt"


def save_checkpoint(
    state: dict[str, Any], folder: str | os.PathLike[str], step: int, *, keep: int = 2
) -> Path:
    """Write ``state`` atomically (temporary file, fsync, rename) and keep the last ``keep``.

    A crash or a signal at any moment leaves either the previous checkpoints or the new
    one complete on disk, never a torn file under a checkpoint name.
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
    """Complete checkpoints in ``folder``, oldest first."""
    directory = Path(folder)
    if not directory.is_dir():
        return []
    found = [path for path in directory.iterdir() if _NAME.match(path.name)]
    return sorted(found, key=lambda path: int(_NAME.match(path.name).group(1)))  # type: ignore[union-attr]


def latest_checkpoint(folder: str | os.PathLike[str]) -> Path | None:
    """The newest complete checkpoint in ``folder``, or ``None``."""
    found = list_checkpoints(folder)
    return found[-1] if found else None


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load a checkpoint on the CPU with ``weights_only=True`` (no code is unpickled)."""
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
