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
from bgdebias.data.synthetic.photos import (
    PHOTO_FAMILIES,
    load_photo,
    photo_folder,
    render_photo_background,
)
from bgdebias.data.synthetic.sprite import actor_colour, actor_texture, render_sprite

__all__ = [
    "BACKGROUND_FAMILIES",
    "MOTION_CLASSES",
    "PHOTO_FAMILIES",
    "SYNTHETIC_SPLITS",
    "MovingSpriteDataset",
    "MovingSpriteSample",
    "MovingSpriteVideo",
    "SyntheticSplit",
    "Trajectory",
    "actor_colour",
    "actor_texture",
    "export_ucf101_layout",
    "load_photo",
    "photo_folder",
    "render_background",
    "render_photo_background",
    "render_sprite",
    "sprite_trajectory",
    "ucf101_video_name",
    "video_seed",
]
