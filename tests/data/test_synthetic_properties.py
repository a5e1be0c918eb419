"""The synthetic dataset's guarantees: only motion tells classes apart, no ghosting."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor

from bgdebias.data.synthetic import (
    MOTION_CLASSES,
    MovingSpriteDataset,
    MovingSpriteVideo,
    Trajectory,
    render_sprite,
    sprite_trajectory,
)
from bgdebias.data.synthetic.sprite import SPRITE_BODY, SPRITE_RIM

SIZE = 64


def _linear_probe_accuracy(features: Tensor, labels: Tensor, num_train: int) -> float:
    """Held-out accuracy of a multinomial logistic regression trained with Adam."""
    torch.manual_seed(0)
    mean, std = features[:num_train].mean(0), features[:num_train].std(0) + 1e-6
    x = (features - mean) / std
    model = torch.nn.Linear(x.shape[1], int(labels.max()) + 1)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-3)
    for _ in range(300):
        optimiser.zero_grad()
        F.cross_entropy(model(x[:num_train]), labels[:num_train]).backward()  # type: ignore[no-untyped-call]
        optimiser.step()
    with torch.no_grad():
        predicted = model(x[num_train:]).argmax(dim=1)
    return float((predicted == labels[num_train:]).float().mean())


def _videos(split: str, length: int, **options: int) -> list[MovingSpriteVideo]:
    data = MovingSpriteDataset(split=split, length=length, size=SIZE, seed=1, **options)  # type: ignore[arg-type]
    return [data.render(i) for i in range(length)]


def _random_frames(videos: list[MovingSpriteVideo]) -> tuple[Tensor, Tensor]:
    """One random frame per video, pooled to 8 x 8 x 3 features, and the labels."""
    generator = torch.Generator().manual_seed(0)
    features, labels = [], []
    for video in videos:
        t = int(torch.randint(video.clip.shape[1], (), generator=generator))
        features.append(F.avg_pool2d(video.clip[:, t], 8).flatten())
        labels.append(video.label)
    return torch.stack(features), torch.tensor(labels)


def test_single_frames_do_not_reveal_the_class() -> None:
    videos = _videos("independent", 1200)
    accuracy = _linear_probe_accuracy(*_random_frames(videos), num_train=600)
    assert abs(accuracy - 1 / 8) < 0.06
    # Power check: the same probe reads the class off single frames when backgrounds tell.
    aligned = _linear_probe_accuracy(*_random_frames(_videos("aligned", 400)), num_train=200)
    assert aligned > 0.9


def _path_kept_in_frame(video: MovingSpriteVideo, generator: torch.Generator) -> Trajectory:
    """The leaky alternative to the torus: a start chosen so that the path stays in frame."""
    centre = video.trajectory.centre.double()
    steps = torch.remainder(centre.diff(dim=0) + SIZE / 2, SIZE) - SIZE / 2
    offsets = torch.cat([torch.zeros(1, 2, dtype=torch.float64), steps.cumsum(0)])
    margin = float(video.trajectory.radius.max())
    low = margin - offsets.min(0).values
    high = SIZE - margin - offsets.max(0).values
    start = low + torch.rand(2, generator=generator, dtype=torch.float64) * (high - low)
    return Trajectory(centre=(start + offsets).float(), radius=video.trajectory.radius)


@pytest.mark.parametrize("frame", [0, -1])
def test_sprite_position_in_a_frame_does_not_reveal_the_direction(frame: int) -> None:
    # Four direction classes, where a position leak would be strongest.
    videos = _videos("independent", 1000, num_classes=4)
    labels = torch.tensor([video.label for video in videos])
    masks = torch.stack([video.sprite_mask[frame] for video in videos]).float()
    features = F.avg_pool2d(masks.unsqueeze(1), 16).flatten(1)  # where, on a 4 x 4 grid
    assert _linear_probe_accuracy(features, labels, num_train=500) < 0.25 + 0.08
    # Power check: the same probe catches the leak of paths kept inside the frame.
    generator = torch.Generator().manual_seed(0)
    leaky = torch.stack(
        [
            render_sprite(video.background, _path_kept_in_frame(video, generator))[1][frame]
            for video in videos
        ]
    ).float()
    leaky_features = F.avg_pool2d(leaky.unsqueeze(1), 16).flatten(1)
    assert _linear_probe_accuracy(leaky_features, labels, num_train=500) > 0.4


def _ks_uniform(values: Tensor, high: float) -> float:
    """Kolmogorov-Smirnov distance between samples and the uniform law on [0, high)."""
    ordered = values.sort().values.double() / high
    n = ordered.numel()
    above = torch.arange(1, n + 1, dtype=torch.float64) / n - ordered
    below = ordered - torch.arange(n, dtype=torch.float64) / n
    return float(torch.maximum(above, below).max())


def _trajectories(label: int, count: int, num_frames: int = 8) -> list[Trajectory]:
    generator = torch.Generator().manual_seed(label)
    return [
        sprite_trajectory(label, num_frames=num_frames, size=SIZE, generator=generator)
        for _ in range(count)
    ]


@pytest.mark.parametrize("label", range(len(MOTION_CLASSES)))
def test_position_and_radius_have_the_same_law_in_every_class(label: int) -> None:
    trajectories = _trajectories(label, 500)
    for frame in (0, 7):
        centres = torch.stack([trajectory.centre[frame] for trajectory in trajectories])
        assert _ks_uniform(centres[:, 0], SIZE) < 0.09
        assert _ks_uniform(centres[:, 1], SIZE) < 0.09
    # Radius: base * (1 + 0.35 sin(U)), an arcsine law, in every class and frame.
    radius = torch.stack([trajectory.radius[3] for trajectory in trajectories])
    phase = torch.asin(((radius / (SIZE / 13) - 1) / 0.35).clamp(-1, 1).double())
    # sin of a uniform phase: asin maps it to a law whose CDF is known; compare via |phase|.
    assert _ks_uniform(phase.abs(), torch.pi / 2) < 0.09


def _unwrapped_steps(trajectory: Trajectory) -> Tensor:
    steps = trajectory.centre.diff(dim=0)
    return torch.remainder(steps + SIZE / 2, SIZE) - SIZE / 2


def test_motions_move_as_named() -> None:
    speed_range = (0.9 * SIZE / 12 - 1e-3, 1.2 * SIZE / 12 + 1e-3)
    for label, name in enumerate(MOTION_CLASSES):
        for trajectory in _trajectories(label, 20):
            steps = _unwrapped_steps(trajectory)
            dx, dy = steps[:, 0], steps[:, 1]
            radius_changes = float(trajectory.radius.max() - trajectory.radius.min())
            if name != "ApproachRecede":
                assert radius_changes < 1e-5
            if name.startswith("Move"):
                along, across = (dx, dy) if name in ("MoveRight", "MoveLeft") else (dy, dx)
                sign = 1 if name in ("MoveRight", "MoveDown") else -1
                assert bool((across.abs() < 1e-4).all())
                assert bool((sign * along >= speed_range[0]).all())
                assert bool((sign * along <= speed_range[1]).all())
            elif name.startswith("Circle"):
                turn = dx[:-1] * dy[1:] - dy[:-1] * dx[1:]  # > 0: clockwise with rows down
                sign = 1 if name == "CircleClockwise" else -1
                assert bool((sign * turn > 0).all())
                lengths = steps.norm(dim=1)
                assert float(lengths.max() - lengths.min()) < 1e-3
            elif name == "ZigZag":
                assert bool((dx > 0).all()) or bool((dx < 0).all())
                assert bool((dy > 0).any())
                assert bool((dy < 0).any())
            else:
                assert torch.allclose(dx.abs(), dy.abs(), atol=1e-4)  # diagonal drift
                assert radius_changes > 0.3 * SIZE / 13


@pytest.mark.parametrize("num_frames", [8, 12, 16])
def test_temporal_median_is_the_clean_background(num_frames: int) -> None:
    for split in ("independent", "train"):
        for video in _videos(split, 150, num_frames=num_frames):
            median = video.clip.median(dim=1).values
            assert torch.allclose(median, video.background, atol=1e-6)
            assert int(video.sprite_mask.sum(dim=0).max()) < num_frames / 2
    # Without motion, the median keeps the sprite: the static split is the exception.
    static = _videos("static", 1)[0]
    assert torch.equal(static.clip.median(dim=1).values, static.clip[:, 0])


def test_sprite_looks_the_same_in_every_video() -> None:
    body = torch.tensor(SPRITE_BODY).view(3, 1)
    rim = torch.tensor(SPRITE_RIM).view(3, 1)
    for video in _videos("independent", 40):
        pixels = video.clip[:, video.sprite_mask]  # (3, N)
        is_body = (pixels == body).all(dim=0)
        is_rim = (pixels == rim).all(dim=0)
        assert bool((is_body | is_rim).all())
        assert bool(is_rim.any())
        # The background never takes the sprite's colours.
        assert float(video.background.max()) <= 0.75
        assert float(video.background.min()) >= 0.1
