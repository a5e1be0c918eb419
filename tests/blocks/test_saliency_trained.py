"""The micro term's salient map, read off a TRAINED encoder, lies on the moving actor."""

from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F

from bgdebias.blocks import MotionAwareDecomposition
from bgdebias.data.synthetic import MovingSpriteDataset
from bgdebias.training import PretrainConfig
from bgdebias.training.supervised import train_supervised


def test_saliency_of_a_trained_small3d_is_on_the_actor_trail() -> None:
    config = PretrainConfig(
        size=32, batch_size=16, steps=60, device="cpu", jitter_p=0.0, seed=0
    ).resolved()
    data = MovingSpriteDataset(split="independent", length=256, num_frames=12, size=32, seed=5)
    torch.manual_seed(0)
    backbone = train_supervised(data, dataclasses.replace(config), num_classes=8)
    test = MovingSpriteDataset(split="conflicting", length=32, size=32, seed=9)
    clips = test.batch(range(32)).clip
    normalised = (clips - 0.45) / 0.225
    with torch.no_grad():
        features = backbone(normalised).features  # layer3: (B, C, 4, 4, 4)
        saliency = MotionAwareDecomposition()(features).saliency[:, 0]  # (B, 4, 4)
    trail = torch.stack([test.render(i).sprite_mask.any(dim=0) for i in range(32)]).float()
    on_trail = F.adaptive_max_pool2d(trail[:, None], saliency.shape[-2:])[:, 0] > 0
    on = saliency[on_trail].mean()
    off = saliency[~on_trail].mean()
    assert on > 1.5 * off, (on.item(), off.item())
    frozen = MovingSpriteDataset(split="static", length=8, size=32, seed=9).batch(range(8)).clip
    with torch.no_grad():
        still = MotionAwareDecomposition()(backbone((frozen - 0.45) / 0.225).features)
    assert still.saliency.abs().max().item() == 0.0  # replicate padding: nothing moves
