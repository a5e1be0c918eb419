"""``benchmarks/loader_scaling.py`` and its video corpus: ``--quick`` end to end, helpers by hand.

No timing is asserted; only the report's structure, positive figures, and that the CPU
time of items decoded in worker processes reaches the main process.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from torch.utils.data import DataLoader

from benchmark_scripts import load_benchmark, run_quick
from bgdebias.data import VideoSample

scaling = load_benchmark("loader_scaling")
corpus_module = sys.modules["_video_corpus"]  # imported by loader_scaling


def _positive(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


@pytest.mark.slow
def test_quick_run_reports_every_figure(tmp_path: Path) -> None:
    report, stdout = run_quick("loader_scaling", tmp_path / "loader.json")
    assert [row["num_workers"] for row in report["scaling"]] == [0, 1]
    for row in (*report["scaling"], report["small_files"]):
        assert row["clips"] == 2  # one timed batch of 2 clips
        assert _positive(row["clips_per_s"])
        assert _positive(row["clips_per_s_per_worker"])
        assert _positive(row["cpu_s_per_clip"])
    assert _positive(report["decoding_only"]["cpu_s_per_clip"])
    assert (report["corpus"]["width"], report["small_corpus"]["width"]) == (64, 42)
    found = report["implications"]
    assert _positive(found["decoding_share"])
    assert _positive(found["small_files_cpu_ratio"])
    assert set(found["cores_for_batch_64"]) == {"0.1", "0.2", "0.5"}
    assert all(_positive(cores) for cores in found["cores_for_batch_64"].values())
    assert "| num_workers | clips/s | clips/s per worker | CPU per clip |" in stdout
    assert "cores = batch / step_time_s * cpu_s_per_clip" in stdout


def test_cores_needed() -> None:
    assert scaling.cores_needed(0.05, 64, 0.1) == pytest.approx(32.0)
    assert scaling.cores_needed(0.02, 32, 0.4) == pytest.approx(1.6)
    with pytest.raises(ValueError, match=r"`step_time_s` must be positive, got 0"):
        scaling.cores_needed(0.05, 64, 0)


class _Squares(torch.utils.data.Dataset[VideoSample]):
    def __len__(self) -> int:
        return 6

    def __getitem__(self, index: int) -> VideoSample:
        matrix = torch.full((64, 64), float(index))
        for _ in range(20):  # some CPU work to time
            matrix = torch.tanh(matrix @ matrix)
        clip = torch.full((3, 2, 4, 4), float(index))
        return VideoSample(clip=clip, label=0, video_index=index, path=f"{index}.mp4")


def test_cpu_time_of_worker_items_is_summed_in_the_main_process() -> None:
    timed = scaling.CpuTimedDataset(_Squares())
    loader = DataLoader(timed, batch_size=3, num_workers=1, collate_fn=timed.timed_collate)
    batches = list(loader)
    assert [tuple(batch.shape) for batch in batches] == [(3, 3, 2, 4, 4)] * 2
    assert int(timed.items.value) == 6  # counted in the worker, read here
    assert timed.cpu_s_per_item() > 0


def test_moving_texture_is_deterministic_and_moves() -> None:
    clip = corpus_module.moving_texture(4, 24, 32, seed=3)
    assert clip.shape == (4, 24, 32, 3)
    assert clip.dtype == torch.uint8
    assert torch.equal(clip, corpus_module.moving_texture(4, 24, 32, seed=3))
    assert not torch.equal(clip[0], clip[1])  # the texture pans, the square moves


def test_write_corpus_lays_out_the_folder_dataset(tmp_path: Path) -> None:
    from bgdebias.data import read_video_metadata

    spec = corpus_module.CorpusSpec(videos=2, frames=5, height=16, width=24)
    corpus = corpus_module.write_corpus(tmp_path, spec)
    files = sorted((tmp_path / "train" / "clips").iterdir())
    assert [path.name for path in files] == ["video000.mp4", "video001.mp4"]
    metadata = read_video_metadata(files[0])
    assert (metadata.num_frames, metadata.height, metadata.width) == (5, 16, 24)
    summary = corpus.describe()
    assert summary["seconds_per_video"] == pytest.approx(0.2)
    assert _positive(summary["mean_kbps"])


@pytest.mark.parametrize(
    ("changes", "options", "message"),
    [
        ({"videos": 0}, {}, r"`videos` must be at least 1, got 0"),
        ({"fps": 0}, {}, r"`fps` must be at least 1, got 0"),
        ({}, {"processes": 0}, r"`processes` must be at least 1, got 0"),
        ({"height": 15}, {}, r"the frame size must be even and at least 2, got 15x320"),
    ],
)
def test_write_corpus_rejects_bad_sizes(
    tmp_path: Path, changes: dict[str, int], options: dict[str, int], message: str
) -> None:
    spec = corpus_module.CorpusSpec(**changes)
    with pytest.raises(ValueError, match=message):
        corpus_module.write_corpus(tmp_path, spec, **options)
