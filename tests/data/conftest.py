"""Tiny encoded videos and fake dataset trees in the official layouts (session-scoped).

Every video frame ``t`` is a smooth pattern plus a uniform level ``FRAME_LEVEL_STEP * t``
in the red channel, so :func:`frame_ids` reads back which frame was decoded.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from torch import Tensor

from bgdebias.data import write_video

VIDEO_FRAMES = 12
VIDEO_HEIGHT = 32
VIDEO_WIDTH = 48
FRAME_LEVEL_BASE = 8
FRAME_LEVEL_STEP = 20

_CODEC_OF = {".mp4": "libx264", ".avi": "mpeg4", ".webm": "libvpx-vp9", ".mkv": "libx264"}


def make_frames(num_frames: int = VIDEO_FRAMES, *, seed: int = 0) -> Tensor:
    """Frames ``(T, H, W, 3)`` uint8 whose red level encodes the frame index."""
    generator = torch.Generator().manual_seed(seed)
    ys = torch.linspace(0, 1, VIDEO_HEIGHT).view(-1, 1)
    xs = torch.linspace(0, 1, VIDEO_WIDTH).view(1, -1)
    phase = float(torch.rand(1, generator=generator))
    frames = torch.empty(num_frames, VIDEO_HEIGHT, VIDEO_WIDTH, 3)
    for t in range(num_frames):
        frames[t, :, :, 0] = FRAME_LEVEL_BASE + FRAME_LEVEL_STEP * t
        frames[t, :, :, 1] = 60 + 120 * (xs + phase * ys).frac()
        frames[t, :, :, 2] = 40 + 150 * ys.expand(-1, VIDEO_WIDTH)
    return frames.round().clamp(0, 255).to(torch.uint8)


def frame_ids(clip: Tensor, layout: str = "CTHW") -> list[int]:
    """Which frames a decoded clip holds, from the mean red level of each frame."""
    red = clip[0] if layout == "CTHW" else clip[:, 0]
    levels = red.float().mean(dim=(-2, -1))
    scale = 1.0 if not clip.is_floating_point() or float(levels.max()) > 1.5 else 255.0
    return [round((float(v) * scale - FRAME_LEVEL_BASE) / FRAME_LEVEL_STEP) for v in levels]


def write_test_video(path: Path, num_frames: int = VIDEO_FRAMES, *, seed: int = 0) -> Path:
    """Encode a tiny video with the codec its suffix usually carries."""
    codec = _CODEC_OF[path.suffix]
    return write_video(path, make_frames(num_frames, seed=seed), codec=codec)


def write_corrupt_video(path: Path) -> Path:
    """Random bytes under a video name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(os.urandom(4096))
    return path


@pytest.fixture(scope="session")
def vds_videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One good video per container, plus the broken files of the error tests."""
    folder = tmp_path_factory.mktemp("vds_videos")
    videos = {
        "mp4": write_test_video(folder / "good.mp4"),
        "avi": write_test_video(folder / "good.avi"),
        "webm": write_test_video(folder / "good.webm"),
        "short": write_test_video(folder / "short.mp4", num_frames=5),
    }
    empty = folder / "empty.mp4"
    empty.write_bytes(b"")
    videos["empty"] = empty
    videos["random"] = write_corrupt_video(folder / "random.mp4")
    data = videos["mp4"].read_bytes()
    truncated = folder / "truncated.mp4"
    truncated.write_bytes(data[: len(data) // 2])
    videos["truncated"] = truncated
    avi = videos["avi"].read_bytes()
    truncated_avi = folder / "truncated.avi"
    truncated_avi.write_bytes(avi[: len(avi) // 2])
    videos["truncated_avi"] = truncated_avi
    videos["missing"] = folder / "missing.mp4"
    directory = folder / "directory.mp4"
    directory.mkdir()
    videos["directory"] = directory
    return videos


def _write_lines(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{line}\r\n" for line in lines))


UCF_CLASSES = ("ApplyEyeMakeup", "Archery", "BabyCrawling")


@pytest.fixture(scope="session")
def vds_ucf101_tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``(videos, ucfTrainTestlist)``: 3 classes x 3 videos; groups g01 test, g08/g09 train."""
    base = tmp_path_factory.mktemp("ucf101")
    videos, lists = base / "UCF-101", base / "ucfTrainTestlist"
    train: list[str] = []
    test: list[str] = []
    for number, name in enumerate(UCF_CLASSES, start=1):
        for group in (1, 8, 9):
            rel = f"{name}/v_{name}_g{group:02d}_c01.avi"
            write_test_video(videos / rel, seed=number * 10 + group)
            if group == 1:
                test.append(rel)
            else:
                train.append(f"{rel} {number}")
    _write_lines(lists / "classInd.txt", [f"{n} {c}" for n, c in enumerate(UCF_CLASSES, 1)])
    for fold in (1, 2, 3):
        _write_lines(lists / f"trainlist0{fold}.txt", train)
        _write_lines(lists / f"testlist0{fold}.txt", test)
    return videos, lists


HMDB_CLASSES = ("brush_hair", "cartwheel")


@pytest.fixture(scope="session")
def vds_hmdb51_tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``(videos, splits)``: 2 classes x 3 videos marked train (1), test (2), unused (0)."""
    base = tmp_path_factory.mktemp("hmdb51")
    videos, splits = base / "hmdb51", base / "testTrainMulti_7030_splits"
    for number, name in enumerate(HMDB_CLASSES):
        rows = []
        for k, split_id in enumerate((1, 2, 0)):
            file = f"{name}_video{k}.avi"
            write_test_video(videos / name / file, seed=number * 3 + k)
            rows.append(f"{file} {split_id} ")
        for fold in (1, 2, 3):
            _write_lines(splits / f"{name}_test_split{fold}.txt", rows)
    return videos, splits


KINETICS_LABELS = ("abseiling", "playing guitar")


@pytest.fixture(scope="session")
def vds_kinetics_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Kinetics root: train in label folders (spaces as ``_``), val flat, test unlabelled."""
    root = tmp_path_factory.mktemp("kinetics")
    annotations = root / "annotations"
    annotations.mkdir()
    header = "label,youtube_id,time_start,time_end,split,is_cc"
    train, val = [header], [header]
    for k, label in enumerate(KINETICS_LABELS):
        for j in range(2):
            youtube_id = f"tr{k}{j}-_x"
            name = f"{youtube_id}_{10 * j:06d}_{10 * j + 10:06d}.mp4"
            write_test_video(root / "train" / label.replace(" ", "_") / name, seed=k * 2 + j)
            train.append(f'"{label}",{youtube_id},{10 * j},{10 * j + 10},train,0')
        youtube_id = f"va{k}"
        write_test_video(root / "val" / f"{youtube_id}_000001_000011.mp4", seed=20 + k)
        val.append(f"{label},{youtube_id},1.0,11.0,val,0")
    (annotations / "train.csv").write_text("\n".join(train) + "\n")
    (annotations / "validate.csv").write_text("\n".join(val) + "\n")
    write_test_video(root / "test" / "te0_000000_000010.mp4", seed=30)
    (annotations / "test.csv").write_text("youtube_id,time_start,time_end,split\nte0,0,10,test\n")
    return root


SSV2_LABELS = {
    "Holding something next to something": "1",
    "Pushing something from left to right": "0",
}


@pytest.fixture(scope="session")
def vds_ssv2_tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``(videos, labels)``: 3 train and 1 validation ``.webm`` videos."""
    base = tmp_path_factory.mktemp("ssv2")
    videos, labels = base / "20bn-something-something-v2", base / "labels"
    labels.mkdir()
    (labels / "labels.json").write_text(json.dumps(SSV2_LABELS))
    train = [
        {"id": "101", "template": "Holding [something] next to [something]", "label": "x"},
        {"id": "102", "template": "Pushing [something] from left to right", "label": "y"},
        {"id": "103", "template": "Holding [something] next to [something]", "label": "z"},
    ]
    validation = [{"id": "201", "template": "Pushing [something] from left to right"}]
    for number, entry in enumerate(train + validation):
        write_test_video(videos / f"{entry['id']}.webm", seed=40 + number)
    (labels / "train.json").write_text(json.dumps(train))
    (labels / "validation.json").write_text(json.dumps(validation))
    return videos, labels


@pytest.fixture(scope="session")
def vds_diving48_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Diving48 root with ``rgb/``, V2 train/test JSON and a vocabulary."""
    root = tmp_path_factory.mktemp("diving48")
    train = [
        {"vid_name": "aaa_00000", "label": 0, "start_frame": 0, "end_frame": 11},
        {"vid_name": "bbb_00001", "label": 47, "start_frame": 5, "end_frame": 16},
    ]
    test = [{"vid_name": "ccc_00002", "label": 3, "start_frame": 0, "end_frame": 11}]
    for number, entry in enumerate(train + test):
        write_test_video(root / "rgb" / f"{entry['vid_name']}.mp4", seed=50 + number)
    (root / "Diving48_V2_train.json").write_text(json.dumps(train))
    (root / "Diving48_V2_test.json").write_text(json.dumps(test))
    vocab = [["Back", f"{k:02d}som", "NoTwis", "PIKE"] for k in range(48)]
    (root / "Diving48_vocab.json").write_text(json.dumps(vocab))
    return root


@pytest.fixture(scope="session")
def vds_folder_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generic tree: classes ``b_run`` (2 videos) and ``a_walk`` (1), plus ignored files."""
    root = tmp_path_factory.mktemp("folder")
    write_test_video(root / "b_run" / "x.mp4", seed=60)
    write_video(root / "b_run" / "W.AVI", make_frames(seed=61), codec="mpeg4")
    write_test_video(root / "a_walk" / "only.webm", seed=62)
    (root / "a_walk" / "notes.txt").write_text("not a video")
    (root / "empty_class").mkdir()
    write_test_video(root / "stray.mp4", seed=63)
    return root


@pytest.fixture(scope="session")
def vds_corrupt_folder_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generic tree of 4 videos where ``cls/b_bad.mp4`` (index 1) is random bytes."""
    root = tmp_path_factory.mktemp("corrupt_folder")
    write_test_video(root / "cls" / "a_good.mp4", seed=70)
    write_corrupt_video(root / "cls" / "b_bad.mp4")
    write_test_video(root / "cls" / "c_good.mp4", seed=71)
    write_test_video(root / "cls" / "d_good.mp4", seed=72)
    return root


def first_frames(clip_len: int) -> Callable[[int, torch.Generator | None], Tensor]:
    """A sampler taking frames ``0 .. clip_len - 1`` as one clip."""

    def sampler(num_frames: int, generator: torch.Generator | None = None) -> Tensor:
        del num_frames, generator
        return torch.arange(clip_len).unsqueeze(0)

    return sampler


@pytest.fixture(scope="session")
def vds_frame_ids() -> Callable[..., list[int]]:
    """:func:`frame_ids`: which frames a decoded clip holds."""
    return frame_ids


@pytest.fixture(scope="session")
def vds_write_video() -> Callable[..., Path]:
    """:func:`write_test_video`: encode a tiny video with frame-coded levels."""
    return write_test_video


@pytest.fixture(scope="session")
def vds_first_frames() -> Callable[[int], Callable[[int, torch.Generator | None], Tensor]]:
    """:func:`first_frames`: a sampler of frames ``0 .. clip_len - 1``."""
    return first_frames
