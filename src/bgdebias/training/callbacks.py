"""Hooks into a pretraining run: what :func:`~bgdebias.training.pretrain` tells its callbacks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset

from bgdebias.training.config import ResolvedPretrainConfig
from bgdebias.training.result import PretrainResult


@dataclass(frozen=True)
class PretrainRun:
    """What a callback may read about the run it watches.

    Attributes:
        config: The resolved configuration.
        output_dir: The run folder.
        model: The recipe being trained (:class:`~bgdebias.training.DebiasedMoCo` or
            :class:`~bgdebias.training.FAMEMoCo`); its ``query_encoder`` is the encoder.
            Read it, do not change it: its weights, modes and buffers are the run's state.
        dataset: The training videos.
        device: Where the model runs.
        start_step: The step the run starts from (``> 0`` when resumed).

    Example:
        See :class:`PretrainCallback`, whose ``on_train_start`` receives one.
    """

    config: ResolvedPretrainConfig
    output_dir: Path
    model: nn.Module
    dataset: Dataset[Any]
    device: torch.device
    start_step: int


class PretrainCallback:
    """Base class of the callbacks of :func:`~bgdebias.training.pretrain`: override what you need.

    The run calls, in the main process only (rank 0 of a distributed run):

    - :meth:`on_train_start` once, after the run folder is prepared, before the first step;
    - :meth:`on_step` after every optimisation step;
    - :meth:`on_log` with every row written to ``log.csv`` (the same steps, the same values);
    - :meth:`on_checkpoint` after every checkpoint is written;
    - :meth:`on_train_end` when :func:`~bgdebias.training.pretrain` returns (also after
      ``stop_at_step``). A run stopped by a signal or a diverged loss raises instead; its
      last checkpoint was announced by :meth:`on_checkpoint`.

    Callbacks run inside the loop's signal handling: a Ctrl-C during a callback stops the
    run at the end of the step, with a checkpoint, as usual. An exception raised by a
    callback ends the run (checkpoints written so far stay). Callbacks must not change the
    model or draw from torch's global random generator (use a ``torch.Generator`` of your
    own, or ``torch.random.fork_rng``): a resumed run would then differ from an
    uninterrupted one.

    Example:
        >>> import tempfile
        >>> from bgdebias.training import PretrainCallback, PretrainConfig, pretrain
        >>> class Collect(PretrainCallback):
        ...     def __init__(self):
        ...         self.losses, self.checkpoints = {}, []
        ...     def on_log(self, step, metrics):
        ...         self.losses[step] = metrics["loss"]
        ...     def on_checkpoint(self, step, path):
        ...         self.checkpoints.append(path.name)
        >>> collect = Collect()
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     config = PretrainConfig(
        ...         steps=2, size=32, batch_size=4, synthetic_videos=8, queue_size=8,
        ...         hidden_dim=16, embed_dim=8, device="cpu", output_dir=folder, log_every=1,
        ...     )
        ...     _ = pretrain(config, progress=False, callbacks=[collect])
        >>> sorted(collect.losses), collect.checkpoints
        ([1, 2], ['checkpoint-00000002.pt'])
    """

    def on_train_start(self, run: PretrainRun) -> None:
        """The run is about to take its first step (``run.start_step + 1``)."""

    def on_step(self, step: int) -> None:
        """Optimisation step ``step`` (counted from 1) is done."""

    def on_log(self, step: int, metrics: Mapping[str, float]) -> None:
        """A row of ``log.csv``: ``metrics`` holds its values except ``step`` (read-only).

        Measurements taken only at some steps (``knn_top1``) are absent from the other rows.
        """

    def on_checkpoint(self, step: int, path: Path) -> None:
        """The checkpoint of step ``step`` is written at ``path``."""

    def on_train_end(self, result: PretrainResult) -> None:
        """The run returns ``result``."""


class CallbackList:
    """Calls every callback of a list in order; does nothing when ``enabled`` is false."""

    def __init__(self, callbacks: Iterable[PretrainCallback], *, enabled: bool) -> None:
        if isinstance(callbacks, PretrainCallback) or not isinstance(callbacks, Iterable):
            raise TypeError(
                "`callbacks` must be a list of PretrainCallback objects, got "
                f"{type(callbacks).__name__}"
            )
        given = list(callbacks)
        for index, callback in enumerate(given):
            if not isinstance(callback, PretrainCallback):
                raise TypeError(
                    f"`callbacks[{index}]` must be a PretrainCallback (subclass it), got "
                    f"{type(callback).__name__}"
                )
        self.callbacks = given if enabled else []

    def on_train_start(self, run: PretrainRun) -> None:
        for callback in self.callbacks:
            callback.on_train_start(run)

    def on_step(self, step: int) -> None:
        for callback in self.callbacks:
            callback.on_step(step)

    def on_log(self, row: Mapping[str, float]) -> None:
        step = int(row["step"])
        metrics = MappingProxyType({name: value for name, value in row.items() if name != "step"})
        for callback in self.callbacks:
            callback.on_log(step, metrics)

    def on_checkpoint(self, step: int, path: Path) -> None:
        for callback in self.callbacks:
            callback.on_checkpoint(step, path)

    def on_train_end(self, result: PretrainResult) -> None:
        for callback in self.callbacks:
            callback.on_train_end(result)
