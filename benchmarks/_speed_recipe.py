"""The recipe step of ``speed_benchmark.py``: full method against plain MoCo, and the parts
of the extra cost."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from _speed_settings import KEY_MOMENTUM, Settings, Shape
from _speed_timing import time_variants
from torch import Tensor

from bgdebias.data.functional import resize_side_for_crop
from bgdebias.models import normalise_with, record_batch_statistics
from bgdebias.training import (
    DebiasedMoCo,
    PretrainConfig,
    ResolvedPretrainConfig,
    TrainingState,
    build_recipe,
    train_step,
)
from bgdebias.training.recipe import random_frame
from bgdebias.training.views import ClipViewAugmentation


@contextlib.contextmanager
def autocast(device: torch.device) -> Iterator[None]:
    """bfloat16 autocast on CUDA, as the training loop uses by default; nothing on a CPU."""
    if device.type == "cuda":
        with torch.autocast("cuda", dtype=torch.bfloat16):
            yield
    else:
        yield


@dataclass
class TrainingSetup:
    """A recipe with its optimiser and one batch of views, ready to step.

    Attributes:
        state: The MoCo recipe (plain or debiased) with the training loop's optimiser and
            schedule.
        videos: The raw video batch the views were cut from. Shape: ``(B, 3, 2T, S', S')``.
        query_view: Shape: ``(B, 3, T, S, S)``.
        key_view: Shape: ``(B, 3, T, S, S)``.
        augmentation: The view augmentation of the training loop.
        generator: Random source of the mixer and the augmentation.
    """

    state: TrainingState[DebiasedMoCo]
    videos: Tensor
    query_view: Tensor
    key_view: Tensor
    augmentation: ClipViewAugmentation
    generator: torch.Generator

    @property
    def recipe(self) -> DebiasedMoCo:
        """The MoCo recipe."""
        return self.state.model

    def step(self) -> None:
        """One training step: forward, :func:`~bgdebias.training.train_step`, momentum update."""
        with autocast(self.query_view.device):
            out = self.recipe(self.query_view, self.key_view, generator=self.generator)
        train_step(self.state, out.total)
        self.recipe.update_key_encoder(KEY_MOMENTUM)

    def augment(self) -> tuple[Tensor, ...]:
        """Cut the two views from the video batch (the loop's augmentation)."""
        views: tuple[Tensor, ...] = self.augmentation(self.videos, self.generator)
        return views


#: A variant of ``full`` timed beside it: the motionless hard negatives encoded from one
#: frame each (``one_frame_still_keys=True``) instead of as whole clips in the key batch.
ONE_FRAME_STILL_KEYS = "full_one_frame_still_keys"


def recipe_config(method: str, backbone: str, batch: Shape) -> ResolvedPretrainConfig:
    """The resolved configuration of a method: synthetic defaults for small3d, the real-data
    defaults (queue 16384, SGD) for the torchvision backbones."""
    _, _, frames, size, _ = batch
    options: dict[str, Any] = (
        {} if backbone == "small3d" else {"queue_size": 16384, "optimizer": "sgd"}
    )
    if method == ONE_FRAME_STILL_KEYS:
        method, options["one_frame_still_keys"] = "full", True
    return PretrainConfig(
        method=method,  # type: ignore[arg-type]
        backbone=backbone,
        num_frames=frames,
        size=size,
        batch_size=batch[0],
        **options,
    ).resolved()


def build_training(method: str, backbone: str, batch: Shape, device: torch.device) -> TrainingSetup:
    """Build a recipe, its optimiser and a batch of views (same seed for every method)."""
    config = recipe_config(method, backbone, batch)
    torch.manual_seed(0)
    recipe = build_recipe(config).to(device).train()
    state = TrainingState.start(config, recipe, trainable=recipe.query_encoder)
    size, frames = batch[3], batch[2]
    side = resize_side_for_crop(size)  # the real-data pretraining datasets' square crop
    data = torch.Generator().manual_seed(1)
    videos = torch.rand(batch[0], batch[1], 2 * frames, side, side, generator=data).to(device)
    augmentation = ClipViewAugmentation(num_frames=frames, size=size)
    generator = torch.Generator().manual_seed(2)
    query_view, key_view = augmentation(videos, generator)
    return TrainingSetup(state, videos, query_view, key_view, augmentation, generator)


def bench_recipe(
    backbone: str,
    batch: Shape,
    methods: Sequence[str],
    settings: Settings,
    device: torch.device,
) -> dict[str, Any]:
    """Time the step of each method and the parts of the full method's extra cost."""
    setups = {method: build_training(method, backbone, batch, device) for method in methods}
    steps = time_variants(
        {method: setup.step for method, setup in setups.items()},
        passes=settings.step_passes,
        min_run_time=settings.min_run_time,
    )
    moco, full = setups["moco"], setups["full"]
    parts = time_variants(
        _extra_cost_parts(moco, full),
        passes=settings.part_passes,
        min_run_time=settings.min_run_time,
    )
    moco_s, full_s = steps["moco"]["median_s"], steps["full"]["median_s"]
    extra_keys = (
        parts["key_encoder_2B_moving"]["median_s"]
        + parts["key_encoder_2B_still_whole_clips"]["median_s"]
        - parts["key_encoder_B"]["median_s"]
    )
    mixer = parts["mixer_and_key_batch"]["median_s"]
    micro = parts["micro_query_fwd_bwd"]["median_s"] + parts["micro_key_fwd_2B"]["median_s"]
    extra = full_s - moco_s
    result: dict[str, Any] = {
        "backbone": backbone,
        "batch": list(batch),
        "steps": steps,
        "time_ratio_full_vs_moco": full_s / moco_s,
        "time_ratio_per_pass": [
            f / m
            for f, m in zip(
                steps["full"]["pass_medians_s"], steps["moco"]["pass_medians_s"], strict=True
            )
        ],
        "parts": parts,
        "extra_cost_s": {
            "total": extra,
            "extra_key_encoder_passes": extra_keys,
            "decoupler_mixer_key_batch": mixer,
            "micro_branch": micro,
            "unattributed": extra - extra_keys - mixer - micro,
        },
    }
    previous = "moco"
    ladder: dict[str, float] = {}
    for method in methods:
        if method != "moco":
            ladder[f"{previous}->{method}"] = (
                steps[method]["median_s"] - steps[previous]["median_s"]
            )
            previous = method
    result["method_ladder_increments_s"] = ladder
    if ONE_FRAME_STILL_KEYS in steps:
        result["time_ratio_one_frame_still_keys_vs_moco"] = (
            steps[ONE_FRAME_STILL_KEYS]["median_s"] / moco_s
        )
    return result


def _extra_cost_parts(moco: TrainingSetup, full: TrainingSetup) -> dict[str, Callable[[], object]]:
    """Callables for the parts of the full method's step that plain MoCo does not run.

    The key pass in its parts: ``[k, mixed]`` as one batch, and the two motionless hard
    negatives (background, frozen frame) as whole clips (the default) and from one frame
    each, normalised with that batch's statistics (``one_frame_still_keys``). The key
    encoder is plain MoCo's (no micro branch), whose cost the micro parts add.
    """
    mixer = full.recipe.mixer
    if mixer is None:
        raise ValueError("the full method's recipe has no mixer")
    query, key, generator = full.query_view, full.key_view, full.generator
    device = query.device

    def key_batch() -> tuple[Tensor, Tensor]:
        mixed = mixer(query, generator=generator)
        frozen = random_frame(query, generator=generator)
        still = torch.cat([mixed.background[:, :, :1], frozen])
        return torch.cat([key, mixed.mixed]), still

    def decoupler() -> object:
        return mixer.decoupler(query, generator=generator)

    moving, still = key_batch()
    whole_still = still.expand(-1, -1, query.shape[2], -1, -1).contiguous()
    encoder, key_encoder = full.recipe.query_encoder, full.recipe.key_encoder
    moco_key_encoder = moco.recipe.key_encoder
    decomposition, micro_head = encoder.decomposition, encoder.micro_head
    key_decomposition, key_micro_head = key_encoder.decomposition, key_encoder.micro_head
    if None in (decomposition, micro_head, key_decomposition, key_micro_head):
        raise ValueError("the full method's encoder has no micro branch")
    with torch.no_grad(), autocast(device):
        query_features = encoder.backbone(query).features.detach().float()
        key_features = key_encoder.backbone(moving).features.float()
        with record_batch_statistics(moco_key_encoder) as statistics:
            moco_key_encoder(moving)
    query_features.requires_grad_(True)

    def micro_query() -> None:
        with autocast(device):
            micro = micro_head(decomposition(query_features).dynamic)  # type: ignore[misc]
        micro.float().sum().backward()

    @torch.no_grad()
    def micro_key() -> object:
        with autocast(device):
            return key_micro_head(key_decomposition(key_features).dynamic)  # type: ignore[misc]

    @torch.no_grad()
    def moco_keys(clips: Tensor) -> object:
        with autocast(device):
            return moco_key_encoder(clips)

    @torch.no_grad()
    def still_keys() -> object:
        with autocast(device), normalise_with(moco_key_encoder, statistics):
            return moco_key_encoder.encode_still(still)

    return {
        "augmentation_two_views": full.augment,
        "decoupler": decoupler,
        "mixer_and_key_batch": key_batch,
        "key_encoder_B": lambda: moco_keys(key),
        "key_encoder_2B_moving": lambda: moco_keys(moving),
        "key_encoder_2B_still_one_frame": still_keys,
        "key_encoder_2B_still_whole_clips": lambda: moco_keys(whole_still),
        "micro_query_fwd_bwd": micro_query,
        "micro_key_fwd_2B": micro_key,
    }
