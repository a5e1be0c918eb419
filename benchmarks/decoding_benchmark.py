"""Benchmark video decoding: dataset overhead, backend throughput, DataLoader data wait.

Encodes its own videos into a temporary folder (nothing is downloaded), then measures:

1. The cost of one 16-frame clip read through :class:`~bgdebias.data.datasets.VideoFolder`
   against the same frames read with a bare ``torchcodec.decoders.VideoDecoder(path)
   .get_frames_at(indices)`` call, interleaved on the same files (target: at most 1.15x).
2. Frames per second of both backends (torchcodec, PyAV) at 128x170 and 240x320.
3. With 2 ``DataLoader`` workers feeding a small 3D CNN (batches ``(16, 3, 8, 64, 64)``),
   the fraction of each training step spent waiting for data.
4. How long indexing 13,000 annotation entries takes.

Run from the repository root::

    python benchmarks/decoding_benchmark.py            # about 2 minutes on 2 CPU cores
    python benchmarks/decoding_benchmark.py --quick    # a smoke run
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, RandomSampler

from bgdebias.data import write_video
from bgdebias.data.datasets import UCF101, VideoFolder
from bgdebias.data.decoding import VideoReader
from bgdebias.data.sampling import RandomClipSampler, UniformClipSampler
from bgdebias.data.transforms import CenterCropClip, ClipCompose, ResizeShortSideClip

RESOLUTIONS = ((128, 170), (240, 320))
CLIP_LEN = 16


def synthetic_frames(num_frames: int, height: int, width: int, seed: int) -> Tensor:
    """Moving textured frames with a moving square and mild noise. Shape ``(T, H, W, 3)``."""
    generator = torch.Generator().manual_seed(seed)
    ys = torch.linspace(0, 1, height).view(1, -1, 1)
    xs = torch.linspace(0, 1, width).view(1, 1, -1)
    t = torch.arange(num_frames, dtype=torch.float32).view(-1, 1, 1)
    phase = torch.rand(3, generator=generator) * 6.28
    channels = [
        0.5 + 0.4 * torch.sin(12 * xs + 7 * ys + 0.15 * t + float(phase[c]) + 2 * c)
        for c in range(3)
    ]
    frames = torch.stack(channels, dim=-1)
    size = max(8, height // 6)
    for k in range(num_frames):
        top = int((height - size) * (0.5 + 0.4 * math.sin(0.2 * k + seed)))
        left = int((width - size) * (0.5 + 0.4 * math.cos(0.13 * k + seed)))
        frames[k, top : top + size, left : left + size] = torch.tensor([0.9, 0.2, 0.1])
    frames += 0.03 * torch.randn(frames.shape, generator=generator)
    return (frames.clamp(0, 1) * 255).round().to(torch.uint8)


def encode_videos(root: Path, num_videos: int, num_frames: int) -> dict[str, Path]:
    """One ``VideoFolder`` root per resolution, ``num_videos`` mp4 (H.264) files in each."""
    roots = {}
    for height, width in RESOLUTIONS:
        key = f"{height}x{width}"
        for index in range(num_videos):
            frames = synthetic_frames(num_frames, height, width, seed=index)
            write_video(root / key / "clips" / f"video{index:03d}.mp4", frames)
        roots[key] = root / key
    return roots


def bench_overhead(roots: dict[str, Path], rounds: int) -> dict[str, Any]:
    """Dataset vs bare torchcodec per 16-frame clip, and frames/s of both backends."""
    return {key: _bench_resolution(root, rounds) for key, root in roots.items()}


def _bench_resolution(root: Path, rounds: int) -> dict[str, Any]:
    from torchcodec.decoders import VideoDecoder  # type: ignore[attr-defined]

    sampler = UniformClipSampler(CLIP_LEN, num_clips=1)
    dataset_u8 = VideoFolder(root, clip_sampler=sampler, backend="torchcodec", clip_dtype="uint8")
    dataset_f32 = VideoFolder(root, clip_sampler=sampler, backend="torchcodec")
    paths = [dataset_u8.video_path(i) for i in range(len(dataset_u8))]

    def bare(index: int) -> Tensor:
        decoder: Any = VideoDecoder(str(paths[index]))
        num_frames: int = decoder.metadata.num_frames
        indices = sampler(num_frames)[0].tolist()
        frames: Tensor = decoder.get_frames_at(indices).data
        return frames

    def reader(index: int, backend: Any) -> Tensor:
        with VideoReader(paths[index], backend=backend) as video:
            return video.get_frames(sampler(video.num_frames)[0])

    ways: dict[str, Callable[[int], Tensor]] = {
        "bare_torchcodec": bare,
        "dataset_uint8": lambda i: dataset_u8[i].clip,
        "dataset_float32": lambda i: dataset_f32[i].clip,
        "reader_torchcodec": lambda i: reader(i, "torchcodec"),
        "reader_pyav": lambda i: reader(i, "pyav"),
    }
    # Same frames from every path (uint8 ones compared exactly).
    for index in range(len(paths)):
        reference = bare(index)
        assert torch.equal(dataset_u8[index].clip.permute(1, 0, 2, 3), reference)
        assert torch.equal(reader(index, "pyav"), reference)
    totals: dict[str, list[float]] = {name: [] for name in ways}
    for round_number in range(rounds + 1):
        spent = dict.fromkeys(ways, 0.0)
        for index in range(len(paths)):
            for name, way in ways.items():
                start = time.perf_counter()
                way(index)
                spent[name] += time.perf_counter() - start
        if round_number:  # round 0 warms caches up
            for name in ways:
                totals[name].append(spent[name])
    clips = len(paths)
    median = {name: statistics.median(values) for name, values in totals.items()}
    return {
        "clips_per_round": clips,
        "ms_per_clip": {name: 1000 * value / clips for name, value in median.items()},
        "frames_per_s": {name: CLIP_LEN * clips / value for name, value in median.items()},
        "ratio_dataset_uint8_vs_bare": median["dataset_uint8"] / median["bare_torchcodec"],
        "ratio_dataset_float32_vs_bare": median["dataset_float32"] / median["bare_torchcodec"],
        "ratio_per_round_uint8": [
            a / b for a, b in zip(totals["dataset_uint8"], totals["bare_torchcodec"], strict=True)
        ],
    }


class TinyConv3dNet(nn.Module):
    """Four Conv3d-BN-ReLU layers and a linear head (used if bgdebias.models lacks one)."""

    def __init__(self, num_classes: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width_in = 3
        for width in (16, 32, 64, 128):
            layers += [
                nn.Conv3d(width_in, width, 3, stride=(1, 2, 2), padding=1, bias=False),
                nn.BatchNorm3d(width),
                nn.ReLU(inplace=True),
            ]
            width_in = width
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width_in, num_classes)

    def forward(self, clip: Tensor) -> Tensor:
        logits: Tensor = self.head(self.body(clip).mean(dim=(2, 3, 4)))
        return logits


class _Small3DClassifier(nn.Module):
    def __init__(self, num_classes: int) -> None:
        super().__init__()
        from bgdebias.models import Small3DCNN

        self.backbone = Small3DCNN()
        self.head = nn.Linear(self.backbone.embed_dim, num_classes)

    def forward(self, clip: Tensor) -> Tensor:
        logits: Tensor = self.head(self.backbone(clip).pooled)
        return logits


def build_model(num_classes: int) -> tuple[nn.Module, str]:
    try:
        return _Small3DClassifier(num_classes), "bgdebias.models.Small3DCNN + linear head"
    except (ImportError, AttributeError, TypeError):
        return TinyConv3dNet(num_classes), "TinyConv3dNet (4 Conv3d layers, in this script)"


def bench_data_wait(root: Path, steps: int, workers: int) -> dict[str, Any]:
    """Fraction of each training step spent waiting on the DataLoader."""
    torch.manual_seed(0)
    transform = ClipCompose([ResizeShortSideClip(64), CenterCropClip(64)])
    dataset = VideoFolder(root, clip_sampler=RandomClipSampler(8, stride=2), transform=transform)
    warmup, batch = 3, 16
    loader = DataLoader(
        dataset,
        batch_size=batch,
        sampler=RandomSampler(dataset, replacement=True, num_samples=(steps + warmup) * batch),
        num_workers=workers,
        persistent_workers=workers > 0,
    )
    model, model_name = build_model(num_classes=4)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    labels = torch.arange(batch) % 4
    waits: list[float] = []
    computes: list[float] = []
    iterator = iter(loader)
    for step in range(steps + warmup):
        start = time.perf_counter()
        sample = next(iterator)
        waited = time.perf_counter() - start
        assert sample.clip.shape == (batch, 3, 8, 64, 64)
        start = time.perf_counter()
        loss = nn.functional.cross_entropy(model(sample.clip), labels)
        optimizer.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]
        optimizer.step()
        computed = time.perf_counter() - start
        if step >= warmup:
            waits.append(waited)
            computes.append(computed)
    wait, compute = sum(waits), sum(computes)
    return {
        "workers": workers,
        "steps": steps,
        "model": model_name,
        "mean_step_s": (wait + compute) / steps,
        "mean_wait_s": wait / steps,
        "mean_compute_s": compute / steps,
        "wait_fraction": wait / (wait + compute),
    }


def bench_indexing(root: Path, num_videos: int) -> dict[str, Any]:
    """Index a UCF101-style split of placeholder files (no decoding)."""
    videos, lists = root / "videos", root / "lists"
    lists.mkdir(parents=True)
    classes = [f"Class{k:03d}" for k in range(101)]
    (lists / "classInd.txt").write_text("".join(f"{k + 1} {c}\n" for k, c in enumerate(classes)))
    lines = []
    for k in range(num_videos):
        name = classes[k % 101]
        lines.append(f"{name}/v_{name}_g{k // 101:03d}_c01.avi {k % 101 + 1}\n")
    for name in classes:
        (videos / name).mkdir(parents=True)
    for line in lines:
        (videos / line.split()[0]).touch()
    (lists / "trainlist01.txt").write_text("".join(lines))
    start = time.perf_counter()
    data = UCF101(videos, lists, clip_sampler=UniformClipSampler(8))
    cold = time.perf_counter() - start
    cache = root / "cache"
    UCF101(videos, lists, clip_sampler=UniformClipSampler(8), cache_dir=cache)
    start = time.perf_counter()
    UCF101(videos, lists, clip_sampler=UniformClipSampler(8), cache_dir=cache)
    cached = time.perf_counter() - start
    return {"videos": len(data), "index_s": cold, "index_from_cache_s": cached}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=12, help="videos per resolution")
    parser.add_argument("--frames", type=int, default=96, help="frames per video")
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds over the videos")
    parser.add_argument("--steps", type=int, default=30, help="timed training steps")
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    args = parser.parse_args()
    if args.quick:
        args.videos, args.frames, args.rounds, args.steps = 3, 32, 1, 3
    torch.set_num_threads(min(2, os.cpu_count() or 1))
    report: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "platform": platform.platform(),
            "torch_threads": torch.get_num_threads(),
        },
        "settings": vars(args) | {"json": str(args.json)},
    }
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        roots = encode_videos(Path(folder), args.videos, args.frames)
        report["encode_s"] = time.perf_counter() - start
        report["overhead"] = bench_overhead(roots, args.rounds)
        report["data_wait"] = bench_data_wait(roots["128x170"], args.steps, workers=2)
        report["indexing"] = bench_indexing(Path(folder) / "index", 13_000)
    print(json.dumps(report, indent=2))
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
