"""What a training run changes as it goes, saved in and restored from its checkpoints."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import torch
from torch import nn

from bgdebias.training.checkpoint import (
    CheckpointError,
    ReadableCheckpoint,
    checkpoint_path,
    model_state,
    save_checkpoint,
)
from bgdebias.training.config import ResolvedPretrainConfig, architecture_mismatch
from bgdebias.training.distributed import DistributedContext
from bgdebias.training.optim import build_optimizer, cosine_schedule

ModelT = TypeVar("ModelT", bound=nn.Module)

#: What a checkpoint needs besides the step and the weights to continue a run exactly.
RESUME_ENTRIES = (
    "config",
    "optimizer",
    "scheduler",
    "generator",
    "shuffle_generator",
    "torch_rng",
)


@dataclass
class TrainingState(Generic[ModelT]):
    """The model, its optimiser and schedule, the run's random sources and its step.

    A checkpoint holds all of it (and torch's global random state), so a run restored
    from one continues exactly as if it had not stopped.

    Attributes:
        model: The trained module (for pretraining, the whole recipe: both encoders and
            the queues).
        optimizer: The optimiser of the trainable part of ``model``.
        scheduler: The learning-rate schedule, stepped once per step.
        generator: Random source of the views and the mixer.
        shuffle_generator: Random source of the key shuffle across processes.
        step: Steps taken so far.

    Example:
        >>> import tempfile
        >>> import torch
        >>> from bgdebias.training import PretrainConfig, TrainingState
        >>> from bgdebias.training.checkpoint import ReadableCheckpoint, load_checkpoint
        >>> config = PretrainConfig(steps=10).resolved()
        >>> state = TrainingState.start(config, torch.nn.Linear(4, 2))
        >>> state.step = 3
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = state.save(folder, config)
        ...     again = TrainingState.start(config, torch.nn.Linear(4, 2))
        ...     again.restore(ReadableCheckpoint(path, load_checkpoint(path), skipped=()), config)
        >>> again.step, torch.equal(again.model.weight, state.model.weight)
        (3, True)
    """

    model: ModelT
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    generator: torch.Generator
    shuffle_generator: torch.Generator
    step: int = 0

    @classmethod
    def start(
        cls,
        config: ResolvedPretrainConfig,
        model: ModelT,
        *,
        trainable: nn.Module | None = None,
        rank: int = 0,
    ) -> TrainingState[ModelT]:
        """The state at step 0: the configuration's optimiser and schedule, seeded sources.

        Args:
            config: The run's resolved configuration (optimiser, learning rate, warm-up,
                steps, seed).
            model: The module to train.
            trainable: The part of ``model`` the optimiser updates (default: all of it;
                pretraining: the query encoder, the key encoder follows by momentum).
            rank: This process's rank: each process draws its own views.

        Returns:
            The state; torch's global random state is left untouched.
        """
        optimizer = build_optimizer(config, model if trainable is None else trainable)
        return cls(
            model=model,
            optimizer=optimizer,
            scheduler=cosine_schedule(
                optimizer, steps=config.steps, warmup_steps=config.warmup_steps
            ),
            generator=torch.Generator().manual_seed(config.seed * 1000 + rank + 1),
            shuffle_generator=torch.Generator().manual_seed(config.seed + 7919),
        )

    def checkpoint(self, config: ResolvedPretrainConfig) -> dict[str, Any]:
        """The checkpoint's contents: ``step``, ``config``, ``model`` and the resume entries."""
        return {
            "step": self.step,
            "config": config.to_dict(),
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "generator": self.generator.get_state(),
            "shuffle_generator": self.shuffle_generator.get_state(),
            "torch_rng": torch.get_rng_state(),
        }

    def save(
        self,
        folder: str | Path,
        config: ResolvedPretrainConfig,
        *,
        keep: int = 2,
        context: DistributedContext | None = None,
    ) -> Path:
        """Write the checkpoint of this step (main process only) and keep the last ``keep``.

        Args:
            folder: The run folder.
            config: The run's configuration, stored beside the weights.
            keep: How many checkpoints to keep.
            context: The process's place in a distributed run: the main process writes,
                every process waits until it has.

        Returns:
            The checkpoint's path.
        """
        context = context or DistributedContext()
        if not context.is_main:
            if context.is_distributed:
                torch.distributed.barrier()
            return checkpoint_path(folder, self.step)
        path = save_checkpoint(self.checkpoint(config), folder, self.step, keep=keep)
        if context.is_distributed:
            torch.distributed.barrier()
        return path

    def restore(self, checkpoint: ReadableCheckpoint, config: ResolvedPretrainConfig) -> None:
        """Continue from ``checkpoint``: weights, optimiser, schedule, random state, step.

        Args:
            checkpoint: A checkpoint of a run of the same architecture.
            config: The configuration of the continuing run.

        Raises:
            CheckpointError: If the checkpoint lacks an entry needed to resume, or was made
                with another architecture (:data:`~bgdebias.training.config.ARCHITECTURE_FIELDS`).
        """
        path, state = checkpoint.path, checkpoint.state
        missing = [key for key in RESUME_ENTRIES if key not in state]
        if missing:
            raise CheckpointError(
                f"checkpoint {path} cannot resume a run: it has no {missing} entries"
            )
        mismatches = architecture_mismatch(state["config"], config)
        if mismatches:
            raise CheckpointError(
                f"checkpoint {path} was made with another configuration: " + "; ".join(mismatches)
            )
        self.model.load_state_dict(model_state(state, path))
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.generator.set_state(state["generator"])
        self.shuffle_generator.set_state(state["shuffle_generator"])
        torch.set_rng_state(state["torch_rng"])
        self.step = int(state["step"])
