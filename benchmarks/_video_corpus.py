"""Encoded videos for the loader benchmarks, written with the project's video writer.

UCF101-like by default (320x240, 25 fps, H.264 in ``.mp4``, a few seconds each), laid out
for ``PretrainConfig(dataset="folder", root=...)``: ``<root>/train/clips/video000.mp4``.
The content is a panning texture with a moving square and mild noise, so that the encoder
has real motion and detail to code (a flat video would decode unrealistically fast).
"""

from __future__ import annotations

import math
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import torch
from torch import Tensor

from bgdebias.data import write_video

#: Folder of the videos below the corpus root (the ``folder`` dataset's train split).
CLASS_FOLDER = Path("train") / "clips"


@dataclass(frozen=True)
class CorpusSpec:
    """What to encode.

    Attributes:
        videos: Number of files.
        frames: Frames per file.
        height: Frame height (even).
        width: Frame width (even).
        fps: Frame rate written into the files.
        crf: libx264 constant rate factor (lower: higher bitrate).
    """

    videos: int = 64
    frames: int = 100
    height: int = 240
    width: int = 320
    fps: int = 25
    crf: int = 23


@dataclass(frozen=True)
class Corpus:
    """An encoded corpus on disk.

    Attributes:
        root: The dataset root (``PretrainConfig.root``).
        spec: What was encoded.
        mean_kbps: Mean bitrate of the files in kbit/s.
        encode_s: Wall time spent generating and encoding.
    """

    root: Path
    spec: CorpusSpec
    mean_kbps: float
    encode_s: float

    def describe(self) -> dict[str, object]:
        """JSON-ready summary (the root is left out: it is a temporary folder)."""
        spec = self.spec
        return {
            "videos": spec.videos,
            "frames": spec.frames,
            "height": spec.height,
            "width": spec.width,
            "fps": spec.fps,
            "seconds_per_video": spec.frames / spec.fps,
            "codec": "libx264 (H.264) in .mp4, yuv420p",
            "crf": spec.crf,
            "mean_kbps": self.mean_kbps,
            "encode_s": self.encode_s,
        }


def moving_texture(frames: int, height: int, width: int, *, seed: int) -> Tensor:
    """A panning sine texture, a moving square and mild noise.

    Args:
        frames: Number of frames T.
        height: Frame height H.
        width: Frame width W.
        seed: Random source of the phases and the noise.

    Returns:
        ``uint8`` frames, channels last. Shape: ``(T, H, W, 3)``.

    Example:
        >>> clip = moving_texture(3, 8, 10, seed=0)
        >>> clip.shape, clip.dtype
        (torch.Size([3, 8, 10, 3]), torch.uint8)
    """
    generator = torch.Generator().manual_seed(seed)
    phase = torch.rand(3, generator=generator) * 2 * math.pi
    pan = 2  # pixels per frame
    ys = torch.linspace(0, 1, height).view(-1, 1)
    xs = torch.linspace(0, 1 + pan * frames / width, width + pan * frames).view(1, -1)
    texture = torch.stack(
        [0.5 + 0.35 * torch.sin(17 * xs + 11 * ys + float(phase[c]) + 2 * c) for c in range(3)],
        dim=-1,
    )
    clip = torch.stack([texture[:, pan * t : pan * t + width] for t in range(frames)]).clone()
    side = max(2, height // 5)
    for t in range(frames):
        top = int((height - side) * (0.5 + 0.4 * math.sin(0.21 * t + seed)))
        left = int((width - side) * (0.5 + 0.4 * math.cos(0.13 * t + seed)))
        clip[t, top : top + side, left : left + side] = torch.tensor([0.9, 0.2, 0.1])
    clip += 0.02 * torch.randn(clip.shape, generator=generator)
    return (clip.clamp(0, 1) * 255).round().to(torch.uint8)


def _encode_one(job: tuple[Path, CorpusSpec, int]) -> int:
    path, spec, seed = job
    frames = moving_texture(spec.frames, spec.height, spec.width, seed=seed)
    write_video(path, frames, fps=spec.fps, codec="libx264", crf=spec.crf)
    return path.stat().st_size


def write_corpus(root: str | os.PathLike[str], spec: CorpusSpec, *, processes: int = 1) -> Corpus:
    """Encode ``spec.videos`` files under ``root`` (see the module docstring for the layout).

    Args:
        root: Corpus root (created if needed).
        spec: What to encode.
        processes: Encoding processes (1: in this process). Forked, so call this before
            anything starts CUDA in this process.

    Returns:
        The corpus, with its mean bitrate.

    Raises:
        ValueError: If ``processes`` or a size in ``spec`` is below 1, or H or W is odd.
    """
    for name, value in (
        ("processes", processes),
        ("videos", spec.videos),
        ("frames", spec.frames),
        ("fps", spec.fps),
    ):
        if value < 1:
            raise ValueError(f"`{name}` must be at least 1, got {value}")
    if spec.height < 2 or spec.width < 2 or spec.height % 2 or spec.width % 2:
        raise ValueError(
            f"the frame size must be even and at least 2, got {spec.height}x{spec.width}"
        )
    started = time.perf_counter()
    folder = Path(root) / CLASS_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    jobs = [(folder / f"video{index:03d}.mp4", spec, index) for index in range(spec.videos)]
    if processes == 1:
        sizes = [_encode_one(job) for job in jobs]
    else:
        with ProcessPoolExecutor(processes, mp_context=get_context("fork")) as pool:
            sizes = list(pool.map(_encode_one, jobs))
    seconds = spec.frames / spec.fps
    mean_kbps = sum(sizes) * 8 / 1000 / seconds / len(sizes)
    return Corpus(Path(root), spec, mean_kbps, time.perf_counter() - started)
