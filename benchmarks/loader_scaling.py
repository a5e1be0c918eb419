"""Loader scaling: clips/s of the pretraining dataset against ``num_workers``.

Writes UCF101-like videos itself (320x240, 25 fps, H.264 in ``.mp4``, 3 s each; see
``_video_corpus.py``), then reads them through the pretraining data loader exactly as
``pretrain`` builds it (``build_pretrain_dataset`` for ``dataset="folder"``: one window of
2T = 32 frames per video, converted to float, resized to a short side of 128 and centre
cropped; the loop's batch sampler and ``collate_videos``) with 0, 1 and 2 workers.

For each worker count: clips/s over the timed batches (after one untimed batch, which
includes starting the workers), clips/s per worker, and the CPU time spent per clip (each
item's and each batch's process time, measured in the process that runs it and summed in
shared memory). On a busy machine clips/s falls with the share of the cores the run gets,
while CPU time per clip changes much less; it gives the cores a GPU needs:
``cores = batch / step_time * cpu_s_per_clip``.

Then where a clip's CPU time goes (decoding alone, without the float conversion, resize and
crop) and one knob the loader supports: files stored at the loader's working resolution
(short side 128, 170x128) instead of 320x240, which shrinks both decoding and resizing.

Run from the repository root::

    python benchmarks/loader_scaling.py --json loader_scaling.json   # about 3 min on 2 busy cores
    python benchmarks/loader_scaling.py --quick                      # smoke run, seconds
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import Dataset

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _pretrain_step import loader_over
from _video_corpus import CorpusSpec, write_corpus
from speed_benchmark import machine_info

from bgdebias.data.datasets.registry import build_video_dataset
from bgdebias.data.sampling import RandomClipSampler
from bgdebias.training import (
    PretrainConfig,
    ResolvedPretrainConfig,
    build_pretrain_dataset,
    collate_videos,
)

#: Step times (s) of a GPU for which the report works out the cores needed.
STEP_TIMES_S = (0.1, 0.2, 0.5)
#: Batch of the worked example (the GPU benchmark's).
EXAMPLE_BATCH = 64


@dataclass(frozen=True)
class Settings:
    """What one run measures.

    Attributes:
        corpus: The UCF101-like videos.
        small_corpus: The same content stored at the loader's working resolution.
        workers: Worker counts to measure.
        num_frames: Frames per view (the loader reads 2T per video).
        size: Crop size of the views (the loader crops 8/7 of it).
        batch_size: Clips per batch.
        timed_batches: Timed batches per measurement, after one untimed batch.
    """

    corpus: CorpusSpec = field(default_factory=lambda: CorpusSpec(videos=8, frames=75))
    small_corpus: CorpusSpec = field(
        default_factory=lambda: CorpusSpec(videos=8, frames=75, height=128, width=170)
    )
    workers: tuple[int, ...] = (0, 1, 2)
    num_frames: int = 16
    size: int = 112
    batch_size: int = 4
    timed_batches: int = 3


QUICK = Settings(
    corpus=CorpusSpec(videos=2, frames=12, height=48, width=64),
    small_corpus=CorpusSpec(videos=2, frames=12, height=32, width=42),
    workers=(0, 1),
    num_frames=4,
    size=32,
    batch_size=2,
    timed_batches=1,
)


class CpuTimedDataset(Dataset[Any]):
    """A dataset that adds the CPU time of each item to counters shared with its workers.

    The counters live in shared memory created before the ``DataLoader`` forks its
    workers, so every worker adds to the same totals. :meth:`timed_collate` adds the
    batching's CPU time too.

    Args:
        dataset: The dataset to time (its items are returned unchanged).
    """

    def __init__(self, dataset: Any) -> None:
        self.dataset = dataset
        self.cpu_s = multiprocessing.Value("d", 0.0)
        self.items = multiprocessing.Value("q", 0)

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> Any:
        start = time.process_time()
        sample = self.dataset[index]
        self._add(time.process_time() - start, items=1)
        return sample

    def timed_collate(self, samples: Sequence[Any]) -> Tensor:
        """The loop's :func:`~bgdebias.training.data.collate_videos`, timed."""
        start = time.process_time()
        batch = collate_videos(samples)
        self._add(time.process_time() - start, items=0)
        return batch

    def cpu_s_per_item(self) -> float:
        """CPU seconds per item so far (items and their batching)."""
        return float(self.cpu_s.value) / max(1, int(self.items.value))

    def _add(self, seconds: float, *, items: int) -> None:
        with self.cpu_s.get_lock():
            self.cpu_s.value += seconds
        with self.items.get_lock():
            self.items.value += items


def measure_loader(dataset: Any, config: PretrainConfig, timed_batches: int) -> dict[str, Any]:
    """Clips/s and CPU seconds per clip of the loop's loader over ``dataset``.

    Args:
        dataset: The pretraining dataset (indexed once, shared by the measurements).
        config: Its configuration (``num_workers``, ``batch_size``).
        timed_batches: Batches timed after one untimed batch.

    Returns:
        ``clips_per_s`` and ``clips_per_s_per_worker`` over the timed batches,
        ``cpu_s_per_clip`` over all batches (the items' and the batching's CPU time, in
        whichever process ran them), ``wall_s`` and ``clips``.
    """
    workers = config.num_workers
    timed = CpuTimedDataset(dataset)
    loader = loader_over(
        timed,
        config,
        steps=timed_batches + 1,
        pin_memory=False,
        collate_fn=timed.timed_collate,
    )
    iterator = iter(loader)
    next(iterator)
    start = time.perf_counter()
    clips = 0
    for batch in iterator:
        clips += batch.shape[0]
    wall = time.perf_counter() - start
    rate = clips / wall
    return {
        "num_workers": workers,
        "clips": clips,
        "wall_s": wall,
        "clips_per_s": rate,
        "clips_per_s_per_worker": rate / max(workers, 1),
        "cpu_s_per_clip": timed.cpu_s_per_item(),
    }


def measure_decoding_only(root: Path, config: PretrainConfig, clips: int) -> dict[str, Any]:
    """CPU seconds per clip of decoding alone (same windows, uint8, no transform)."""
    dataset = build_video_dataset(
        "folder",
        root,
        split="train",
        clip_sampler=RandomClipSampler(2 * (config.num_frames or 16), stride=config.frame_stride),
        clip_dtype="uint8",
    )
    dataset[0]  # untimed: opens the decoder libraries
    start = time.process_time()
    for index in range(clips):
        dataset[index % len(dataset)]
    return {"clips": clips, "cpu_s_per_clip": (time.process_time() - start) / clips}


def cores_needed(cpu_s_per_clip: float, batch_size: int, step_time_s: float) -> float:
    """Loader cores that keep a GPU fed: ``batch_size / step_time_s * cpu_s_per_clip``.

    Example:
        >>> round(cores_needed(0.05, 64, 0.1), 3)  # 640 clips/s at 50 ms of CPU each
        32.0
    """
    if step_time_s <= 0:
        raise ValueError(f"`step_time_s` must be positive, got {step_time_s}")
    return batch_size / step_time_s * cpu_s_per_clip


def config_for(settings: Settings, root: Path, workers: int) -> ResolvedPretrainConfig:
    """The pretraining configuration whose loader is measured."""
    return PretrainConfig(
        dataset="folder",
        root=str(root),
        num_frames=settings.num_frames,
        size=settings.size,
        batch_size=settings.batch_size,
        num_workers=workers,
    ).resolved()


def run(settings: Settings, folder: Path) -> dict[str, Any]:
    """Encode both corpora and measure; returns the report."""
    started = time.perf_counter()
    load_start = os.getloadavg()
    corpus = write_corpus(folder / "full", settings.corpus)
    small = write_corpus(folder / "small", settings.small_corpus)
    print("corpora written", file=sys.stderr, flush=True)
    base = config_for(settings, corpus.root, 0)
    dataset = build_pretrain_dataset(base)
    dataset[0]  # loads the decoder libraries once, before the workers fork
    scaling = []
    for workers in settings.workers:
        config = config_for(settings, corpus.root, workers)
        scaling.append(measure_loader(dataset, config, settings.timed_batches))
        print(f"num_workers={workers} done", file=sys.stderr, flush=True)
    clips = settings.batch_size * settings.timed_batches
    decoding = measure_decoding_only(corpus.root, base, clips)
    small_config = config_for(settings, small.root, 0)
    small_dataset = build_pretrain_dataset(small_config)
    small_dataset[0]
    knob = measure_loader(small_dataset, small_config, settings.timed_batches)
    report: dict[str, Any] = {
        "machine": machine_info(torch.device("cpu")),
        "load_average": {"start": load_start, "end": os.getloadavg()},
        "settings": dataclasses.asdict(settings),
        "corpus": corpus.describe(),
        "small_corpus": small.describe(),
        "scaling": scaling,
        "decoding_only": decoding,
        "small_files": knob,
        "wall_s": time.perf_counter() - started,
    }
    report["implications"] = implications(report)
    return report


def implications(report: dict[str, Any]) -> dict[str, Any]:
    """Decoding's share of a clip, the knob's saving, and cores per GPU for a few step times."""
    reference = next(
        (row for row in report["scaling"] if row["num_workers"] == 0), report["scaling"][0]
    )
    per_clip = reference["cpu_s_per_clip"]
    out: dict[str, Any] = {
        "formula": "cores = batch / step_time_s * cpu_s_per_clip (plus one for the main process)",
        "cpu_s_per_clip": per_clip,
        "decoding_share": None,
        "small_files_cpu_ratio": None,
        "cores_for_batch_64": {},
    }
    if per_clip:
        out["decoding_share"] = report["decoding_only"]["cpu_s_per_clip"] / per_clip
        small = report["small_files"]["cpu_s_per_clip"]
        out["small_files_cpu_ratio"] = None if small is None else small / per_clip
        out["cores_for_batch_64"] = {
            f"{step:g}": cores_needed(per_clip, EXAMPLE_BATCH, step) for step in STEP_TIMES_S
        }
    return out


def format_report(report: dict[str, Any]) -> str:
    """The report as Markdown tables."""
    machine, corpus, small = report["machine"], report["corpus"], report["small_corpus"]
    settings = report["settings"]
    load = " / ".join(f"{report['load_average'][when][0]:.2f}" for when in ("start", "end"))
    lines = [
        "## Machine",
        "",
        f"CPU {machine['cpu_model']}, {machine['cpu_cores_available']} cores available; "
        f"torch {machine['torch']}; 1-minute load average at start / end {load}; "
        f"wall time {report['wall_s']:.0f} s",
        "",
        f"Videos: {corpus['videos']} files {corpus['width']}x{corpus['height']}, "
        f"{corpus['frames']} frames ({corpus['seconds_per_video']:g} s), {corpus['codec']}, "
        f"{corpus['mean_kbps']:.0f} kbit/s on average. Loader: 2 x {settings['num_frames']} "
        f"frames per clip, batch {settings['batch_size']}, {settings['timed_batches']} timed "
        "batches after one untimed.",
        "",
        "| num_workers | clips/s | clips/s per worker | CPU per clip |",
        "|---|---|---|---|",
    ]
    for row in report["scaling"]:
        lines.append(
            f"| {row['num_workers']} | {row['clips_per_s']:.1f} | "
            f"{row['clips_per_s_per_worker']:.1f} | {_ms(row['cpu_s_per_clip'])} |"
        )
    found = report["implications"]
    knob = report["small_files"]
    lines += [
        "",
        "| per clip, 0 workers | CPU per clip |",
        "|---|---|",
        f"| whole item ({corpus['width']}x{corpus['height']} files) | "
        f"{_ms(found['cpu_s_per_clip'])} |",
        f"| decoding only (uint8, no transform) | "
        f"{_ms(report['decoding_only']['cpu_s_per_clip'])} |",
        f"| whole item, files stored at {small['width']}x{small['height']} | "
        f"{_ms(knob['cpu_s_per_clip'])} ({knob['clips_per_s']:.1f} clips/s) |",
        "",
        f"Decoding share of a clip's CPU time: {_share(found['decoding_share'])}; files at "
        f"{small['width']}x{small['height']} cost {_share(found['small_files_cpu_ratio'])} "
        f"of the CPU time of {corpus['width']}x{corpus['height']} files.",
        "",
        f"Feeding a GPU: {found['formula']}.",
    ]
    for step, cores in found["cores_for_batch_64"].items():
        lines.append(f"- batch {EXAMPLE_BATCH}, step {step} s: {cores:.1f} cores")
    return "\n".join(lines)


def _ms(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds * 1000:.1f} ms"


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run (seconds)")
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # as in a DataLoader worker
    with tempfile.TemporaryDirectory(prefix="loader_scaling_") as folder:
        report = run(QUICK if args.quick else Settings(), Path(folder))
    report["command"] = " ".join(["python", "benchmarks/loader_scaling.py", *sys.argv[1:]])
    print(format_report(report))
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
