"""GPU throughput of pretraining: clips/s and peak memory of plain MoCo, FAME and the full method.

For each backbone (r3d_18, r2plus1d_18), ``torch.compile`` off and on, and method
(``moco``, ``fame``, ``full``), one pretraining step as ``pretrain`` runs it (see
``_pretrain_step.py``: bf16 autocast, SGD, queue 16384, clips 16 x 112 x 112, batch 64;
here also ``channels_last_3d``), fed from two sources:

- ``memory``: one batch of random videos kept in pinned host memory and copied to the GPU
  each step, as the loop copies the loader's batches (no decoding: the GPU's own rate);
- ``video``: the pretraining data loader (``build_pretrain_dataset``, ``num_workers``
  workers) over H.264 files this script writes itself (UCF101-like: 320x240, 25 fps,
  4 s each), so decoding is in the loop.

Each configuration: warm-up steps on the in-memory batch (they include compiling), then
timed steps, each ending with ``torch.cuda.synchronize``; peak memory is
``torch.cuda.max_memory_allocated`` over the timed steps (reset before them). The video
source takes one untimed batch (the workers' first round), then ``max(timed steps,
workers)`` timed steps, so that its window spans a full round of the workers. Reported:
median step time, clips/s (batch / median step), clips/s over the wall time of the timed
window, the share of that window spent waiting for the loader, peak memory, and the
ratios full / moco and fame / moco (target: full at most 1.3x moco in time and memory).

A time budget (``--budget-s``, default 270 s) keeps the run under 5 minutes: a
configuration expected to end after it (judged by the last one of its kind; a compiled
one's first is guessed at 60 s) is recorded as skipped. Eager configurations run first,
then compiled ones, each backbone's ``moco``, ``full``, ``fame`` in that order. A
configuration that fails (a compile error, out of memory) is recorded with its error and
the run goes on.

Run from the repository root::

    python benchmarks/gpu_throughput.py --json gpu_throughput.json   # needs a CUDA GPU
    python benchmarks/gpu_throughput.py --quick                      # CPU smoke run, seconds
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import gc
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _pretrain_step import PretrainStep, batch_shape, in_memory_batch, loader_over
from _video_corpus import Corpus, CorpusSpec, write_corpus
from speed_benchmark import machine_info

from bgdebias.training import PretrainConfig, ResolvedPretrainConfig, build_pretrain_dataset

#: In the order measured: a cut by the time budget drops FAME's figures first.
METHODS = ("moco", "full", "fame")
SOURCES = ("memory", "video")
#: The issue's target: the full method at most this many times plain MoCo's step time and
#: peak memory.
TARGET_RATIO = 1.3
_MIB = 2.0**20


@dataclass(frozen=True)
class Settings:
    """What one run measures.

    Attributes:
        backbones: Backbones to measure.
        methods: Methods to measure (``moco`` is needed for the ratios).
        compile_modes: ``False`` for eager mode, ``True`` for ``torch.compile``.
        sources: ``"memory"`` and/or ``"video"`` (see the module docstring).
        num_frames: Frames per view (T).
        size: Crop size of each view.
        batch_size: Videos per step.
        warmup_steps: Untimed steps on the in-memory batch before timing.
        timed_steps: Timed steps per configuration.
        channels_last: Use ``channels_last_3d`` for the convolutions and the batch.
        compile_backend: ``torch.compile`` backend of the compiled configurations.
        queue_size: MoCo queue length (``None``: the real-data default, 16384).
        corpus: The encoded videos of the ``video`` source.
        num_workers: Loader workers (``None``: the CPU cores available minus one).
        budget_s: Seconds after which no configuration is expected to end (see above).
    """

    backbones: tuple[str, ...] = ("r3d_18", "r2plus1d_18")
    methods: tuple[str, ...] = METHODS
    compile_modes: tuple[bool, ...] = (False, True)
    sources: tuple[str, ...] = SOURCES
    num_frames: int = 16
    size: int = 112
    batch_size: int = 64
    warmup_steps: int = 3
    timed_steps: int = 10
    channels_last: bool = True
    compile_backend: str = "inductor"
    queue_size: int | None = None
    corpus: CorpusSpec = field(default_factory=CorpusSpec)
    num_workers: int | None = None
    budget_s: float = 270.0


#: The CPU smoke run of the test suite: the same code path on tiny sizes, eager mode only.
#: With ``--compile on`` its compiled configurations use the ``eager`` backend (Dynamo's
#: graph capture without code generation): seconds, where inductor would take minutes.
QUICK = Settings(
    backbones=("small3d",),
    compile_modes=(False,),
    num_frames=4,
    size=32,
    batch_size=4,
    warmup_steps=1,
    timed_steps=2,
    compile_backend="eager",
    queue_size=64,
    corpus=CorpusSpec(videos=4, frames=12, height=48, width=64, crf=23),
    num_workers=1,
    budget_s=240.0,
)


# --------------------------------------------------------------------------- measuring


def synchronize(device: torch.device) -> None:
    """Wait for the device's queued work (nothing to wait for on a CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed_steps(
    step: Callable[[Tensor], Tensor],
    next_batch: Callable[[], Tensor],
    count: int,
    device: torch.device,
) -> dict[str, Any]:
    """Run ``count`` steps, timing each from asking for its batch to the device's finish.

    Returns:
        ``step_s`` (per step), ``wait_s`` (per step, blocked in ``next_batch``),
        ``window_s`` (wall time of all steps) and ``peak_memory_mib`` (CUDA only, else
        ``None``; reset before the first step).
    """
    synchronize(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    step_s: list[float] = []
    wait_s: list[float] = []
    window_start = time.perf_counter()
    for _ in range(count):
        start = time.perf_counter()
        batch = next_batch()
        fetched = time.perf_counter()
        step(batch)
        synchronize(device)
        step_s.append(time.perf_counter() - start)
        wait_s.append(fetched - start)
    window = time.perf_counter() - window_start
    peak = torch.cuda.max_memory_allocated(device) / _MIB if device.type == "cuda" else None
    return {"step_s": step_s, "wait_s": wait_s, "window_s": window, "peak_memory_mib": peak}


def summarise(timing: dict[str, Any], batch_size: int) -> dict[str, Any]:
    """Median step, clips/s (from the median and from the wall time), waiting share."""
    median = statistics.median(timing["step_s"])
    window = timing["window_s"]
    return {
        "median_step_s": median,
        "clips_per_s": batch_size / median,
        "wall_clips_per_s": batch_size * len(timing["step_s"]) / window,
        "wait_share": sum(timing["wait_s"]) / window,
        "peak_memory_mib": timing["peak_memory_mib"],
        "step_s": timing["step_s"],
        "wait_s": timing["wait_s"],
        "window_s": window,
    }


def describe_error(error: BaseException) -> str:
    """``"Type: first line of the message"``, at most 300 characters."""
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}"[:300]


@dataclass
class Unit:
    """One (backbone, compile, method): built and warmed up once, timed on each source."""

    backbone: str
    compiled: bool
    method: str

    def key(self) -> dict[str, Any]:
        return {"backbone": self.backbone, "compile": self.compiled, "method": self.method}


def config_of(
    settings: Settings, unit: Unit, corpus_root: Path, workers: int
) -> ResolvedPretrainConfig:
    """The pretraining configuration of a unit (real-data defaults, ``folder`` dataset)."""
    extra: dict[str, Any] = {}
    if settings.queue_size is not None:
        extra["queue_size"] = settings.queue_size
    return PretrainConfig(
        method=unit.method,  # type: ignore[arg-type]
        dataset="folder",
        root=str(corpus_root),
        backbone=unit.backbone,
        num_frames=settings.num_frames,
        size=settings.size,
        batch_size=settings.batch_size,
        num_workers=workers,
        **extra,
    ).resolved()


def run_unit(
    settings: Settings,
    unit: Unit,
    *,
    corpus_root: Path,
    dataset: Any,
    workers: int,
    device: torch.device,
) -> list[dict[str, Any]]:
    """Measure one unit on every source; errors are recorded, not raised."""
    rows = _measure_unit(
        settings, unit, corpus_root=corpus_root, dataset=dataset, workers=workers, device=device
    )
    _free(device)  # the unit's model, optimiser and batch went out of scope
    return rows


def _measure_unit(
    settings: Settings,
    unit: Unit,
    *,
    corpus_root: Path,
    dataset: Any,
    workers: int,
    device: torch.device,
) -> list[dict[str, Any]]:
    rows = [{**unit.key(), "source": source} for source in settings.sources]
    config = config_of(settings, unit, corpus_root, workers)
    pin = device.type == "cuda"
    try:
        torch.compiler.reset()  # a fresh compile per unit (Dynamo's cache limit)
        step = PretrainStep.build(
            config,
            device,
            channels_last=settings.channels_last,
            compile_backend=settings.compile_backend if unit.compiled else None,
        )
        host_batch = in_memory_batch(config, pin_memory=pin)
        warmup_s = []
        for _ in range(settings.warmup_steps):
            start = time.perf_counter()
            step(host_batch)
            synchronize(device)
            warmup_s.append(time.perf_counter() - start)
    except Exception as error:  # a compile error or OOM ends this unit only
        for row in rows:
            row.update(status="error", error=describe_error(error), trace=_trace())
        return rows
    for row in rows:
        row["warmup_s"] = warmup_s
        try:
            if row["source"] == "memory":
                timing = timed_steps(step, lambda: host_batch, settings.timed_steps, device)
            else:
                timing = _time_video(step, dataset, config, settings, workers, device)
            row.update(status="ok", **summarise(timing, settings.batch_size))
        except Exception as error:
            row.update(status="error", error=describe_error(error), trace=_trace())
    return rows


def _time_video(
    step: PretrainStep,
    dataset: Any,
    config: PretrainConfig,
    settings: Settings,
    workers: int,
    device: torch.device,
) -> dict[str, Any]:
    count = max(settings.timed_steps, workers)
    loader = loader_over(dataset, config, steps=count + 1, pin_memory=device.type == "cuda")
    iterator: Iterator[Tensor] = iter(loader)  # its workers stop when it is dropped
    step(next(iterator))  # the workers' first round: untimed
    synchronize(device)
    timing = timed_steps(step, lambda: next(iterator), count, device)
    timing["timed_steps"] = count
    return timing


def _trace() -> str:
    return traceback.format_exc()[-3000:]


def _free(device: torch.device) -> None:
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()


# --------------------------------------------------------------------------- ratios


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return numerator / denominator


def ratios(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """full / moco and fame / moco per (source, backbone, compile), with the target.

    Time ratios divide median step times (``time``) and mean step times over the timed
    window (``wall_time``); memory ratios divide peak memories. A ratio is ``None`` where
    either side failed, was skipped or has no memory figure (CPU).

    Example:
        >>> rows = [
        ...     {"source": "memory", "backbone": "r3d_18", "compile": False, "method": m,
        ...      "status": "ok", "median_step_s": s, "wall_clips_per_s": 64 / s,
        ...      "peak_memory_mib": mib}
        ...     for m, s, mib in (("moco", 0.1, 1000.0), ("full", 0.12, 1500.0))
        ... ]
        >>> [(r["full_vs_moco"], r["target_met"]) for r in ratios(rows)]
        [({'time': 1.2, 'wall_time': 1.2, 'memory': 1.5}, False)]
    """
    groups: dict[tuple[str, str, bool], dict[str, dict[str, Any]]] = {}
    for row in rows:
        if row.get("status") == "ok":
            key = (row["source"], row["backbone"], row["compile"])
            groups.setdefault(key, {})[row["method"]] = row
    out = []
    for (source, backbone, compiled), methods in groups.items():
        moco = methods.get("moco")
        entry: dict[str, Any] = {"source": source, "backbone": backbone, "compile": compiled}
        for method in ("full", "fame"):
            other = methods.get(method)
            if moco is None or other is None:
                entry[f"{method}_vs_moco"] = None
                continue
            entry[f"{method}_vs_moco"] = {
                "time": _rounded(_ratio(other["median_step_s"], moco["median_step_s"])),
                "wall_time": _rounded(_ratio(moco["wall_clips_per_s"], other["wall_clips_per_s"])),
                "memory": _rounded(_ratio(other["peak_memory_mib"], moco["peak_memory_mib"])),
            }
        full = entry.get("full_vs_moco")
        entry["target_met"] = None
        if full is not None and full["time"] is not None:
            met = full["time"] <= TARGET_RATIO
            if full["memory"] is not None:
                met = met and full["memory"] <= TARGET_RATIO
            entry["target_met"] = met
        out.append(entry)
    return out


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


# --------------------------------------------------------------------------- the report


def format_report(report: dict[str, Any]) -> str:
    """The report as Markdown: machine, one row per configuration, the ratios."""
    machine, settings = report["machine"], report["settings"]
    corpus = report.get("corpus")
    lines = [
        "## Machine",
        "",
        f"GPU {machine.get('gpu', 'none')}; CPU {machine['cpu_model']}, "
        f"{machine['cpu_cores_available']} cores available; torch {machine['torch']}, "
        f"Python {machine['python']}; {report['workers']} loader workers; "
        f"wall time {report['wall_s']:.0f} s",
        "",
        f"Batch {settings['batch_size']} x 3 x {settings['num_frames']} x {settings['size']} x "
        f"{settings['size']}, {'bf16 autocast, ' if machine['device'].startswith('cuda') else ''}"
        f"channels_last_3d {'on' if settings['channels_last'] else 'off'}, compile backend "
        f"{settings['compile_backend']}; {settings['warmup_steps']} warm-up steps, "
        f"{settings['timed_steps']} timed steps.",
    ]
    if corpus is not None:
        lines += [
            "",
            f"Videos: {corpus['videos']} files {corpus['width']}x{corpus['height']}, "
            f"{corpus['frames']} frames at {corpus['fps']} fps, {corpus['codec']}, "
            f"{corpus['mean_kbps']:.0f} kbit/s on average (encoded in {corpus['encode_s']:.0f} s).",
        ]
    for note in report["notes"]:
        lines += ["", f"Note: {note}"]
    lines += [
        "",
        "## Configurations",
        "",
        "| source | backbone | compile | method | median step | clips/s | clips/s (wall) "
        "| waiting for data | peak memory | first step | status |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in report["results"]:
        head = (
            f"| {row['source']} | {row['backbone']} | {'on' if row['compile'] else 'off'} "
            f"| {row['method']} |"
        )
        if row["status"] != "ok":
            reason = row.get("error") or row.get("reason", "")
            lines.append(f"{head} | | | | | | {row['status']}: {_cell(reason)} |")
            continue
        memory = row["peak_memory_mib"]
        lines.append(
            f"{head} {row['median_step_s'] * 1000:.1f} ms | {row['clips_per_s']:.1f} | "
            f"{row['wall_clips_per_s']:.1f} | {row['wait_share']:.0%} | "
            f"{'n/a' if memory is None else f'{memory / 1024:.2f} GiB'} | "
            f"{row['warmup_s'][0]:.1f} s | ok |"
        )
    lines += [
        "",
        f"## Ratios against plain MoCo (target: full <= {TARGET_RATIO}x in time and memory)",
        "",
        "| source | backbone | compile | full/moco time | full/moco time (wall) "
        "| full/moco memory | fame/moco time | fame/moco memory | target met |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for entry in report["ratios"]:
        full, fame = entry["full_vs_moco"] or {}, entry["fame_vs_moco"] or {}
        met = entry["target_met"]
        lines.append(
            f"| {entry['source']} | {entry['backbone']} | {'on' if entry['compile'] else 'off'} "
            f"| {_x(full.get('time'))} | {_x(full.get('wall_time'))} | {_x(full.get('memory'))} "
            f"| {_x(fame.get('time'))} | {_x(fame.get('memory'))} "
            f"| {'n/a' if met is None else ('yes' if met else 'NO')} |"
        )
    return "\n".join(lines)


def _x(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def _cell(text: str) -> str:
    return text.replace("|", "/").replace("\n", " ")


# --------------------------------------------------------------------------- main


def default_workers(settings: Settings) -> int:
    """Loader workers: ``settings.num_workers``, else the available cores minus one."""
    if settings.num_workers is not None:
        return settings.num_workers
    return max(1, len(os.sched_getaffinity(0)) - 1)


def fit_workers_to_shared_memory(
    workers: int, batch_bytes: int, free_bytes: int | None
) -> tuple[int, str | None]:
    """Fewer workers if their batches (2 in flight each) would not fit in ``/dev/shm``.

    Returns:
        The worker count and a note when it was lowered (``None`` otherwise).

    Example:
        >>> fit_workers_to_shared_memory(15, 800 * 2**20, 64 * 2**30)
        (15, None)
        >>> fit_workers_to_shared_memory(15, 800 * 2**20, 8 * 2**30)[0]
        3
    """
    if free_bytes is None:
        return workers, None
    fitting = max(0, int(free_bytes // (3 * batch_bytes)))
    if fitting >= workers:
        return workers, None
    return max(1, fitting), (
        f"/dev/shm has {free_bytes / 2**30:.1f} GiB free: {max(1, fitting)} loader workers "
        f"instead of {workers} (each holds up to 2 batches of {batch_bytes / 2**30:.2f} GiB)"
    )


def _shm_free() -> int | None:
    with contextlib.suppress(OSError):
        return shutil.disk_usage("/dev/shm").free
    return None


def units_of(settings: Settings) -> list[Unit]:
    """Eager configurations first, then compiled ones (a cut by the budget drops these)."""
    return [
        Unit(backbone, compiled, method)
        for compiled in settings.compile_modes
        for backbone in settings.backbones
        for method in settings.methods
    ]


def run(settings: Settings, device: torch.device, folder: Path) -> dict[str, Any]:
    """Encode the videos, measure every unit within the budget, return the report."""
    started = time.perf_counter()
    notes: list[str] = []
    workers = default_workers(settings)
    corpus: Corpus | None = None
    dataset = None
    if "video" in settings.sources:
        processes = max(1, min(workers, settings.corpus.videos))
        corpus = write_corpus(folder, settings.corpus, processes=processes)
        probe = config_of(settings, Unit(settings.backbones[0], False, "moco"), folder, workers)
        dataset = build_pretrain_dataset(probe)
        batch_bytes = math.prod(batch_shape(probe)) * 4  # float32
        workers, note = fit_workers_to_shared_memory(workers, batch_bytes, _shm_free())
        if note:
            notes.append(note)
    if device.type == "cuda":
        notes.append("the memory source's batch is copied from pinned host memory each step")
    rows: list[dict[str, Any]] = []
    durations: dict[bool, float] = {}
    for unit in units_of(settings):
        elapsed = time.perf_counter() - started
        # A compiled unit's first run is guessed at a minute (compiling r3d_18's steps).
        expected = durations.get(unit.compiled, 60.0 if unit.compiled else 0.0)
        if elapsed + expected > settings.budget_s:
            rows += [
                {**unit.key(), "source": source, "status": "skipped", "reason": "time budget"}
                for source in settings.sources
            ]
            continue
        print(f"{unit.backbone} compile={unit.compiled} {unit.method} ...", file=sys.stderr)
        unit_start = time.perf_counter()
        rows += run_unit(
            settings,
            unit,
            corpus_root=folder,
            dataset=dataset,
            workers=workers,
            device=device,
        )
        durations[unit.compiled] = time.perf_counter() - unit_start
    return {
        "machine": machine_info(device),
        "settings": dataclasses.asdict(settings),
        "workers": workers,
        "corpus": None if corpus is None else corpus.describe(),
        "cudnn_benchmark": torch.backends.cudnn.benchmark,
        "notes": notes,
        "results": rows,
        "ratios": ratios(rows),
        "target_ratio": TARGET_RATIO,
        "wall_s": time.perf_counter() - started,
    }


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny CPU smoke run (seconds)")
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")
    parser.add_argument("--budget-s", type=float, default=None, help="time budget (s)")
    parser.add_argument("--workers", type=int, default=None, help="loader workers")
    parser.add_argument("--timed-steps", type=int, default=None, help="timed steps per config")
    parser.add_argument("--backbones", nargs="+", default=None, help="only these backbones")
    parser.add_argument("--methods", nargs="+", default=None, choices=METHODS)
    parser.add_argument("--sources", nargs="+", default=None, choices=SOURCES)
    parser.add_argument(
        "--compile", choices=("off", "on", "both"), default=None, help="torch.compile modes"
    )
    return parser.parse_args(argv)


def settings_from(args: argparse.Namespace) -> Settings:
    """The run's settings: the full (or ``--quick``) defaults with the options applied."""
    settings = QUICK if args.quick else Settings()
    changes: dict[str, Any] = {}
    for name in ("budget_s", "timed_steps"):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    if args.workers is not None:
        changes["num_workers"] = args.workers
    for name in ("backbones", "methods", "sources"):
        if getattr(args, name):
            changes[name] = tuple(getattr(args, name))
    if args.compile is not None:
        changes["compile_modes"] = {"off": (False,), "on": (True,), "both": (False, True)}[
            args.compile
        ]
    return dataclasses.replace(settings, **changes)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point; returns the exit status."""
    args = _parse(argv)
    if not args.quick and not torch.cuda.is_available():
        print(
            "gpu_throughput.py: no CUDA device found; this benchmark needs a GPU "
            "(run it with --quick for the CPU smoke run)",
            file=sys.stderr,
        )
        return 2
    device = torch.device("cpu" if args.quick else "cuda")
    settings = settings_from(args)
    with tempfile.TemporaryDirectory(prefix="gpu_throughput_") as folder:
        report = run(settings, device, Path(folder))
    report["command"] = " ".join(["python", "benchmarks/gpu_throughput.py", *sys.argv[1:]])
    print(format_report(report))
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2, allow_nan=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
