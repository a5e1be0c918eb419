"""Atomic, resumable checkpoints loaded with ``weights_only=True``."""

from __future__ import annotations

import logging
import os
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

logger = logging.getLogger("bgdebias.training")

_NAME = re.compile(r"^checkpoint-(\d{8})\.pt$")
_UNFINISHED = re.compile(r"^\.checkpoint-\d{8}\.pt\.tmp-\d+$")
#: Prefix under which older checkpoints listed the query encoder a second time.
_QUERY_ALIAS = "_query_forward."


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

    Rotation deletes the oldest checkpoints of steps before ``step`` until ``keep``
    remain, counting the new one; checkpoints of later steps are never deleted.

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
    # Rotation deletes only older steps: never what a later step (another run) left.
    older = [path for path in list_checkpoints(folder) if checkpoint_step(path) < step]
    for old in older[: max(0, len(older) - (keep - 1))]:
        old.unlink(missing_ok=True)
    return target


def checkpoint_step(path: str | os.PathLike[str]) -> int:
    """The step in a checkpoint's file name (``checkpoint-00000120.pt`` -> 120).

    Example:
        >>> checkpoint_step("runs/x/checkpoint-00000120.pt")
        120
    """
    match = _NAME.match(Path(path).name)
    if match is None:
        raise ValueError(f"{path} is not named like a checkpoint (checkpoint-<8 digits>.pt)")
    return int(match.group(1))


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
    return sorted(found, key=checkpoint_step)


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


@dataclass(frozen=True)
class ReadableCheckpoint:
    """The newest checkpoint of a folder that could be read, and the newer ones that could not.

    Attributes:
        path: The checkpoint read.
        state: Its contents (:func:`load_checkpoint`).
        skipped: Newer checkpoints that are damaged (truncated, empty, not a checkpoint).

    Example:
        >>> from pathlib import Path
        >>> from bgdebias.training import ReadableCheckpoint
        >>> found = ReadableCheckpoint(Path("checkpoint-00000100.pt"), {"step": 100}, skipped=())
        >>> found.state["step"], found.skipped
        (100, ())
    """

    path: Path
    state: dict[str, Any]
    skipped: tuple[Path, ...]


def newest_readable_checkpoint(folder: str | os.PathLike[str]) -> ReadableCheckpoint | None:
    """The newest checkpoint of ``folder`` that loads, skipping (and logging) damaged ones.

    Returns:
        The checkpoint, or ``None`` when the folder holds no checkpoint at all.

    Raises:
        CheckpointError: If every checkpoint in the folder is damaged (each one is named).

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     for step in (2, 4):
        ...         newest = save_checkpoint({"step": step}, folder, step)
        ...     _ = newest.write_bytes(b"")  # the newest is damaged
        ...     found = newest_readable_checkpoint(folder)
        >>> found.path.name, found.state["step"], [path.name for path in found.skipped]
        ('checkpoint-00000002.pt', 2, ['checkpoint-00000004.pt'])
    """
    skipped: list[Path] = []
    problems: list[str] = []
    for path in reversed(list_checkpoints(folder)):
        try:
            state = load_checkpoint(path)
        except CheckpointError as error:
            logger.warning("skipping damaged checkpoint: %s", error)
            skipped.append(path)
            problems.append(str(error))
            continue
        return ReadableCheckpoint(path, state, tuple(skipped))
    if problems:
        raise CheckpointError(f"no readable checkpoint in {folder}: " + "; ".join(problems))
    return None


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load a checkpoint on the CPU with ``weights_only=True`` (no code is unpickled).

    Raises:
        CheckpointError: Naming the file and the problem: missing, a folder, empty,
            truncated or not a PyTorch checkpoint at all, unreadable, or not written by
            :func:`~bgdebias.training.pretrain`.

    Example:
        >>> import tempfile
        >>> import torch
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     model = torch.nn.Linear(2, 1)
        ...     path = save_checkpoint({"step": 7, "model": model.state_dict()}, folder, 7)
        ...     state = load_checkpoint(path)
        ...     torch.save({"weights": torch.zeros(1)}, f"{folder}/other.pt")
        ...     _ = path.write_bytes(path.read_bytes()[:100])  # cut short, as a full disk would
        ...     for bad in (f"{folder}/other.pt", path):
        ...         try:
        ...             load_checkpoint(bad)
        ...         except CheckpointError as error:
        ...             print(str(error).replace(folder, "<f>"))  # doctest: +NORMALIZE_WHITESPACE
        <f>/other.pt is not a bgdebias checkpoint (no 'step' entry)
        checkpoint <f>/checkpoint-00000007.pt is truncated or not a PyTorch
        checkpoint (100 bytes, not a complete zip archive)
        >>> state["step"], sorted(state["model"])
        (7, ['bias', 'weight'])
    """
    source = Path(path)
    if source.is_dir():
        newest = latest_checkpoint(source)
        hint = f"; its newest checkpoint is {newest}" if newest else ""
        raise CheckpointError(f"checkpoint {source} is a folder, not a checkpoint file{hint}")
    if not source.is_file():
        raise CheckpointError(f"checkpoint not found: {source}")
    size = source.stat().st_size
    if size == 0:
        raise CheckpointError(f"checkpoint {source} is empty (0 bytes)")
    if not zipfile.is_zipfile(source):
        raise CheckpointError(
            f"checkpoint {source} is truncated or not a PyTorch checkpoint "
            f"({size} bytes, not a complete zip archive)"
        )
    try:
        state = torch.load(source, map_location="cpu", weights_only=True)
    except Exception as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CheckpointError(f"cannot read checkpoint {source}: {reason}") from error
    if not isinstance(state, dict) or "step" not in state:
        raise CheckpointError(f"{source} is not a bgdebias checkpoint (no 'step' entry)")
    return state


def model_state(state: dict[str, Any], path: str | os.PathLike[str]) -> dict[str, Any]:
    """The recipe's weights in a checkpoint, one copy of each.

    Checkpoints of earlier development versions also list every query-encoder tensor a
    second time, under ``_query_forward.`` (an alias of ``query_encoder``); those keys are
    dropped.

    Args:
        state: A checkpoint read by :func:`load_checkpoint`.
        path: Its file, for the error message.

    Returns:
        The ``model`` entry without the duplicate keys.

    Example:
        >>> import torch
        >>> weights = {"query_encoder.w": torch.ones(1), "_query_forward.w": torch.ones(1)}
        >>> sorted(model_state({"step": 1, "model": weights}, "old.pt"))
        ['query_encoder.w']
    """
    model = state.get("model")
    if not isinstance(model, dict):
        raise CheckpointError(f"{path} holds no model weights (no 'model' entry)")
    return {key: value for key, value in model.items() if not key.startswith(_QUERY_ALIAS)}


def remove_unfinished_writes(folder: str | os.PathLike[str]) -> list[Path]:
    """Delete the temporary files of checkpoint writes that never finished (a killed run).

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     _ = Path(folder, ".checkpoint-00000004.pt.tmp-42").write_bytes(b"half")
        ...     removed = [path.name for path in remove_unfinished_writes(folder)]
        ...     left = list(Path(folder).iterdir())
        >>> removed, left
        (['.checkpoint-00000004.pt.tmp-42'], [])
    """
    directory = Path(folder)
    if not directory.is_dir():
        return []
    torn = [path for path in directory.iterdir() if _UNFINISHED.match(path.name)]
    for path in torn:
        path.unlink(missing_ok=True)
    return torn


def set_aside_damaged(paths: Sequence[Path]) -> list[Path]:
    """Rename damaged checkpoints to ``<name>.damaged``, out of the way of resume and rotation.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     damaged = Path(folder, "checkpoint-00000004.pt")
        ...     _ = damaged.write_bytes(b"")
        ...     renamed = set_aside_damaged([damaged])
        ...     left = list_checkpoints(folder)
        >>> [path.name for path in renamed], left
        (['checkpoint-00000004.pt.damaged'], [])
    """
    renamed = []
    for path in paths:
        target = path.with_name(path.name + ".damaged")
        os.replace(path, target)
        logger.warning("renamed damaged checkpoint %s to %s", path, target.name)
        renamed.append(target)
    return renamed
