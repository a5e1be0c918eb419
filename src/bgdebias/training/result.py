"""What a pretraining run returns."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PretrainResult:
    """What a finished run (or one stopped by ``stop_at_step``) left behind.

    A run stopped by SIGINT/SIGTERM returns none: :func:`~bgdebias.training.pretrain`
    raises :class:`~bgdebias.training.RunInterrupted` after its checkpoint.

    Attributes:
        output_dir: The run folder (config, log, checkpoints).
        checkpoint: The last checkpoint written.
        step: Number of optimisation steps done.
        interrupted: Whether ``stop_at_step`` stopped the run before ``config.steps``.

    Example:
        See :func:`~bgdebias.training.pretrain`, which returns one.
    """

    output_dir: Path
    checkpoint: Path
    step: int
    interrupted: bool
