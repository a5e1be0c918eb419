"""Time each block compiled with ``torch.compile(fullgraph=True)`` against eager mode.

Blocks in their default configuration: ``StaticDynamicDecoupler`` and
``SemiNegativePairMixer`` on clips ``(16, 3, 16, 112, 112)``, ``MotionAwareDecomposition`` on
r3d_18 layer3-sized features ``(16, 256, 8, 14, 14)``, ``DualBackgroundLoss`` on ``(16, 128)``
embeddings with a queue of 16384. One line per block: eager and compiled medians (forward
only, ``torch.utils.benchmark.Timer.blocked_autorange`` after one untimed warm-up call), the
speed-up, and the time of the first compiled call (compilation).

In eager mode the blocks check their input for NaN/Inf (one host synchronisation); compiled
code skips that check, so part of a speed-up on a GPU is the synchronisation. The compiled
mixer draws its partners in the graph (a different draw from eager mode for one seed).

Run from the repository root::

    python benchmarks/compile_benchmark.py                # inductor, the sizes above
    python benchmarks/compile_benchmark.py --quick        # tiny sizes, a smoke run
    python benchmarks/compile_benchmark.py --device cuda --json compile.json
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.utils.benchmark import Timer

from bgdebias import (
    DualBackgroundLoss,
    MotionAwareDecomposition,
    SemiNegativePairMixer,
    StaticDynamicDecoupler,
)


@dataclass(frozen=True)
class Sizes:
    clips: tuple[int, ...]
    features: tuple[int, ...]
    batch: int
    dim: int
    queue: int


FULL = Sizes(
    clips=(16, 3, 16, 112, 112), features=(16, 256, 8, 14, 14), batch=16, dim=128, queue=16384
)
QUICK = Sizes(clips=(4, 3, 4, 32, 32), features=(4, 32, 4, 7, 7), batch=4, dim=16, queue=64)


def cases(
    sizes: Sizes, device: torch.device
) -> dict[str, tuple[nn.Module, tuple[Any, ...], dict[str, Any]]]:
    """Each block with its inputs: ``name -> (module, args, kwargs)``."""
    generator = torch.Generator().manual_seed(0)
    clips = torch.rand(sizes.clips, generator=generator).to(device)
    features = torch.randn(sizes.features, generator=generator).to(device)
    q, k, m, b = torch.randn(4, sizes.batch, sizes.dim, generator=generator).to(device).unbind(0)
    queue = torch.randn(sizes.queue, sizes.dim, generator=generator).to(device)
    loss_inputs = {"mixed_key": m, "background_key": b, "micro_query": q, "micro_key": k}
    return {
        "StaticDynamicDecoupler": (StaticDynamicDecoupler(), (clips,), {}),
        "SemiNegativePairMixer": (SemiNegativePairMixer(), (clips,), {}),
        "MotionAwareDecomposition": (MotionAwareDecomposition(), (features,), {}),
        "DualBackgroundLoss": (DualBackgroundLoss(), (q, k), {**loss_inputs, "queue": queue}),
    }


def median_seconds(call: Callable[[], object], device: torch.device, min_run_time: float) -> float:
    call()  # warm-up
    _synchronize(device)
    timer = Timer(
        stmt="call(); sync()", globals={"call": call, "sync": lambda: _synchronize(device)}
    )
    return float(timer.blocked_autorange(min_run_time=min_run_time).median)


def bench(
    name: str,
    module: nn.Module,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    *,
    backend: str,
    device: torch.device,
    min_run_time: float,
) -> dict[str, Any]:
    module = module.to(device)
    compiled = torch.compile(module, backend=backend, fullgraph=True)
    with torch.no_grad():
        start = time.perf_counter()
        compiled(*args, **kwargs)
        _synchronize(device)
        compile_seconds = time.perf_counter() - start
        eager = median_seconds(lambda: module(*args, **kwargs), device, min_run_time)
        fast = median_seconds(lambda: compiled(*args, **kwargs), device, min_run_time)
    return {
        "block": name,
        "eager_ms": 1e3 * eager,
        "compiled_ms": 1e3 * fast,
        "speedup": eager / fast,
        "compile_s": compile_seconds,
    }


def format_line(row: dict[str, Any]) -> str:
    return (
        f"{row['block']:<26} eager {row['eager_ms']:9.3f} ms   "
        f"compiled {row['compiled_ms']:9.3f} ms   x{row['speedup']:5.2f}   "
        f"first call {row['compile_s']:6.1f} s"
    )


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (a smoke run)")
    parser.add_argument("--device", default="cpu", help="torch device (default: cpu)")
    parser.add_argument("--backend", default="inductor", help="torch.compile backend")
    parser.add_argument("--min-run-time", type=float, default=None, help="seconds per timing")
    parser.add_argument("--blocks", nargs="*", default=None, help="only these blocks (by name)")
    parser.add_argument("--json", default=None, help="also write the rows to this JSON file")
    options = parser.parse_args(argv)
    device = torch.device(options.device)
    sizes = QUICK if options.quick else FULL
    min_run_time = options.min_run_time or (0.05 if options.quick else 1.0)
    print(
        f"torch {torch.__version__}, device {device}, backend {options.backend}, threads "
        f"{torch.get_num_threads()}, {'quick' if options.quick else 'full'} sizes"
    )
    rows = []
    for name, (module, args, kwargs) in cases(sizes, device).items():
        if options.blocks and name not in options.blocks:
            continue
        torch.compiler.reset()
        row = bench(
            name,
            module,
            args,
            kwargs,
            backend=options.backend,
            device=device,
            min_run_time=min_run_time,
        )
        print(format_line(row), flush=True)
        rows.append(row)
    if options.json:
        with open(options.json, "w") as handle:
            json.dump(
                {
                    "torch": torch.__version__,
                    "device": str(device),
                    "backend": options.backend,
                    "quick": options.quick,
                    "rows": rows,
                },
                handle,
                indent=2,
            )


if __name__ == "__main__":
    main()
