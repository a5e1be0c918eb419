"""The training step: the one optimisation step of every training run, and the
pretraining step built on it."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from bgdebias.losses import DualBackgroundLossOutput
from bgdebias.moco import cosine_momentum
from bgdebias.training.config import ResolvedPretrainConfig
from bgdebias.training.memory_format import convolutions_to_channels_last
from bgdebias.training.recipe import DebiasedMoCo, build_recipe
from bgdebias.training.state import TrainingState
from bgdebias.training.views import ClipViewAugmentation, view_augmentation


def train_step(state: TrainingState[Any], loss: Tensor) -> None:
    """One optimisation step on ``loss``: the step every training run of the package takes.

    Clears the gradients, back-propagates ``loss``, steps the optimiser and the
    learning-rate schedule, and counts the step in ``state.step``.

    Args:
        state: The run's state (its optimiser and schedule are stepped).
        loss: The step's loss. Shape: ``()``.

    Example:
        >>> import torch
        >>> from bgdebias.training import PretrainConfig, TrainingState, train_step
        >>> model = torch.nn.Linear(3, 1)
        >>> state = TrainingState.start(PretrainConfig(steps=5).resolved(), model)
        >>> before = model.weight.detach().clone()
        >>> train_step(state, model(torch.ones(2, 3)).square().mean())
        >>> state.step, torch.equal(before, model.weight)
        (1, False)
    """
    state.optimizer.zero_grad(set_to_none=True)
    loss.backward()  # type: ignore[no-untyped-call]
    state.optimizer.step()
    state.scheduler.step()
    state.step += 1


@dataclass
class PretrainStep:
    """One step of :func:`~bgdebias.training.pretrain` on a batch of videos.

    Cuts the two views (the geometric part only when the recipe mixes raw clips: FAME, or
    ``mix_colours="raw"``), runs the recipe under bf16 autocast on CUDA (with ``amp``),
    takes :func:`train_step` on its loss, then moves the key encoder towards the query
    encoder with the momentum of the cosine schedule.

    Attributes:
        config: The run's resolved configuration.
        state: The run's state; ``state.model`` is the recipe.
        augment: The view augmentation of ``config``.
        device: Where the recipe is.
        shuffle_keys: Shuffle the keys across processes (MoCo's shuffle-BN).
        momentum: The key encoder's momentum of the last step.

    Example:
        >>> import torch
        >>> from bgdebias.training import PretrainConfig, PretrainStep
        >>> config = PretrainConfig(
        ...     method="moco", size=32, batch_size=4, queue_size=8, hidden_dim=16, embed_dim=8
        ... ).resolved()
        >>> step = PretrainStep.build(config, torch.device("cpu"))
        >>> videos = torch.rand(4, 3, 2 * config.num_frames, 37, 37)  # (B, 3, 2T, S', S')
        >>> out = step(videos)
        >>> out.total.shape, step.state.step
        (torch.Size([]), 1)
    """

    config: ResolvedPretrainConfig
    state: TrainingState[DebiasedMoCo]
    augment: ClipViewAugmentation
    device: torch.device
    shuffle_keys: bool = False
    momentum: float = field(default=0.0, init=False)

    @classmethod
    def build(
        cls,
        config: ResolvedPretrainConfig,
        device: torch.device,
        *,
        rank: int = 0,
        shuffle_keys: bool = False,
    ) -> PretrainStep:
        """Seed torch with ``config.seed``, build the recipe on ``device`` and its state.

        With ``config.channels_last`` the recipe's 3D convolutions are stored channels-last
        (:func:`~bgdebias.training.convolutions_to_channels_last`).

        Args:
            config: The run's resolved configuration.
            device: Where the recipe runs.
            rank: This process's rank (each draws its own views).
            shuffle_keys: Shuffle the keys across processes.

        Returns:
            The step at step 0, its recipe in training mode.
        """
        torch.manual_seed(config.seed)
        recipe = build_recipe(config).to(device)
        if config.channels_last:
            convolutions_to_channels_last(recipe)
        state = TrainingState.start(config, recipe, trainable=recipe.query_encoder, rank=rank)
        return cls(config, state, view_augmentation(config), device, shuffle_keys)

    @property
    def recipe(self) -> DebiasedMoCo:
        """The trained recipe (``state.model``)."""
        return self.state.model

    def __call__(self, batch: Tensor) -> DualBackgroundLossOutput:
        """Train on one batch.

        Args:
            batch: Videos as the pretraining loader yields them, each holding both views'
                frames, on the host or on ``device``. Shape: ``(B, 3, 2T, S', S')``.

        Returns:
            The step's loss terms (on the device; reading them synchronises).
        """
        config, state = self.config, self.state
        videos = batch.to(self.device, non_blocking=True)
        # FAME merges before the colour augmentation, whatever `mix_colours` says.
        mix_raw = config.mix_colours == "raw" or config.method == "fame"
        if mix_raw:
            query_view, key_view = self.augment.geometric(videos, state.generator)
        else:
            query_view, key_view = self.augment(videos, state.generator)
        with self._autocast():
            out: DualBackgroundLossOutput = state.model(
                query_view,
                key_view,
                generator=state.generator,
                shuffle_generator=state.shuffle_generator if self.shuffle_keys else None,
                photometric=self.augment.photometric if mix_raw else None,
            )
        self.momentum = cosine_momentum(state.step, config.steps, base=config.momentum)
        train_step(state, out.total)
        state.model.update_key_encoder(self.momentum)
        return out

    def _autocast(self) -> AbstractContextManager[Any]:
        if self.config.amp and self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return nullcontext()
