"""Clip samplers: which frame indices of a video make up each clip.

A sampler is a small callable ``sampler(num_frames, generator=None)`` that returns the frame
indices of ``num_clips`` clips of ``clip_len`` frames taken every ``stride`` frames, as a
``LongTensor`` of shape ``(num_clips, clip_len)``. Datasets take one as ``clip_sampler`` and
index their decoded frames with it.

A clip spans ``(clip_len - 1) * stride + 1`` frames. A video shorter than that is handled by
``short_video``:

- ``"loop"`` (default): the video is played in a loop; indices wrap modulo ``num_frames``.
  The stride is kept, so the clip has the same speed as on a long video.
- ``"repeat_last"``: the clip starts at frame 0 and every index past the end repeats the last
  frame (the clip freezes at the end).

The names match ``short_video`` of :mod:`bgdebias.data.decoding`.
"""

from __future__ import annotations

from typing import Literal, Protocol

import torch
from torch import Tensor

from bgdebias._validation import check_choice, check_int

ShortVideoPolicy = Literal["loop", "repeat_last"]

_SHORT_VIDEO_POLICIES = ("loop", "repeat_last")


class ClipSampler(Protocol):
    """Anything that maps a video length to clip frame indices (what datasets accept).

    Example:
        >>> import torch
        >>> from bgdebias.data import MovingSpriteDataset
        >>> def first_frames(num_frames, generator=None):  # a ClipSampler: one clip of 4 frames
        ...     return torch.arange(4).remainder(num_frames).unsqueeze(0)  # (1, clip_len)
        >>> MovingSpriteDataset(length=2, size=32, clip_sampler=first_frames)[0].clip.shape
        torch.Size([3, 4, 32, 32])
        >>> two_clips = UniformClipSampler(4, num_clips=2)  # the built-in samplers are ClipSamplers
        >>> two_clips(8).tolist()
        [[0, 1, 2, 3], [4, 5, 6, 7]]
        >>> MovingSpriteDataset(length=2, size=32, clip_sampler=two_clips)[0].clip.shape
        torch.Size([2, 3, 4, 32, 32])
    """

    def __call__(self, num_frames: int, generator: torch.Generator | None = None) -> Tensor:
        """Frame indices of the clips. Shape: ``(num_clips, clip_len)``, int64."""
        ...


class _ClipSamplerBase:
    """Shared options and index arithmetic of the samplers."""

    def __init__(
        self, clip_len: int, *, stride: int, num_clips: int, short_video: ShortVideoPolicy
    ) -> None:
        self.clip_len = check_int(clip_len, "clip_len", minimum=1)
        self.stride = check_int(stride, "stride", minimum=1)
        self.num_clips = check_int(num_clips, "num_clips", minimum=1)
        check_choice(short_video, "short_video", _SHORT_VIDEO_POLICIES)
        self.short_video: ShortVideoPolicy = short_video

    @property
    def span(self) -> int:
        """The number of consecutive frames one clip covers, ``(clip_len - 1) * stride + 1``."""
        return (self.clip_len - 1) * self.stride + 1

    def _indices(self, starts: Tensor, num_frames: int) -> Tensor:
        """Expand start frames ``(num_clips,)`` to indices ``(num_clips, clip_len)``."""
        offsets = torch.arange(self.clip_len, dtype=torch.long) * self.stride
        indices = starts.long().unsqueeze(1) + offsets
        if num_frames >= self.span:
            return indices
        if self.short_video == "loop":
            return indices.remainder(num_frames)
        return indices.clamp(max=num_frames - 1)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(clip_len={self.clip_len}, stride={self.stride}, "
            f"num_clips={self.num_clips}, short_video={self.short_video!r})"
        )


class RandomClipSampler(_ClipSamplerBase):
    """``num_clips`` clips at independent, uniformly random start frames (for training).

    With ``num_clips=2`` it gives the two clips of one video that make a MoCo pair.
    Every start frame that keeps the clip inside the video is equally likely. On a video
    shorter than :attr:`span`, ``short_video="loop"`` draws the start uniformly over all
    frames and wraps; ``"repeat_last"`` starts every clip at frame 0 and repeats the last frame.

    Args:
        clip_len: Frames per clip.
        stride: Step between consecutive frames of a clip.
        num_clips: Clips drawn per call.
        short_video: ``"loop"`` or ``"repeat_last"``, see the module docstring.

    Shape:
        Returns ``(num_clips, clip_len)``, int64, every index in ``[0, num_frames)``.

    Example:
        >>> import torch
        >>> sampler = RandomClipSampler(4, stride=2, num_clips=2)
        >>> sampler(30, generator=torch.Generator().manual_seed(0)).shape
        torch.Size([2, 4])
    """

    def __init__(
        self,
        clip_len: int,
        *,
        stride: int = 1,
        num_clips: int = 1,
        short_video: ShortVideoPolicy = "loop",
    ) -> None:
        super().__init__(clip_len, stride=stride, num_clips=num_clips, short_video=short_video)

    def __call__(self, num_frames: int, generator: torch.Generator | None = None) -> Tensor:
        """Draw the clips of a video of ``num_frames`` frames.

        Args:
            num_frames: Length of the video, at least 1.
            generator: Random source (CPU); the global one when ``None``.

        Returns:
            Frame indices. Shape: ``(num_clips, clip_len)``, int64.
        """
        check_int(num_frames, "num_frames", minimum=1)
        if num_frames >= self.span:
            high = num_frames - self.span + 1
        elif self.short_video == "loop":
            high = num_frames
        else:
            high = 1
        starts = torch.randint(high, (self.num_clips,), generator=generator)
        return self._indices(starts, num_frames)


class UniformClipSampler(_ClipSamplerBase):
    """``num_clips`` evenly spaced clips covering the video (the test protocol; 10 by default).

    The first clip starts at frame 0 and the last one ends on the last frame; the starts in
    between are ``round(k * (num_frames - span) / (num_clips - 1))``. A single clip is
    centred. On a video shorter than :attr:`span`, ``short_video="loop"`` spaces the starts
    evenly over all frames (``floor(k * num_frames / num_clips)``) and wraps; ``"repeat_last"``
    starts every clip at frame 0 and repeats the last frame. The result is deterministic;
    ``generator`` is accepted for the :class:`ClipSampler` interface and ignored.

    Args:
        clip_len: Frames per clip.
        stride: Step between consecutive frames of a clip.
        num_clips: Clips per video.
        short_video: ``"loop"`` or ``"repeat_last"``, see the module docstring.

    Shape:
        Returns ``(num_clips, clip_len)``, int64, every index in ``[0, num_frames)``.

    Example:
        >>> UniformClipSampler(2, num_clips=3)(7).tolist()
        [[0, 1], [2, 3], [5, 6]]
    """

    def __init__(
        self,
        clip_len: int,
        *,
        stride: int = 1,
        num_clips: int = 10,
        short_video: ShortVideoPolicy = "loop",
    ) -> None:
        super().__init__(clip_len, stride=stride, num_clips=num_clips, short_video=short_video)

    def __call__(self, num_frames: int, generator: torch.Generator | None = None) -> Tensor:
        """Evenly spaced clips of a video of ``num_frames`` frames.

        Args:
            num_frames: Length of the video, at least 1.
            generator: Ignored (the clips are deterministic).

        Returns:
            Frame indices. Shape: ``(num_clips, clip_len)``, int64.
        """
        del generator
        check_int(num_frames, "num_frames", minimum=1)
        k = torch.arange(self.num_clips, dtype=torch.float64)
        if num_frames >= self.span:
            last_start = num_frames - self.span
            if self.num_clips == 1:
                starts = torch.tensor([last_start // 2], dtype=torch.long)
            else:
                starts = torch.round(k * last_start / (self.num_clips - 1)).long()
        elif self.short_video == "loop":
            starts = torch.floor(k * num_frames / self.num_clips).long()
        else:
            starts = torch.zeros(self.num_clips, dtype=torch.long)
        return self._indices(starts, num_frames)
