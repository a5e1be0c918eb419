"""Synthetic background-bias videos: sprite motion is the class, background texture the bias."""

from bgdebias.data.synthetic.backgrounds import BACKGROUND_FAMILIES, render_background
from bgdebias.data.synthetic.dataset import (
    SYNTHETIC_SPLITS,
    MovingSpriteDataset,
    MovingSpriteSample,
    MovingSpriteVideo,
    SyntheticSplit,
    video_seed,
)
from bgdebias.data.synthetic.export import export_ucf101_layout, ucf101_video_name
from bgdebias.data.synthetic.motions import MOTION_CLASSES, Trajectory, sprite_trajectory
from bgdebias.data.synthetic.sprite import render_sprite

__all__ = [
    "BACKGROUND_FAMILIES",
    "MOTION_CLASSES",
    "SYNTHETIC_SPLITS",
    "MovingSpriteDataset",
    "MovingSpriteSample",
    "MovingSpriteVideo",
    "SyntheticSplit",
    "Trajectory",
    "export_ucf101_layout",
    "render_background",
    "render_sprite",
    "sprite_trajectory",
    "ucf101_video_name",
    "video_seed",
]
