"""Visualisation: heat-map overlays, class-activation maps, PNG strips, GIFs and panels.

Needs only NumPy, Pillow (installed with torchvision) and torch.

Example:
    >>> import torch
    >>> from bgdebias import StaticDynamicDecoupler
    >>> from bgdebias.viz import decoupler_panel, overlay
    >>> clip = torch.rand(2, 3, 8, 32, 32)
    >>> overlay(clip[0], torch.rand(4, 7, 7), alpha=0.5).shape  # (T, H, W, 3), uint8
    (8, 32, 32, 3)
    >>> panel = decoupler_panel(clip, StaticDynamicDecoupler()(clip), index=1)
    >>> panel.image.shape[0], panel.animation.shape[0]  # 4 rows of 32 px + 3 gaps; T frames
    (134, 8)
    >>> # panel.save_png("decoupler.png"); panel.save_gif("decoupler.gif", fps=8)
"""

from bgdebias.viz.cam import activation_norm_map, class_activation_map, grad_cam
from bgdebias.viz.colormaps import COLORMAPS, ColormapName, apply_colormap, colormap_lut
from bgdebias.viz.frames import clip_to_frames
from bgdebias.viz.gif import save_gif
from bgdebias.viz.overlay import HeatNormalization, colorize, fit_heat, overlay
from bgdebias.viz.panels import (
    Panel,
    build_panel,
    cam_panel,
    decoupler_panel,
    mixer_panel,
    saliency_panel,
)
from bgdebias.viz.strips import frame_strip, save_png

__all__ = [
    "COLORMAPS",
    "ColormapName",
    "HeatNormalization",
    "Panel",
    "activation_norm_map",
    "apply_colormap",
    "build_panel",
    "cam_panel",
    "class_activation_map",
    "clip_to_frames",
    "colorize",
    "colormap_lut",
    "decoupler_panel",
    "fit_heat",
    "frame_strip",
    "grad_cam",
    "mixer_panel",
    "overlay",
    "saliency_panel",
    "save_gif",
    "save_png",
]
