"""The motion classes of the synthetic dataset: sprite trajectories on a torus.

The frame is a torus (a sprite leaving on the right re-enters on the left), and every
trajectory starts at a uniformly random point, so the sprite's position in any single frame
is uniform whatever the class. The sprite's radius in a single frame has the same
distribution in every class too: ``ApproachRecede`` oscillates it as
``r0 * (1 + a * sin(phase + w * t))`` with a uniform phase, and the other classes keep a
constant radius ``r0 * (1 + a * sin(phase))``. Only the change from frame to frame tells the
classes apart.

Speeds are in pixels per frame relative to the frame size ``N``: ``N / 12`` (5.3 px at 64 px)
times a per-video factor in ``[0.9, 1.2]``; the base radius is ``N / 13`` (4.9 px), so the
sprite's diameter (at most 13.3 px, about 4 % of a 64 px frame in area) is under 2.8 frames
of travel. A sprite covers a pixel for at most three frames per pass and comes back no
sooner than about 12 frames later (a circle turn of radius ``0.18 N`` or more; 10 frames or
more on a straight path round the torus), so it covers every pixel in fewer than half of
the frames of an 8-, 12- or 16-frame video and the per-pixel temporal median of a video is
its clean background.

The sprite is large and fast enough for a small 3D CNN to learn the eight motions in a few
hundred steps (``docs/benchmarks/learnability.md``); with two thirds of this radius and three
quarters of this speed a supervised model stayed at chance for 450 steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

#: Class names, in label order (also the UCF101-style folder names on export).
MOTION_CLASSES: tuple[str, ...] = (
    "MoveRight",
    "MoveLeft",
    "MoveUp",
    "MoveDown",
    "CircleClockwise",
    "CircleCounterClockwise",
    "ZigZag",
    "ApproachRecede",
)

#: Relative amplitude of the radius oscillation (and of the radius spread of other classes).
RADIUS_SPREAD = 0.35
_SPEED_JITTER = (0.9, 1.2)
_SPEED_DIVISOR = 12.0  # speed = size / 12 pixels per frame (times the jitter)
_RADIUS_DIVISOR = 13.0  # base radius = size / 13
_CIRCLE_RADIUS = (0.18, 0.24)  # of the size
_ZIGZAG_HALF_PERIOD = 3  # frames between vertical turns
_SCALE_PERIOD = 6.0  # frames per approach/recede cycle


@dataclass(frozen=True)
class Trajectory:
    """Where the sprite is in each frame.

    Attributes:
        centre: Sprite centre ``(x, y)`` in pixels, wrapped into ``[0, size)``.
            Shape: ``(T, 2)``.
        radius: Sprite radius in pixels. Shape: ``(T,)``.

    Example:
        >>> import torch
        >>> from bgdebias.data.synthetic import render_sprite
        >>> centre = torch.tensor([[8.0 + 2 * t, 16.0] for t in range(4)])  # 2 px right a frame
        >>> path = Trajectory(centre=centre, radius=torch.full((4,), 3.0))
        >>> _, mask = render_sprite(torch.zeros(3, 32, 32), path)
        >>> [round(float(frame.nonzero()[:, 1].float().mean())) for frame in mask]  # mean column
        [8, 10, 12, 14]
    """

    centre: Tensor
    radius: Tensor


def _uniform(generator: torch.Generator, low: float = 0.0, high: float = 1.0) -> float:
    return low + (high - low) * float(torch.rand((), generator=generator))


def sprite_trajectory(
    label: int, *, num_frames: int, size: int, generator: torch.Generator
) -> Trajectory:
    """Draw the trajectory of one video of class ``label``.

    Always draws the same number of random values in the same order, whatever the class.

    Args:
        label: Index into :data:`MOTION_CLASSES`.
        num_frames: Frames of the video.
        size: Side of the square frame (the torus) in pixels.
        generator: Random source of this video.

    Returns:
        The sprite's centre and radius per frame. Shape: ``(T, 2)`` and ``(T,)``.

    Example:
        >>> import torch
        >>> generator = torch.Generator().manual_seed(0)
        >>> label = MOTION_CLASSES.index("MoveRight")
        >>> path = sprite_trajectory(label, num_frames=8, size=64, generator=generator)
        >>> path.centre.shape, path.radius.shape
        (torch.Size([8, 2]), torch.Size([8]))
        >>> step = (path.centre[1:] - path.centre[:-1]).remainder(64)  # move per frame, wrapped
        >>> bool((step[:, 0] > 4).all()), bool((step[:, 1] == 0).all())  # rightwards only
        (True, True)
    """
    if not 0 <= label < len(MOTION_CLASSES):
        raise ValueError(f"`label` must be in [0, {len(MOTION_CLASSES)}), got {label}")
    speed = size / _SPEED_DIVISOR * _uniform(generator, *_SPEED_JITTER)
    base_radius = size / _RADIUS_DIVISOR
    start = torch.rand(2, generator=generator, dtype=torch.float64) * size
    phase = _uniform(generator, 0.0, 2 * math.pi)
    signs = torch.randint(0, 2, (2,), generator=generator).to(torch.float64) * 2 - 1
    circle_radius = size * _uniform(generator, *_CIRCLE_RADIUS)

    t = torch.arange(num_frames, dtype=torch.float64)
    radius = torch.full_like(t, base_radius * (1 + RADIUS_SPREAD * math.sin(phase)))
    name = MOTION_CLASSES[label]
    if name in ("MoveRight", "MoveLeft", "MoveUp", "MoveDown"):
        direction = {
            "MoveRight": (1.0, 0.0),
            "MoveLeft": (-1.0, 0.0),
            "MoveUp": (0.0, -1.0),
            "MoveDown": (0.0, 1.0),
        }[name]
        offset = speed * t.unsqueeze(1) * torch.tensor(direction, dtype=torch.float64)
    elif name in ("CircleClockwise", "CircleCounterClockwise"):
        # Image rows grow downwards, so a growing angle turns clockwise on screen.
        turn = 1.0 if name == "CircleClockwise" else -1.0
        angle = phase + turn * speed / circle_radius * t
        offset = circle_radius * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
    elif name == "ZigZag":
        # Steady horizontal drift (either way), vertical triangle wave of random phase.
        period = 2 * _ZIGZAG_HALF_PERIOD
        cycle = torch.remainder(t + phase / (2 * math.pi) * period, period)
        triangle = torch.minimum(cycle, period - cycle) - _ZIGZAG_HALF_PERIOD / 2
        vertical = signs[1] * speed * triangle
        offset = torch.stack([signs[0] * speed * t, vertical], dim=1)
    else:  # ApproachRecede: diagonal drift while the radius oscillates.
        offset = speed / math.sqrt(2) * t.unsqueeze(1) * signs
        wave = torch.sin(phase + 2 * math.pi * t / _SCALE_PERIOD)
        radius = base_radius * (1 + RADIUS_SPREAD * wave)
    centre = torch.remainder(start + offset, size)
    return Trajectory(centre=centre.float(), radius=radius.float())
