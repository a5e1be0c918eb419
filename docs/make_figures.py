"""Render the figures of the documentation with the library itself.

Every figure is a :mod:`bgdebias.viz` panel of synthetic clips from
:class:`bgdebias.data.synthetic.MovingSpriteDataset` (a sprite whose motion is the class, on a
procedural background texture). Everything is seeded, so the figures are reproducible::

    python docs/make_figures.py                      # writes docs/_static/figures/*.png
    python docs/make_figures.py --output-dir /tmp/f  # anywhere else

Figures:

- ``decoupler_default.png``: :class:`~bgdebias.StaticDynamicDecoupler` with its defaults
  (one mask per clip, top 50% of the blurred motion energy, temporal median).
- ``decoupler_otsu_frame.png``: the same clip with ``threshold="otsu"`` and
  ``mask_mode="frame"`` (an adaptive threshold, one mask per frame).
- ``mixer.png``: :class:`~bgdebias.SemiNegativePairMixer` with that Otsu per-frame
  decoupler: a clip, its partner, the mixed clip (the clip's sprite on the partner's static
  background) and the background hard negative (the clip's own static scene).
- ``saliency.png``: :class:`~bgdebias.MotionAwareDecomposition` on the features of a small
  randomly initialised (untrained) 3D conv net with replicate padding: the salient map and
  the per-step maps.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from torch import Tensor, nn

from bgdebias import (
    MotionAwareDecomposition,
    SemiNegativePairMixer,
    StaticDynamicDecoupler,
)
from bgdebias.data.synthetic import MovingSpriteDataset
from bgdebias.viz import decoupler_panel, mixer_panel, saliency_panel

SEED = 0
#: Videos shown: MoveRight (0) and CircleClockwise (4) of the "aligned" test split, plus
#: two more clips so that the mixer has partners to choose from.
VIDEO_INDICES = (0, 4, 2, 7)
SIZE = 96
FRAMES = 8
FIGURES = ("decoupler_default.png", "decoupler_otsu_frame.png", "mixer.png", "saliency.png")


def synthetic_clips() -> Tensor:
    """Four synthetic clips, RGB in [0, 1]. Shape: ``(4, 3, 8, 96, 96)``."""
    data = MovingSpriteDataset(split="aligned", length=16, num_frames=FRAMES, size=SIZE, seed=SEED)
    clips: Tensor = data.batch(VIDEO_INDICES).clip
    return clips


def random_feature_net() -> nn.Module:
    """A small, randomly initialised 3D conv net with replicate padding (no training).

    Replicate padding keeps a static scene's features equal at the first and last frames;
    zero padding would make the clip's borders in time look like motion.
    """
    torch.manual_seed(SEED)
    return nn.Sequential(
        nn.Conv3d(3, 16, kernel_size=3, padding=1, padding_mode="replicate"),
        nn.ReLU(),
        nn.Conv3d(16, 32, kernel_size=3, stride=(1, 2, 2), padding=1, padding_mode="replicate"),
        nn.ReLU(),
    ).eval()


def make_figures(output_dir: Path) -> list[Path]:
    """Write every figure into ``output_dir`` and return their paths."""
    output_dir.mkdir(parents=True, exist_ok=True)
    clips = synthetic_clips()
    written: list[Path] = []

    defaults = StaticDynamicDecoupler()
    panel = decoupler_panel(clips, defaults(clips), index=0)
    written.append(panel.save_png(output_dir / "decoupler_default.png"))

    adaptive = StaticDynamicDecoupler(threshold="otsu", mask_mode="frame")
    panel = decoupler_panel(clips, adaptive(clips), index=0)
    written.append(panel.save_png(output_dir / "decoupler_otsu_frame.png"))

    mixer = SemiNegativePairMixer(adaptive)
    mixed = mixer(clips, generator=torch.Generator().manual_seed(SEED))
    panel = mixer_panel(clips, mixed, index=0)
    written.append(panel.save_png(output_dir / "mixer.png"))

    net = random_feature_net()
    with torch.no_grad():
        features = net(clips)
    decomposition = MotionAwareDecomposition()(features)
    panel = saliency_panel(clips, decomposition, index=1)
    written.append(panel.save_png(output_dir / "saliency.png"))
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=Path(__file__).parent / "_static" / "figures",
        help="where the PNG files go (default: docs/_static/figures)",
    )
    args = parser.parse_args()
    for path in make_figures(args.output_dir):
        print(f"{path} ({path.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
