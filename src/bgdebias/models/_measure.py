"""Facts the docs show: stage shapes of every backbone, Small3DCNN step time.

The documentation computes its stage table with :func:`stage_rows` when it is built (the
``backbone-stage-table`` directive); ``python -m bgdebias.models._measure table`` prints
the same table, and ``python -m bgdebias.models._measure step-time`` measures the training
step whose time the backbone page quotes.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence

import torch

from bgdebias.models.factory import BACKBONE_STAGES, video_backbone
from bgdebias.models.small3d import Small3DCNN

TABLE_FRAMES = (8, 16)
TABLE_SIZE = 112


@torch.no_grad()
def stage_shapes(name: str, frames: int, size: int) -> dict[str, tuple[int, int, int, int]]:
    """``(C_s, T_s, H_s, W_s)`` of every stage of backbone ``name`` for one clip."""
    backbone = video_backbone(name).eval()
    maps = backbone.forward_stages(torch.zeros(1, 3, frames, size, size))
    return {stage: (m.shape[1], m.shape[2], m.shape[3], m.shape[4]) for stage, m in maps.items()}


def stage_rows(
    frames: Sequence[int] = TABLE_FRAMES, size: int = TABLE_SIZE
) -> list[tuple[str, str, list[tuple[int, int, int, int]]]]:
    """``(backbone, stage, [(C_s, T_s, H_s, W_s) per frame count])`` for every stage.

    Backbones in the order of :data:`~bgdebias.models.BACKBONE_STAGES`, stages input side
    first; one clip of ``T x size x size`` per frame count ``T`` in ``frames``.
    """
    rows = []
    for name in BACKBONE_STAGES:
        shapes = {t: stage_shapes(name, t, size) for t in frames}
        for stage in BACKBONE_STAGES[name]:
            rows.append((name, stage, [shapes[t][stage] for t in frames]))
    return rows


def stage_table(frames: Sequence[int] = TABLE_FRAMES, size: int = TABLE_SIZE) -> str:
    """The Markdown table of every backbone's stage shapes (cells ``(C_s, T_s, H_s, W_s)``)."""
    header = "| backbone | stage | " + " | ".join(f"{t} x {size} x {size}" for t in frames)
    lines = [header + " |", "|---|---|" + "---|" * len(frames)]
    for name, stage, shapes in stage_rows(frames, size):
        cells = []
        for shape in shapes:
            cell = "(" + ", ".join(str(d) for d in shape) + ")"
            cells.append(cell + (" **T_s < 2**" if shape[1] < 2 else ""))
        lines.append(f"| {name} | {stage} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def small3d_step_time(
    batch: Sequence[int] = (16, 3, 8, 64, 64), *, threads: int = 2, warmup: int = 3, steps: int = 10
) -> float:
    """Median seconds of a Small3DCNN training step (forward, backward, SGD step)."""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = Small3DCNN()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    clips = torch.randn(*batch)
    times = []
    for step in range(warmup + steps):
        started = time.perf_counter()
        out = model(clips)
        loss = out.pooled.square().mean() + out.features.square().mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if step >= warmup:
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bgdebias.models._measure")
    parser.add_argument("what", choices=["table", "step-time"])
    args = parser.parse_args(argv)
    if args.what == "table":
        print(stage_table())
    else:
        seconds = small3d_step_time()
        print(f"Small3DCNN step (16, 3, 8, 64, 64), 2 threads: median {seconds:.3f} s")


if __name__ == "__main__":
    main()
