"""Files some documentation pages expect in the working directory before their examples run.

The dataset page shows the code a user writes for a dataset on disk; these functions put
tiny versions of each dataset, in its official layout, where those examples look.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import torch


def _video(path: Path, *, codec: str, seed: int, frames: int = 12, size: int = 32) -> None:
    from bgdebias.data import write_video

    generator = torch.Generator().manual_seed(seed)
    clip = torch.randint(0, 256, (frames, size, size, 3), generator=generator, dtype=torch.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_video(path, clip, fps=25, codec=codec)


def _hmdb51(root: Path) -> None:
    classes = ("brush_hair", "cartwheel")
    for label, name in enumerate(classes):
        lines = []
        for k, split_id in enumerate(("1", "2", "0")):
            video = f"{name}_video_{k}.avi"
            _video(root / "videos" / name / video, codec="mpeg4", seed=10 * label + k)
            lines.append(f"{video} {split_id}\n")
        split_file = root / "splits" / f"{name}_test_split1.txt"
        split_file.parent.mkdir(parents=True, exist_ok=True)
        split_file.write_text("".join(lines))


def _kinetics(root: Path) -> None:
    rows = {
        "train": [("abseiling", "aaaaaaaaaaa", 10, 20), ("air drumming", "bbbbbbbbbbb", 0, 10)],
        "val": [
            ("abseiling", "ccccccccccc", 5, 15),
            ("air drumming", "ddddddddddd", 1, 11),
            ("air drumming", "notdownload", 0, 10),
        ],
    }
    (root / "annotations").mkdir(parents=True, exist_ok=True)
    for split, entries in rows.items():
        csv_name = "train.csv" if split == "train" else "validate.csv"
        lines = ["label,youtube_id,time_start,time_end,split\n"]
        for k, (label, youtube_id, start, end) in enumerate(entries):
            lines.append(f"{label},{youtube_id},{start},{end},{split}\n")
            if youtube_id == "notdownload":
                continue  # a video the download scripts could not fetch
            name = f"{youtube_id}_{start:06d}_{end:06d}.mp4"
            _video(root / split / label.replace(" ", "_") / name, codec="libx264", seed=k)
        (root / "annotations" / csv_name).write_text("".join(lines))


def _ssv2(root: Path) -> None:
    labels = {
        "Approaching something with your camera": "0",
        "Holding something next to something": "1",
    }
    annotations = root / "annotations"
    annotations.mkdir(parents=True, exist_ok=True)
    (annotations / "labels.json").write_text(json.dumps(labels))
    entries = {
        "train": [{"id": "1", "template": "Approaching [something] with your camera"}],
        "validation": [{"id": "2", "template": "Holding [something] next to [something]"}],
    }
    for split, items in entries.items():
        (annotations / f"{split}.json").write_text(json.dumps(items))
        for item in items:
            _video(root / "videos" / f"{item['id']}.webm", codec="libvpx-vp9", seed=int(item["id"]))


def _diving48(root: Path) -> None:
    for split, names in (("train", ("dive_a", "dive_b")), ("test", ("dive_c",))):
        entries = [
            {"vid_name": name, "label": k, "start_frame": 0, "end_frame": 11}
            for k, name in enumerate(names)
        ]
        root.mkdir(parents=True, exist_ok=True)
        (root / f"Diving48_V2_{split}.json").write_text(json.dumps(entries))
        for k, name in enumerate(names):
            _video(root / "rgb" / f"{name}.mp4", codec="libx264", seed=k)


def _folder(root: Path) -> None:
    for label, name in enumerate(("jumping", "waving")):
        for k in range(2):
            _video(root / name / f"clip{k}.mp4", codec="libx264", seed=10 * label + k)


def datasets_page(cwd: Path) -> None:
    _hmdb51(cwd / "data" / "hmdb51")
    _kinetics(cwd / "data" / "kinetics400")
    _ssv2(cwd / "data" / "ssv2")
    _diving48(cwd / "data" / "diving48")
    _folder(cwd / "data" / "my_videos")


def _ucf101_from_synthetic(cwd: Path) -> None:
    """The UCF101 example on the datasets page points at data/ucf101 (official layout)."""
    from bgdebias.data.synthetic import MovingSpriteDataset, export_ucf101_layout

    root = cwd / "data" / "ucf101"
    export_ucf101_layout(
        root / "UCF-101",
        MovingSpriteDataset(split="train", length=4, num_classes=2, size=32),
        MovingSpriteDataset(split="aligned", length=2, num_classes=2, size=32),
    )
    lists = root / "ucfTrainTestlist"
    lists.mkdir(parents=True)
    for name in ("classInd.txt", "trainlist01.txt", "testlist01.txt"):
        (root / "UCF-101" / name).rename(lists / name)


def datasets_page_with_ucf101(cwd: Path) -> None:
    datasets_page(cwd)
    _ucf101_from_synthetic(cwd)


def export_page(cwd: Path) -> None:
    """Checkpoints in pretrain's format: a small3d run's, and one holding an r3d_18 query
    encoder as a UCF101 run would (its key encoder and queues are left out, to stay small)."""
    from bgdebias.models import replicate_temporal_padding, video_backbone
    from bgdebias.training import DebiasEncoder, PretrainConfig, build_recipe, save_checkpoint

    small = PretrainConfig(method="moco").resolved()
    state = {"step": 300, "config": small.to_dict(), "model": build_recipe(small).state_dict()}
    save_checkpoint(state, cwd / "runs" / "synthetic", 300)
    video = PretrainConfig(method="moco", dataset="ucf101", root="data/ucf101").resolved()
    backbone = video_backbone("r3d_18", stage=video.stage)
    replicate_temporal_padding(backbone)
    encoder = DebiasEncoder(backbone, projection_dim=video.embed_dim, micro=False)
    model = {f"query_encoder.{key}": value for key, value in encoder.state_dict().items()}
    state = {"step": 200000, "config": video.to_dict(), "model": model}
    save_checkpoint(state, cwd / "runs" / "ucf101", 200000)


#: page (relative to docs/) -> function preparing its working directory.
PAGE_SETUP: dict[str, Callable[[Path], None]] = {
    "datasets.md": datasets_page_with_ucf101,
    "export.md": export_page,
}
