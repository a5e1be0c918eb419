"""The pretraining step and data loader of ``pretrain``, with the benchmarks' switches.

:class:`PretrainStep` runs the library's own step (:class:`bgdebias.training.PretrainStep`:
views, bf16 autocast on CUDA, forward, :func:`~bgdebias.training.train_step`, momentum
update of the key encoder) and adds the two switches the throughput benchmark compares:
``channels_last_3d`` and ``torch.compile`` of the query and key encoders.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import DataLoader

from bgdebias import training
from bgdebias.data.functional import resize_side_for_crop
from bgdebias.training import (
    DebiasedMoCo,
    PretrainConfig,
    StepBatchSampler,
    build_pretrain_dataset,
    collate_videos,
)


@dataclass
class PretrainStep:
    """The library's pretraining step, optionally in ``channels_last_3d`` and compiled.

    Build it with :meth:`build`; call it with a batch as the pretraining data loader
    yields it.

    Attributes:
        step: The library's step (recipe, optimiser, schedule, augmentation, generators).
        channels_last: Whether the convolutions and the batch use ``channels_last_3d``.
    """

    step: training.PretrainStep
    channels_last: bool

    @classmethod
    def build(
        cls,
        config: PretrainConfig,
        device: torch.device,
        *,
        channels_last: bool = False,
        compile_backend: str | None = None,
        total_steps: int = 1000,
    ) -> PretrainStep:
        """Build the step of a configuration.

        Args:
            config: The configuration (resolved here).
            device: Where to put the model.
            channels_last: Store every ``Conv3d`` weight as ``channels_last_3d`` (the
                configuration's ``channels_last``) and convert each batch too.
            compile_backend: ``torch.compile`` the query and key encoders with this backend
                (``"inductor"``, ``"eager"``, ...); ``None`` keeps eager mode.
            total_steps: Length of the momentum and learning-rate schedules.

        Returns:
            The step, with its recipe in training mode.
        """
        resolved = dataclasses.replace(
            config, steps=total_steps, channels_last=channels_last
        ).resolved()
        step = training.PretrainStep.build(resolved, device)
        recipe = step.recipe.train()
        if compile_backend is not None:
            # The query encoder runs through the recipe's alias of the same module object,
            # so compiling the module in place covers it.
            recipe.query_encoder.compile(backend=compile_backend, dynamic=False)
            recipe.key_encoder.compile(backend=compile_backend, dynamic=False)
        return cls(step, channels_last)

    @property
    def recipe(self) -> DebiasedMoCo:
        """The trained recipe."""
        return self.step.recipe

    @property
    def steps_done(self) -> int:
        """Steps run so far."""
        return self.step.state.step

    def __call__(self, batch: Tensor) -> Tensor:
        """One training step on a batch of videos.

        Args:
            batch: Videos as :func:`~bgdebias.training.collate_videos` gives them, on the
                host (pinned for an asynchronous copy) or on the device. Shape:
                ``(B, 3, 2T, S', S')``.

        Returns:
            The step's loss (still on the device; reading it synchronises).
        """
        videos = batch.to(self.step.device, non_blocking=True)
        if self.channels_last:
            videos = videos.contiguous(memory_format=torch.channels_last_3d)
        loss: Tensor = self.step(videos).total.detach()
        return loss


def pretrain_loader(
    config: PretrainConfig, *, steps: int, pin_memory: bool, seed: int = 0
) -> DataLoader[Any]:
    """The loop's data loader over the configuration's dataset, for ``steps`` batches.

    Same dataset (:func:`~bgdebias.training.build_pretrain_dataset`), batch sampler,
    collate function and worker count (``config.num_workers``) as ``pretrain``.

    Args:
        config: The configuration (resolved here).
        steps: Number of batches the loader yields.
        pin_memory: Pin batches for asynchronous copies (the loop pins on CUDA).
        seed: Seed of the batch order.

    Returns:
        The loader; each batch is ``(B, 3, 2T, S', S')`` float.
    """
    dataset = build_pretrain_dataset(config.resolved())
    return loader_over(dataset, config, steps=steps, pin_memory=pin_memory, seed=seed)


def loader_over(
    dataset: Any,
    config: PretrainConfig,
    *,
    steps: int,
    pin_memory: bool,
    seed: int = 0,
    collate_fn: Callable[[Sequence[Any]], Tensor] = collate_videos,
) -> DataLoader[Any]:
    """:func:`pretrain_loader` over an already built dataset (indexing it once).

    ``collate_fn`` replaces the loop's :func:`~bgdebias.training.collate_videos`
    (to time it, say).
    """
    sampler = StepBatchSampler(
        len(dataset), config.resolved().batch_size, seed=seed, start_step=0, steps=steps
    )
    return DataLoader(
        dataset,
        batch_sampler=sampler,
        num_workers=config.num_workers,
        collate_fn=collate_fn,
        pin_memory=pin_memory,
        persistent_workers=False,
    )


def batch_shape(config: PretrainConfig) -> tuple[int, int, int, int, int]:
    """Shape of the pretraining loader's batches: ``(B, 3, 2T, S', S')``.

    ``S' = round(8 / 7 * size)``: :func:`~bgdebias.training.build_pretrain_dataset`
    centre-crops real videos to that square; the views then crop ``size`` inside it.

    Example:
        >>> batch_shape(PretrainConfig(dataset="folder", root=".", batch_size=64))
        (64, 3, 32, 128, 128)
    """
    resolved = config.resolved()
    side = resize_side_for_crop(resolved.size)
    return (resolved.batch_size, 3, 2 * resolved.num_frames, side, side)


def in_memory_batch(config: PretrainConfig, *, pin_memory: bool, seed: int = 0) -> Tensor:
    """Random videos of the shape the pretraining loader yields (:func:`batch_shape`).

    Args:
        config: The configuration whose batches to imitate.
        pin_memory: Pin the batch (for asynchronous copies to a GPU).
        seed: Random source of the values.

    Returns:
        A float batch in [0, 1] in host memory.
    """
    generator = torch.Generator().manual_seed(seed)
    batch = torch.rand(batch_shape(config), generator=generator)
    return batch.pin_memory() if pin_memory else batch
