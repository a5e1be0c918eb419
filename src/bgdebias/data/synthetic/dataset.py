"""A generated video dataset whose background bias is set by a knob: moving sprites.

The class is the motion of a small sprite (:data:`~bgdebias.data.synthetic.motions.MOTION_CLASSES`);
the background is a procedural texture family
(:data:`~bgdebias.data.synthetic.backgrounds.BACKGROUND_FAMILIES`). In the training split a
video's background family is its class's family with probability ``bias``; test splits
separate the two cues:

==============  ==============================================================  ==========
split           background family                                               motion
==============  ==============================================================  ==========
``train``       the class's with probability ``bias``, else another class's     yes
``aligned``     the class's                                                     yes
``conflicting`` another class's (uniform over the others)                       yes
``independent`` uniform over all families, independent of the class            yes
``static``      the class's; one frame of the video repeated (motion removed)   no
==============  ==============================================================  ==========

A model that learned backgrounds fails ``conflicting`` (and scores about ``1 / num_classes``
on ``independent``); a model that learned motion falls to chance on ``static``. The four test
splits show the same sprites on the same textures (the same ``index`` draws the same video)
and differ only in the family or the frozen frame, so their accuracies compare directly.

Everything is generated on the fly and deterministic: video ``index`` of a split is a
function of ``(seed, "train" or "test", index)`` only. Labels are balanced
(``label = index % num_classes``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import torch
from torch import Tensor
from torch.utils.data import Dataset, default_collate

from bgdebias._random import stable_seed
from bgdebias._validation import check_choice, check_int, check_unit
from bgdebias.data.sampling import ClipSampler
from bgdebias.data.synthetic.backgrounds import BACKGROUND_FAMILIES, render_background
from bgdebias.data.synthetic.motions import MOTION_CLASSES, Trajectory, sprite_trajectory
from bgdebias.data.synthetic.photos import PHOTO_FAMILIES, render_photo_background
from bgdebias.data.synthetic.sprite import actor_colour, actor_texture, render_sprite

SyntheticSplit = Literal["train", "aligned", "conflicting", "independent", "static"]
BackgroundKind = Literal["procedural", "photo"]
ActorKind = Literal["disc", "textured", "colour"]
ACTOR_KINDS: tuple[ActorKind, ...] = ("disc", "textured", "colour")

SYNTHETIC_SPLITS: tuple[SyntheticSplit, ...] = (
    "train",
    "aligned",
    "conflicting",
    "independent",
    "static",
)


@dataclass(frozen=True)
class MovingSpriteVideo:
    """One whole generated video with its ground truth.

    Attributes:
        clip: The video, RGB in [0, 1]. Shape: ``(3, T, H, W)``, float32.
        background: The clean background (what the temporal median should recover).
            Shape: ``(3, H, W)``, float32.
        sprite_mask: Pixels covered by the sprite in each frame. Shape: ``(T, H, W)``, bool.
        label: Motion class, an index into ``MOTION_CLASSES``.
        background_family: Texture family, an index into ``BACKGROUND_FAMILIES``.
        trajectory: Sprite centre ``(T, 2)`` as ``(x, y)`` pixels and radius ``(T,)`` per
            frame (for ``static``, the frozen frame's values repeated).
        video_index: Position of the video in its split (as in :class:`MovingSpriteSample`).

    Example:
        >>> video = MovingSpriteDataset(split="aligned", length=4, size=32).render(1)
        >>> video.clip.shape, video.background.shape, video.sprite_mask.shape
        (torch.Size([3, 8, 32, 32]), torch.Size([3, 32, 32]), torch.Size([8, 32, 32]))
        >>> video.label, video.background_family  # aligned: the class's own family
        (1, 1)
        >>> off_sprite = ~video.sprite_mask[0]  # frame 0 outside the sprite is the background
        >>> torch.equal(video.clip[:, 0][:, off_sprite], video.background[:, off_sprite])
        True
    """

    clip: Tensor
    background: Tensor
    sprite_mask: Tensor
    label: int
    background_family: int
    trajectory: Trajectory
    video_index: int


class MovingSpriteSample(NamedTuple):
    """What the dataset returns per item (a named tuple, so ``default_collate`` batches it).

    Attributes:
        clip: The clip, RGB in [0, 1]: ``(3, T, H, W)`` float32 without a sampler; with a
            ``clip_sampler`` of ``N`` clips, ``(3, clip_len, H, W)`` for ``N == 1`` and
            ``(N, 3, clip_len, H, W)`` otherwise; then whatever ``transform`` returns.
        label: Motion class (an int, as :class:`~bgdebias.data.VideoSample`'s; a ``(B,)``
            int64 tensor once batched).
        background_family: Texture family (an int; ``(B,)`` int64 once batched).
        video_index: Position of the video in its split (an int; ``(B,)`` int64 once
            batched). (Not ``index``, which tuples already define as a method.)

    Example:
        >>> data = MovingSpriteDataset(split="train", length=8, num_classes=4, size=32)
        >>> batch = data.batch([0, 1, 5])  # as a DataLoader's default collate stacks items
        >>> batch.clip.shape, batch.label.tolist(), batch.video_index.tolist()
        (torch.Size([3, 3, 8, 32, 32]), [0, 1, 1], [0, 1, 5])
        >>> clip, label, family, index = data[5]  # a tuple: unpacks in field order
        >>> clip.shape, int(label), int(index)
        (torch.Size([3, 8, 32, 32]), 1, 5)
    """

    clip: Any
    label: int
    background_family: int
    video_index: int


def video_seed(seed: int, stream: str, index: int) -> int:
    """A 63-bit seed for one video, stable across processes and platforms.

    Args:
        seed: Dataset seed.
        stream: ``"train"`` or ``"test"`` (the four test splits share one stream).
        index: Video index.

    Returns:
        A seed for ``torch.Generator.manual_seed``.

    Example:
        >>> seed = video_seed(0, "test", 3)
        >>> seed == video_seed(0, "test", 3), 0 <= seed < 2**63  # same in every process
        (True, True)
        >>> video_seed(0, "train", 3) != seed  # train and test draw different videos
        True
    """
    return stable_seed(seed, stream, index)


class MovingSpriteDataset(Dataset[MovingSpriteSample]):
    """Synthetic background-bias videos: a sprite's motion is the class, the texture is bias.

    Map-style dataset; see the module docstring for the splits. Rendering one 8-frame
    64 x 64 video takes well under a millisecond of tensor work, so the per-item path is fast
    enough for a small CPU model; :meth:`batch` stacks items for direct use.

    Args:
        split: ``"train"``, ``"aligned"``, ``"conflicting"``, ``"independent"`` or ``"static"``.
        length: Videos in the split.
        num_classes: Motion classes (and background families) used, 2 to 8.
        num_frames: Frames per video (e.g. 8, or 16 to sample shorter clips from).
        size: Side of the square frames in pixels, at least 32 (even, to write videos).
        bias: Probability that a training video shows its class's background family
            (ignored by the test splits).
        seed: Dataset seed; with ``split`` and the index it fixes every video.
        backgrounds: ``"procedural"`` textures (default) or ``"photo"``: crops of real
            photographs, one photograph per family
            (:func:`~bgdebias.data.synthetic.render_photo_background`; needs scikit-image).
        actor: ``"disc"`` (the white disc, default) or ``"textured"``: a disc with its own
            random texture per video, moving with it
            (:func:`~bgdebias.data.synthetic.actor_texture`), or ``"colour"``: a disc of one
            random bright colour per video (:func:`~bgdebias.data.synthetic.actor_colour`).
        clip_sampler: Optional :class:`~bgdebias.data.sampling.ClipSampler` applied to each
            video; it draws from the global generator, so clips vary between epochs.
        transform: Optional callable applied to the clip tensor (e.g.
            :func:`~bgdebias.data.moco_clip_augmentation`).

    Shape:
        ``dataset[i].clip`` is ``(3, num_frames, size, size)`` without a sampler.

    Example:
        >>> data = MovingSpriteDataset(split="conflicting", length=16, size=32)
        >>> sample = data[3]
        >>> sample.clip.shape, int(sample.label), int(sample.background_family) != 3
        (torch.Size([3, 8, 32, 32]), 3, True)
    """

    def __init__(
        self,
        *,
        split: SyntheticSplit = "train",
        length: int = 1024,
        num_classes: int = 8,
        num_frames: int = 8,
        size: int = 64,
        bias: float = 0.9,
        seed: int = 0,
        backgrounds: BackgroundKind = "procedural",
        actor: ActorKind = "disc",
        clip_sampler: ClipSampler | None = None,
        transform: Callable[[Tensor], Any] | None = None,
    ) -> None:
        check_choice(split, "split", SYNTHETIC_SPLITS)
        self.backgrounds: BackgroundKind = check_choice(
            backgrounds, "backgrounds", ("procedural", "photo")
        )
        self.actor: ActorKind = check_choice(actor, "actor", ACTOR_KINDS)
        self.split: SyntheticSplit = split
        self.length = check_int(length, "length", minimum=1)
        self.num_classes = check_int(num_classes, "num_classes", minimum=2)
        if self.num_classes > len(MOTION_CLASSES):
            raise ValueError(
                f"`num_classes` must be at most {len(MOTION_CLASSES)} (the motions defined), "
                f"got {num_classes}"
            )
        self.num_frames = check_int(num_frames, "num_frames", minimum=2)
        self.size = check_int(size, "size", minimum=32)
        self.bias = check_unit(bias, "bias")
        self.seed = check_int(seed, "seed", minimum=0)
        if clip_sampler is not None and not callable(clip_sampler):
            raise TypeError(f"`clip_sampler` must be callable, got {type(clip_sampler).__name__}")
        if transform is not None and not callable(transform):
            raise TypeError(f"`transform` must be callable, got {type(transform).__name__}")
        self.clip_sampler = clip_sampler
        self.transform = transform

    @property
    def classes(self) -> tuple[str, ...]:
        """Class names, in label order."""
        return MOTION_CLASSES[: self.num_classes]

    @property
    def families(self) -> tuple[str, ...]:
        """Background family names, in family order."""
        names = PHOTO_FAMILIES if self.backgrounds == "photo" else BACKGROUND_FAMILIES
        return names[: self.num_classes]

    def __len__(self) -> int:
        return self.length

    def _check_index(self, index: int) -> int:
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(f"`index` must be an int, got {type(index).__name__}")
        if not -self.length <= index < self.length:
            raise IndexError(f"`index` {index} is out of range for a split of {self.length}")
        return index % self.length

    def _draw_families(self, label: int, generator: torch.Generator) -> tuple[int, int]:
        """Background family of this split and, for ``static``, the frozen frame."""
        matches, other, independent, frozen = torch.rand(4, generator=generator).tolist()
        other_family = (label + 1 + int(other * (self.num_classes - 1))) % self.num_classes
        frame = min(int(frozen * self.num_frames), self.num_frames - 1)
        if self.split == "train":
            family = label if matches < self.bias else other_family
        elif self.split == "conflicting":
            family = other_family
        elif self.split == "independent":
            family = min(int(independent * self.num_classes), self.num_classes - 1)
        else:  # aligned, static
            family = label
        return family, frame

    def render(self, index: int) -> MovingSpriteVideo:
        """Generate the whole video ``index`` with its ground truth (ignores sampler/transform).

        Args:
            index: Video index in ``[-length, length)``.

        Returns:
            The video, its clean background, sprite masks, label and family.
        """
        index = self._check_index(index)
        stream = "train" if self.split == "train" else "test"
        generator = torch.Generator().manual_seed(video_seed(self.seed, stream, index))
        label = index % self.num_classes
        family, frozen = self._draw_families(label, generator)
        trajectory = sprite_trajectory(
            label, num_frames=self.num_frames, size=self.size, generator=generator
        )
        if self.backgrounds == "photo":
            background = render_photo_background(family, size=self.size, generator=generator)
        else:
            background = render_background(family, size=self.size, generator=generator)
        texture = None
        if self.actor != "disc":
            side = 2 * math.ceil(float(trajectory.radius.max())) + 2
            paint = actor_texture if self.actor == "textured" else actor_colour
            texture = paint(side, generator=generator)
        if self.split == "static":
            trajectory = Trajectory(
                centre=trajectory.centre[frozen].expand(self.num_frames, 2).clone(),
                radius=trajectory.radius[frozen].expand(self.num_frames).clone(),
            )
        clip, mask = render_sprite(background, trajectory, texture=texture)
        return MovingSpriteVideo(
            clip=clip,
            background=background,
            sprite_mask=mask,
            label=label,
            background_family=family,
            trajectory=trajectory,
            video_index=index,
        )

    def __getitem__(self, index: int) -> MovingSpriteSample:
        """Video ``index`` as a sample, after the optional clip sampler and transform."""
        video = self.render(index)
        clip = video.clip
        if self.clip_sampler is not None:
            frames = self.clip_sampler(self.num_frames)
            clip = clip[:, frames].transpose(0, 1)  # (N, 3, clip_len, H, W)
            if clip.shape[0] == 1:
                clip = clip[0]
        output: Any = self.transform(clip) if self.transform is not None else clip
        return MovingSpriteSample(
            clip=output,
            label=video.label,
            background_family=video.background_family,
            video_index=video.video_index,
        )

    def batch(self, indices: Sequence[int] | Tensor) -> MovingSpriteSample:
        """Several items stacked (as a ``DataLoader`` would with the default collate).

        Args:
            indices: Video indices.

        Returns:
            The batched sample; e.g. ``clip`` of shape ``(B, 3, T, H, W)`` and ``label`` of
            shape ``(B,)``.
        """
        items = indices.tolist() if isinstance(indices, Tensor) else list(indices)
        if not items:
            raise ValueError("`indices` must name at least one video, got none")
        batched: MovingSpriteSample = default_collate([self[int(i)] for i in items])
        return batched

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(split={self.split!r}, length={self.length}, "
            f"num_classes={self.num_classes}, num_frames={self.num_frames}, size={self.size}, "
            f"bias={self.bias}, seed={self.seed}, backgrounds={self.backgrounds!r}, "
            f"actor={self.actor!r})"
        )
