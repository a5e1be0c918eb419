from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from bgdebias.data.datasets import AnnotationError, Diving48
from bgdebias.data.sampling import UniformClipSampler

CLIP = UniformClipSampler(4, num_clips=1)


def test_train_split_with_vocabulary(vds_diving48_tree: Path) -> None:
    data = Diving48(vds_diving48_tree, split="train", clip_sampler=CLIP)
    assert len(data.classes) == 48
    assert data.classes[47] == "Back 47som NoTwis PIKE"
    assert data.paths == ("rgb/aaa_00000.mp4", "rgb/bbb_00001.mp4")
    assert data.labels == (0, 47)
    sample = data[1]
    assert sample.clip.shape == (3, 4, 32, 48)
    assert sample.label == 47


def _copy(vds_diving48_tree: Path, tmp_path: Path) -> Path:
    root = tmp_path / "d48"
    shutil.copytree(vds_diving48_tree, root)
    return root


def test_without_vocabulary_and_with_annotation_path(
    vds_diving48_tree: Path, tmp_path: Path
) -> None:
    root = _copy(vds_diving48_tree, tmp_path)
    (root / "Diving48_vocab.json").unlink()
    notes = tmp_path / "notes"
    notes.mkdir()
    shutil.move(root / "Diving48_V2_test.json", notes / "Diving48_V2_test.json")
    data = Diving48(root, split="test", annotation_path=notes, clip_sampler=CLIP)
    assert data.classes == tuple(str(k) for k in range(48))
    assert (data.paths, data.labels) == (("rgb/ccc_00002.mp4",), (3,))
    with pytest.raises(
        FileNotFoundError,
        match=re.escape(
            "Diving48 V2 test annotations not found: expected a file at "
            f"{str(root / 'Diving48_V2_test.json')!r}"
        ),
    ):
        Diving48(root, split="test", clip_sampler=CLIP)


@pytest.mark.parametrize(
    ("entry", "error", "message"),
    [
        (
            {"label": 1},
            AnnotationError,
            "Diving48_V2_train.json, entry 3: entry lacks a 'vid_name'",
        ),
        (
            {"vid_name": "aaa_00000", "label": "1"},
            AnnotationError,
            "entry 3: 'label' must be an int, got '1'",
        ),
        (
            {"vid_name": "aaa_00000", "label": 48},
            AnnotationError,
            "entry 3: label 48 is outside the 48 classes",
        ),
        (
            {"vid_name": "../x", "label": 1},
            ValueError,
            "entry 3: vid_name '../x' must be a plain file stem",
        ),
        (
            {"vid_name": "zzz", "label": 1},
            FileNotFoundError,
            "rgb/zzz.mp4' (Diving48_V2_train.json, entry 3)",
        ),
    ],
)
def test_malformed_entries(
    vds_diving48_tree: Path, tmp_path: Path, entry: Any, error: type[Exception], message: str
) -> None:
    root = _copy(vds_diving48_tree, tmp_path)
    file = root / "Diving48_V2_train.json"
    file.write_text(json.dumps([*json.loads(file.read_text()), entry]))
    with pytest.raises(error, match=re.escape(message)):
        Diving48(root, clip_sampler=CLIP)


def test_bad_split(vds_diving48_tree: Path) -> None:
    with pytest.raises(
        ValueError, match=re.escape("`split` must be one of 'train', 'test'; got 'val'")
    ):
        Diving48(vds_diving48_tree, split="val", clip_sampler=CLIP)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("file", "content", "message"),
    [
        ("Diving48_vocab.json", {"0": "x"}, "Diving48_vocab.json: expected a list of word lists"),
        (
            "Diving48_V2_train.json",
            {"vid_name": "a"},
            "Diving48_V2_train.json: expected a list of {vid_name, label} objects",
        ),
    ],
)
def test_malformed_files(
    vds_diving48_tree: Path, tmp_path: Path, file: str, content: Any, message: str
) -> None:
    root = _copy(vds_diving48_tree, tmp_path)
    (root / file).write_text(json.dumps(content))
    with pytest.raises(AnnotationError, match=re.escape(message)):
        Diving48(root, clip_sampler=CLIP)
