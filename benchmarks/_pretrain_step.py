"""One pretraining step and the pretraining data loader, built as ``pretrain`` builds them.

``bgdebias.training.pretrain`` keeps its step inside the loop; :class:`PretrainStep` makes
the same calls in the same order (``build_recipe``, ``build_optimizer``,
``view_augmentation``; FAME merges before the colour augmentation; bf16 autocast on CUDA;
forward, ``zero_grad``, backward, optimiser step, momentum update of the key encoder), and
adds the two switches the throughput benchmark compares: ``channels_last_3d`` and
``torch.compile`` of the query and key encoders. The learning-rate schedule is left out
(it changes no cost). Keep this file in step with ``src/bgdebias/training/loop.py``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader

from bgdebias.moco import cosine_momentum
from bgdebias.training import DebiasedMoCo, PretrainConfig, build_recipe
from bgdebias.training.config import require
from bgdebias.training.data import build_pretrain_dataset, collate_videos
from bgdebias.training.distributed import DistributedContext
from bgdebias.training.loop import StepBatchSampler, build_optimizer
from bgdebias.training.views import ClipViewAugmentation, view_augmentation


@dataclass
class PretrainStep:
    """A recipe, its optimiser and augmentation, ready to train on batches of videos.

    Build it with :meth:`build`; call it with a batch as the pretraining data loader
    yields it.

    Attributes:
        config: The resolved configuration.
        recipe: The method's model (plain MoCo, FAME or the debiased recipe).
        optimizer: The query encoder's optimiser.
        augment: The loop's view augmentation.
        device: Where the step runs.
        channels_last: Whether the convolutions and the batch use ``channels_last_3d``.
        generator: Random source of the views and the mixer.
        steps_done: Steps run so far (drives the key encoder's momentum schedule).
    """

    config: PretrainConfig
    recipe: DebiasedMoCo
    optimizer: torch.optim.Optimizer
    augment: ClipViewAugmentation
    device: torch.device
    channels_last: bool
    generator: torch.Generator
    steps_done: int = 0

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
            channels_last: Convert every ``Conv3d`` weight (and each batch) to
                ``channels_last_3d``.
            compile_backend: ``torch.compile`` the query and key encoders with this backend
                (``"inductor"``, ``"eager"``, ...); ``None`` keeps eager mode.
            total_steps: Length of the momentum schedule.

        Returns:
            The step, with its recipe in training mode.
        """
        config = dataclasses.replace(config, steps=total_steps).resolved()
        torch.manual_seed(config.seed)
        recipe = build_recipe(config).to(device).train()
        if channels_last:
            for module in recipe.modules():
                if isinstance(module, nn.Conv3d):
                    module.to(memory_format=torch.channels_last_3d)
        if compile_backend is not None:
            # The query encoder runs through the recipe's alias of the same module object,
            # so compiling the module in place covers it.
            recipe.query_encoder.compile(backend=compile_backend, dynamic=False)
            recipe.key_encoder.compile(backend=compile_backend, dynamic=False)
        optimizer = build_optimizer(config, recipe.query_encoder)
        generator = torch.Generator().manual_seed(config.seed * 1000 + 1)
        return cls(
            config,
            recipe,
            optimizer,
            view_augmentation(config),
            device,
            channels_last,
            generator,
        )

    def __call__(self, batch: Tensor) -> Tensor:
        """One training step on a batch of videos.

        Args:
            batch: Videos as :func:`~bgdebias.training.data.collate_videos` gives them,
                on the host (pinned for an asynchronous copy) or on the device. Shape:
                ``(B, 3, 2T, S', S')``.

        Returns:
            The step's loss (still on the device; reading it synchronises).
        """
        config = self.config
        videos = batch.to(self.device, non_blocking=True)
        if self.channels_last:
            videos = videos.contiguous(memory_format=torch.channels_last_3d)
        mix_raw = config.mix_colours == "raw" or config.method == "fame"
        if mix_raw:
            query_view, key_view = self.augment.geometric(videos, self.generator)
        else:
            query_view, key_view = self.augment(videos, self.generator)
        with self._autocast():
            out = self.recipe(
                query_view,
                key_view,
                generator=self.generator,
                photometric=self.augment.photometric if mix_raw else None,
            )
        self.optimizer.zero_grad(set_to_none=True)
        out.total.backward()
        self.optimizer.step()
        momentum = cosine_momentum(
            self.steps_done, config.steps, base=require(config.momentum, "momentum")
        )
        self.recipe.update_key_encoder(momentum)
        self.steps_done += 1
        loss: Tensor = out.total.detach()
        return loss

    def _autocast(self) -> AbstractContextManager[Any]:
        if self.config.amp and self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return nullcontext()


def pretrain_loader(
    config: PretrainConfig, *, steps: int, pin_memory: bool, seed: int = 0
) -> DataLoader[Any]:
    """The loop's data loader over the configuration's dataset, for ``steps`` batches.

    Same dataset (:func:`~bgdebias.training.data.build_pretrain_dataset`), batch sampler,
    collate function and worker count (``config.num_workers``) as ``pretrain``.

    Args:
        config: The configuration (resolved here).
        steps: Number of batches the loader yields.
        pin_memory: Pin batches for asynchronous copies (the loop pins on CUDA).
        seed: Seed of the batch order.

    Returns:
        The loader; each batch is ``(B, 3, 2T, S', S')`` float.
    """
    config = config.resolved()
    dataset = build_pretrain_dataset(config)
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

    ``collate_fn`` replaces the loop's :func:`~bgdebias.training.data.collate_videos`
    (to time it, say).
    """
    sampler = StepBatchSampler(
        len(dataset),
        require(config.batch_size, "batch_size"),
        seed=seed,
        start_step=0,
        steps=steps,
        context=DistributedContext(),
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

    ``S' = round(8 / 7 * size)``: :func:`~bgdebias.training.data.build_pretrain_dataset`
    centre-crops real videos to that square; the views then crop ``size`` inside it.

    Example:
        >>> batch_shape(PretrainConfig(dataset="folder", root=".", batch_size=64))
        (64, 3, 32, 128, 128)
    """
    config = config.resolved()
    side = round(require(config.size, "size") * 8 / 7)
    frames = 2 * require(config.num_frames, "num_frames")
    return (require(config.batch_size, "batch_size"), 3, frames, side, side)


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
