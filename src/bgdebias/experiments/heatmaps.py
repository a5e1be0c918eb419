"""Heat maps of a pretrained encoder on synthetic videos: what every block sees."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import Tensor

from bgdebias._validation import check_choice
from bgdebias.blocks import MotionAwareDecomposition, SemiNegativePairMixer
from bgdebias.data.synthetic import SYNTHETIC_SPLITS, MovingSpriteDataset
from bgdebias.data.transforms import KINETICS_MEAN, KINETICS_STD, NormalizeClip
from bgdebias.training.config import PretrainConfig
from bgdebias.training.encoder import DebiasEncoder
from bgdebias.training.loading import load_pretrained_encoder
from bgdebias.training.recipe import build_mixer
from bgdebias.viz import (
    activation_norm_map,
    cam_panel,
    decoupler_panel,
    mixer_panel,
    saliency_panel,
)


def write_demo_heatmaps(
    checkpoint: str | os.PathLike[str],
    output_dir: str | os.PathLike[str],
    *,
    num_videos: int = 4,
    split: str = "conflicting",
) -> Path:
    """Heat maps of a checkpoint on the first videos of a synthetic test split.

    ``conflicting`` by default: the background belongs to another class, so a map that
    lights up the background is a map of the bias. See :func:`write_heatmaps`.
    """
    encoder, config = load_pretrained_encoder(checkpoint)
    data = MovingSpriteDataset(
        split=check_choice(split, "split", SYNTHETIC_SPLITS),
        length=num_videos,
        num_frames=config.num_frames or 8,
        size=config.size or 64,
        seed=config.seed,
        backgrounds=config.synthetic_backgrounds,
        actor=config.synthetic_actor,
    )
    return write_heatmaps(encoder, config, data.batch(range(num_videos)).clip, output_dir)


def write_heatmaps(
    encoder: DebiasEncoder,
    config: PretrainConfig,
    clips: Tensor,
    output_dir: str | os.PathLike[str],
) -> Path:
    """Write PNG strips and GIFs of the decoupler, mixer, salient map and activation map.

    The activation map is the channel-wise L2 norm of the encoder's stage features (a
    label-free class-activation map for an encoder without a classifier).

    Args:
        encoder: A pretrained encoder (:func:`~bgdebias.training.loading.load_pretrained_encoder`).
        config: Its run configuration (mask options of the decoupler).
        clips: Clips in [0, 1], at least two (the mixer needs a partner).
            Shape: ``(B, 3, T, H, W)``.
        output_dir: Folder for ``<kind>-<clip>.png`` and ``.gif`` files.

    Returns:
        ``output_dir``.
    """
    out = Path(output_dir)
    mixer: SemiNegativePairMixer = build_mixer(
        mask_mode=config.mask_mode, threshold=config.threshold, beta=config.beta, mix_prob=1.0
    )
    generator = torch.Generator().manual_seed(config.seed)
    decoupled = mixer.decoupler(clips, generator=generator)
    mixed = mixer(clips, decoupled=decoupled, generator=generator)
    normalized = NormalizeClip()(clips)
    with torch.no_grad():
        features = encoder.eval().backbone(normalized).features
        decomposition = (encoder.decomposition or MotionAwareDecomposition())(features)
    activation = activation_norm_map(features)
    for index in range(clips.shape[0]):
        panels = {
            "decoupler": decoupler_panel(clips, decoupled, index=index),
            "mixer": mixer_panel(clips, mixed, index),
            "saliency": saliency_panel(
                normalized, decomposition, index=index, mean=KINETICS_MEAN, std=KINETICS_STD
            ),
            "activation": cam_panel(
                normalized, activation, index=index, mean=KINETICS_MEAN, std=KINETICS_STD
            ),
        }
        for kind, panel in panels.items():
            panel.save_png(out / f"{kind}-{index}.png")
            panel.save_gif(out / f"{kind}-{index}.gif")
    return out
