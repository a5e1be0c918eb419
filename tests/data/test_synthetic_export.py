from __future__ import annotations

import csv
import re
from pathlib import Path

import av
import numpy as np
import pytest
import torch

from bgdebias.data.synthetic import MovingSpriteDataset, export_ucf101_layout, ucf101_video_name


def _decode(path: Path) -> torch.Tensor:
    """All frames as float (3, T, H, W) in [0, 1], decoded with PyAV."""
    with av.open(str(path)) as container:
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    return torch.from_numpy(np.stack(frames)).permute(3, 0, 1, 2).float() / 255


def test_video_names_follow_ucf101_split_one() -> None:
    assert ucf101_video_name("MoveUp", 0, train=True) == "v_MoveUp_g08_c01.avi"
    assert ucf101_video_name("MoveUp", 17, train=True) == "v_MoveUp_g25_c01.avi"
    assert ucf101_video_name("MoveUp", 18, train=True) == "v_MoveUp_g08_c02.avi"
    assert ucf101_video_name("MoveUp", 0, train=False) == "v_MoveUp_g01_c01.avi"
    assert ucf101_video_name("MoveUp", 8, train=False) == "v_MoveUp_g02_c02.avi"
    with pytest.raises(ValueError, match=re.escape("at most 693 test videos per class")):
        ucf101_video_name("MoveUp", 693, train=False)


def test_export_writes_the_ucf101_layout(tmp_path: Path) -> None:
    train = MovingSpriteDataset(split="train", length=4, num_classes=2, size=32)
    test = MovingSpriteDataset(split="conflicting", length=2, num_classes=2, size=32)
    root = export_ucf101_layout(tmp_path / "synthetic", train, test)
    assert (root / "classInd.txt").read_text() == "1 MoveRight\n2 MoveLeft\n"
    assert (root / "trainlist01.txt").read_text().splitlines() == [
        "MoveRight/v_MoveRight_g08_c01.avi 1",
        "MoveLeft/v_MoveLeft_g08_c01.avi 2",
        "MoveRight/v_MoveRight_g09_c01.avi 1",
        "MoveLeft/v_MoveLeft_g09_c01.avi 2",
    ]
    assert (root / "testlist01.txt").read_text().splitlines() == [
        "MoveRight/v_MoveRight_g01_c01.avi",
        "MoveLeft/v_MoveLeft_g01_c01.avi",
    ]
    with (root / "synthetic_metadata.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 6
    assert rows[4] == {
        "path": "MoveRight/v_MoveRight_g01_c01.avi",
        "list": "test",
        "split": "conflicting",
        "index": "0",
        "label": "0",
        "background_family": "1",  # conflicting with two classes: the other family
    }
    decoded = _decode(root / rows[1]["path"])
    original = train.render(1).clip
    assert decoded.shape == original.shape == (3, 8, 32, 32)
    assert float((decoded - original).abs().mean()) < 0.05


def test_exported_files_decode_with_torchcodec(tmp_path: Path) -> None:
    decoders = pytest.importorskip("torchcodec.decoders")
    train = MovingSpriteDataset(length=1, num_classes=2, num_frames=16, size=64)
    root = export_ucf101_layout(tmp_path, train, train)
    decoder = decoders.VideoDecoder(str(root / "MoveRight/v_MoveRight_g08_c01.avi"))
    frames = decoder.get_frames_in_range(0, len(decoder)).data  # (T, C, H, W) uint8
    assert frames.shape == (16, 3, 64, 64)
    decoded = frames.permute(1, 0, 2, 3).float() / 255
    assert float((decoded - train.render(0).clip).abs().mean()) < 0.05


def test_export_errors(tmp_path: Path) -> None:
    train = MovingSpriteDataset(length=2, num_classes=2, size=32)
    test = MovingSpriteDataset(split="aligned", length=2, num_classes=3, size=32)
    with pytest.raises(ValueError, match=re.escape("must use the same classes, got 2 and 3")):
        export_ucf101_layout(tmp_path, train, test)
    with pytest.raises(ValueError, match=re.escape("`codec` must be one of 'libx264'")):
        export_ucf101_layout(tmp_path, train, train, codec="h265")
    with pytest.raises(ValueError, match=re.escape("`fps` must be an int >= 1, got 0")):
        export_ucf101_layout(tmp_path, train, train, fps=0)
