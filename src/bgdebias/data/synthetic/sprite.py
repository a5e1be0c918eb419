"""Draw the sprite, the same look in every video, over a background along a trajectory.

The sprite is a white disc with a dark rim (the rim keeps it visible on light textures).
Its look never varies between videos apart from the radius, whose single-frame distribution
is the same in every class (see :mod:`bgdebias.data.synthetic.motions`), so nothing but its
motion identifies a video's class.
"""

from __future__ import annotations

import torch
from torch import Tensor

from bgdebias.data.synthetic.motions import Trajectory

#: RGB of the sprite's body and rim.
SPRITE_BODY = (0.97, 0.97, 0.97)
SPRITE_RIM = (0.05, 0.05, 0.05)
_RIM_WIDTH = 1.0


def render_sprite(background: Tensor, trajectory: Trajectory) -> tuple[Tensor, Tensor]:
    """Paint the sprite over a static background in every frame, wrapping at the borders.

    Args:
        background: RGB background. Shape: ``(3, H, W)`` with ``H == W``.
        trajectory: Centre and radius per frame.

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
    body_colour = background.new_tensor(SPRITE_BODY).view(3, 1, 1, 1)
    rim_colour = background.new_tensor(SPRITE_RIM).view(3, 1, 1, 1)
    outside = background.unsqueeze(1)
    clip = torch.where(body, body_colour, torch.where(mask, rim_colour, outside))
    return clip, mask
