"""See what each block does to a batch of clips: masks, factors, mixed clips, saliency.

Runs the decoupler, the mixer and the motion-aware decomposition on synthetic videos (or
on any (B, 3, T, H, W) float batch of your own) and writes one PNG strip and one GIF per
block and clip:

    python examples/inspect_blocks.py --output-dir runs/inspect
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from torch import nn

from bgdebias import MotionAwareDecomposition, SemiNegativePairMixer, StaticDynamicDecoupler
from bgdebias.data import MovingSpriteDataset
from bgdebias.viz import decoupler_panel, mixer_panel, saliency_panel


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--output-dir", default="runs/inspect", help="folder for the PNG strips and GIFs"
    )
    parser.add_argument(
        "--clips", type=int, default=3, help="synthetic clips to show (the mixer needs >= 2)"
    )
    args = parser.parse_args()
    if args.clips < 2:
        parser.error(f"--clips must be >= 2 (each clip needs a partner), got {args.clips}")
    out = Path(args.output_dir)
    generator = torch.Generator().manual_seed(0)

    clips = (
        MovingSpriteDataset(split="conflicting", length=args.clips).batch(range(args.clips)).clip
    )
    decoupler = StaticDynamicDecoupler(threshold="otsu", mask_mode="frame")
    decoupled = decoupler(clips)
    mixed = SemiNegativePairMixer(decoupler)(clips, decoupled=decoupled, generator=generator)
    # Any 3D CNN works; replicate padding keeps a static scene's features constant in time.
    features = nn.Conv3d(3, 16, 3, padding=1, padding_mode="replicate")(clips).relu()
    saliency = MotionAwareDecomposition()(features.detach())

    for index in range(args.clips):
        fraction = decoupled.mask[index].mean().item()
        print(
            f"clip {index}: foreground {100 * fraction:.1f}% of pixels, "
            f"mixed with clip {int(mixed.partner[index])}"
        )
        for name, panel in {
            "decoupler": decoupler_panel(clips, decoupled, index=index),
            "mixer": mixer_panel(clips, mixed, index),
            "saliency": saliency_panel(clips, saliency, index=index),
        }.items():
            panel.save_png(out / f"{name}-{index}.png")
            panel.save_gif(out / f"{name}-{index}.gif")
    print(f"wrote {len(list(out.glob('*.png')))} PNG strips and GIFs to {out}")


if __name__ == "__main__":
    main()
