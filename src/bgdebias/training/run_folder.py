"""One run per folder: a folder that holds a run is only continued (resume) or replaced."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from bgdebias.training.checkpoint import checkpoint_step, list_checkpoints

#: Files and folders a run writes besides its checkpoints.
RUN_FILES = ("config.json", "log.csv", "loss.png", "tensorboard")


def describe_run(folder: str | os.PathLike[str]) -> str | None:
    """What run ``folder`` holds, in a few words, or ``None`` if it holds none.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> from bgdebias.training import save_checkpoint
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     empty = describe_run(folder)
        ...     _ = Path(folder, "config.json").write_text("{}")
        ...     for step in (6, 8):
        ...         _ = save_checkpoint({"step": step}, folder, step)
        ...     held = describe_run(folder)
        >>> empty, held
        (None, 'config.json, checkpoints up to step 8')
    """
    directory = Path(folder)
    found = [name for name in RUN_FILES if (directory / name).exists()]
    checkpoints = list_checkpoints(directory)
    if checkpoints:
        found.append(f"checkpoints up to step {checkpoint_step(checkpoints[-1])}")
    return ", ".join(found) or None


def check_run_folder(
    folder: str | os.PathLike[str], *, resume: bool | str, overwrite: bool
) -> None:
    """Refuse to start a run that would mix with (or silently replace) another one.

    Args:
        folder: The run folder (``output_dir``).
        resume: As :func:`~bgdebias.training.pretrain`'s: ``True`` continues the run in
            ``folder``; a checkpoint path continues that one (into an empty ``folder``, or
            into its own folder if it is the newest there).
        overwrite: Replace the run in ``folder`` (only for a new run).

    Raises:
        ValueError: Naming the folder, what it holds and the ways out.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     check_run_folder(folder, resume=False, overwrite=False)  # empty: fine
        ...     _ = Path(folder, "log.csv").write_text("step,loss\\n")
        ...     try:
        ...         check_run_folder(folder, resume=False, overwrite=False)
        ...     except ValueError as error:
        ...         print(str(error).replace(folder, "<run>"))  # doctest: +NORMALIZE_WHITESPACE
        `output_dir` <run> already holds a run (log.csv): continue it with --resume,
        choose another --output-dir, or replace it with --overwrite
    """
    directory = Path(folder)
    if overwrite and resume:
        raise ValueError("--overwrite starts a new run; it cannot be combined with --resume")
    held = describe_run(directory)
    if resume is True or held is None or overwrite:
        return
    if resume is False:
        raise ValueError(
            f"`output_dir` {directory} already holds a run ({held}): continue it with "
            "--resume, choose another --output-dir, or replace it with --overwrite"
        )
    source = Path(str(resume))
    try:
        source_step = checkpoint_step(source)
    except ValueError:
        source_step = None
    if source.resolve().parent != directory.resolve() or source_step is None:
        raise ValueError(
            f"`output_dir` {directory} already holds another run ({held}): to continue "
            f"{source} choose an empty --output-dir"
        )
    newer = [path for path in list_checkpoints(directory) if checkpoint_step(path) > source_step]
    if newer:
        raise ValueError(
            f"`output_dir` {directory} holds checkpoints newer than {source.name} "
            f"({', '.join(path.name for path in newer)}): continuing from it there would mix "
            "two runs; choose an empty --output-dir"
        )


def clear_run(folder: str | os.PathLike[str]) -> list[Path]:
    """Delete what a run wrote in ``folder`` (for ``overwrite``); other files stay.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> from bgdebias.training import save_checkpoint
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     _ = save_checkpoint({"step": 8}, folder, 8)
        ...     _ = Path(folder, "log.csv").write_text("step,loss\\n")
        ...     _ = Path(folder, "notes.txt").write_text("mine")
        ...     removed = sorted(path.name for path in clear_run(folder))
        ...     left = [path.name for path in Path(folder).iterdir()]
        >>> removed, left
        (['checkpoint-00000008.pt', 'log.csv'], ['notes.txt'])
    """
    directory = Path(folder)
    removed = [directory / name for name in RUN_FILES if (directory / name).exists()]
    removed += list_checkpoints(directory)
    removed += list(directory.glob("checkpoint-*.pt.damaged")) if directory.is_dir() else []
    for path in removed:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    return removed
