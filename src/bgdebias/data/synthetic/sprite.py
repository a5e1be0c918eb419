"""Draw the sprite over a background along a trajectory.

The default sprite is a white disc with a dark rim (the rim keeps it visible on light
textures). Its look never varies between videos apart from the radius, whose single-frame
distribution is the same in every class (see :mod:`bgdebias.data.synthetic.motions`), so
nothing but its motion identifies a video's class. A textured sprite
(:func:`actor_texture`) carries a pattern of its own, drawn per video and moving with it:
its look then identifies the video (as an actor's clothes do in real footage) but still
not the class; a coloured sprite (:func:`actor_colour`) does the same with one plain
colour per video.
"""

from __future__ import annotations

import colorsys
import math

import torch
from torch import Tensor

from bgdebias.data.synthetic.motions import Trajectory

#: RGB of the sprite's body and rim.
SPRITE_BODY = (0.97, 0.97, 0.97)
SPRITE_RIM = (0.05, 0.05, 0.05)
_RIM_WIDTH = 1.0


def actor_texture(side: int, *, generator: torch.Generator) -> Tensor:
    """A random texture for one video's sprite: stripes of a light and a dark colour.

    Period 3 to 6 pixels at a random angle and phase; each colour has a random hue and
    saturation, the light one a value (brightness) in [0.85, 1] and the dark one in
    [0.05, 0.25], so the stripes stand out on any background in [0.1, 0.75].

    Args:
        side: Side of the square texture in pixels (at least the sprite's diameter).
        generator: Random source of this video.

    Returns:
        The texture, centred on the sprite's centre. Shape: ``(3, side, side)``, float32.

    Example:
        >>> import torch
        >>> texture = actor_texture(12, generator=torch.Generator().manual_seed(0))
        >>> texture.shape, bool(texture.min() >= 0.0 and texture.max() <= 1.0)
        (torch.Size([3, 12, 12]), True)
    """
    period, angle, phase, *draws = torch.rand(9, generator=generator).tolist()
    hue_light, saturation_light, value_light, hue_dark, saturation_dark, value_dark = draws
    light = colorsys.hsv_to_rgb(hue_light, saturation_light, 0.85 + 0.15 * value_light)
    dark = colorsys.hsv_to_rgb(hue_dark, saturation_dark, 0.05 + 0.2 * value_dark)
    coords = torch.arange(side, dtype=torch.float32) - (side - 1) / 2
    y, x = coords.view(-1, 1), coords.view(1, -1)
    across = x * math.cos(math.pi * angle) + y * math.sin(math.pi * angle)
    pattern = 0.5 + 0.5 * torch.sin(2 * math.pi * (across / (3.0 + 3.0 * period) + phase))
    return torch.tensor(light).view(3, 1, 1) * pattern + torch.tensor(dark).view(3, 1, 1) * (
        1 - pattern
    )


def actor_colour(side: int, *, generator: torch.Generator) -> Tensor:
    """A plain random colour for one video's sprite, as a uniform texture.

    Hue and saturation uniform in [0, 1], value (brightness) in [0.85, 1]: a bright colour
    of any hue, from white to fully saturated, so that the sprite's look identifies the
    video but not its class.

    Args:
        side: Side of the square texture in pixels (at least the sprite's diameter).
        generator: Random source of this video.

    Returns:
        The texture, one colour everywhere. Shape: ``(3, side, side)``, float32.

    Example:
        >>> import torch
        >>> texture = actor_colour(12, generator=torch.Generator().manual_seed(0))
        >>> texture.shape, bool((texture == texture[:, :1, :1]).all())  # one colour
        (torch.Size([3, 12, 12]), True)
        >>> bool(texture.max() >= 0.85)  # bright: its largest channel is its HSV value
        True
    """
    hue, saturation, value = torch.rand(3, generator=generator).tolist()
    colour = colorsys.hsv_to_rgb(hue, saturation, 0.85 + 0.15 * value)
    return torch.tensor(colour, dtype=torch.float32).view(3, 1, 1).expand(3, side, side).clone()


def render_sprite(
    background: Tensor, trajectory: Trajectory, *, texture: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """Paint the sprite over a static background in every frame, wrapping at the borders.

    Args:
        background: RGB background. Shape: ``(3, H, W)`` with ``H == W``.
        trajectory: Centre and radius per frame.
        texture: The sprite's own texture (:func:`actor_texture` or :func:`actor_colour`),
            ``(3, P, P)`` centred on the sprite and moving with it; ``None`` paints the
            white disc.

    Returns:
        ``(clip, mask)``: the frames and the pixels the sprite covers.
        Shape: ``(3, T, H, W)`` float and ``(T, H, W)`` bool.

    Example:
        >>> import torch
        >>> from bgdebias.data.synthetic import Trajectory
        >>> background = torch.full((3, 32, 32), 0.5)
        >>> at_border = Trajectory(centre=torch.tensor([[0.0, 16.0]]), radius=torch.tensor([4.0]))
        >>> clip, mask = render_sprite(background, at_border)
        >>> clip.shape, mask.shape
        (torch.Size([3, 1, 32, 32]), torch.Size([1, 32, 32]))
        >>> bool(mask[0, 16, 0]), bool(mask[0, 16, 31])  # wraps: seen on both edges
        (True, True)
        >>> torch.equal(clip[:, 0][:, ~mask[0]], background[:, ~mask[0]])  # elsewhere unchanged
        True
    """
    size = background.shape[-1]
    coords = torch.arange(size, device=background.device, dtype=background.dtype)
    centre = trajectory.centre.to(background)
    # Shortest offset on the torus between each pixel and the centre, per frame.
    dx = (coords.view(1, -1) - centre[:, 0:1] + size / 2).remainder(size) - size / 2
    dy = (coords.view(1, -1) - centre[:, 1:2] + size / 2).remainder(size) - size / 2
    distance_sq = dy.unsqueeze(2) ** 2 + dx.unsqueeze(1) ** 2  # (T, H, W)
    radius = trajectory.radius.to(background).view(-1, 1, 1)
    mask = distance_sq <= radius**2
    body = distance_sq <= (radius - _RIM_WIDTH).clamp_min(0) ** 2
    body_colour: Tensor = background.new_tensor(SPRITE_BODY).view(3, 1, 1, 1)
    if texture is not None:
        body_colour = _texture_at(texture.to(background), dx, dy)
    rim_colour = background.new_tensor(SPRITE_RIM).view(3, 1, 1, 1)
    outside = background.unsqueeze(1)
    clip = torch.where(body, body_colour, torch.where(mask, rim_colour, outside))
    return clip, mask


def _texture_at(texture: Tensor, dx: Tensor, dy: Tensor) -> Tensor:
    """Texel under every pixel for offsets ``dx (T, W)``, ``dy (T, H)`` from the centre.

    Shape: returns ``(3, T, H, W)``.
    """
    side = texture.shape[-1]
    column = (dx + side / 2).floor().long().clamp(0, side - 1)  # (T, W)
    row = (dy + side / 2).floor().long().clamp(0, side - 1)  # (T, H)
    index = row.unsqueeze(2) * side + column.unsqueeze(1)  # (T, H, W)
    return texture.flatten(1)[:, index]
