from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from bgdebias.data.datasets import AnnotationError, SomethingSomethingV2, template_label
from bgdebias.data.sampling import UniformClipSampler

CLIP = UniformClipSampler(4, num_clips=1)


def test_template_label_drops_the_brackets() -> None:
    assert template_label("Putting [something] on [something]") == "Putting something on something"


def test_train_split_labels_come_from_the_templates(vds_ssv2_tree: tuple[Path, Path]) -> None:
    videos, labels = vds_ssv2_tree
    data = SomethingSomethingV2(videos, labels, split="train", clip_sampler=CLIP)
    assert data.classes == (
        "Pushing something from left to right",
        "Holding something next to something",
    )
    assert data.paths == ("101.webm", "102.webm", "103.webm")
    assert data.labels == (1, 0, 1)
    sample = data[1]
    assert sample.clip.shape == (3, 4, 32, 48)
    assert sample.label == 0


def test_validation_split(vds_ssv2_tree: tuple[Path, Path]) -> None:
    videos, labels = vds_ssv2_tree
    data = SomethingSomethingV2(videos, labels, split="validation", clip_sampler=CLIP)
    assert (data.paths, data.labels) == (("201.webm",), (0,))


def _with_entry(labels: Path, tmp_path: Path, entry: Any) -> Path:
    copy = tmp_path / "labels"
    shutil.copytree(labels, copy)
    data = json.loads((copy / "train.json").read_text())
    (copy / "train.json").write_text(json.dumps([*data, entry]))
    return copy


@pytest.mark.parametrize(
    ("entry", "error", "message"),
    [
        (
            {"template": "Holding [something] next to [something]"},
            AnnotationError,
            "train.json, entry 4: entry lacks an 'id'",
        ),
        ({"id": "9"}, AnnotationError, "train.json, entry 4: entry lacks a 'template'"),
        (
            {"id": "9", "template": "Juggling [something]"},
            AnnotationError,
            "train.json, entry 4: template class 'Juggling something' is not in labels.json",
        ),
        (
            {"id": "../../etc/x", "template": "Holding [something] next to [something]"},
            ValueError,
            "train.json, entry 4: id '../../etc/x' must be a plain file stem",
        ),
    ],
)
def test_malformed_entries(
    vds_ssv2_tree: tuple[Path, Path],
    tmp_path: Path,
    entry: Any,
    error: type[Exception],
    message: str,
) -> None:
    videos, labels = vds_ssv2_tree
    copy = _with_entry(labels, tmp_path, entry)
    with pytest.raises(error, match=re.escape(message)):
        SomethingSomethingV2(videos, copy, clip_sampler=CLIP)


def test_missing_video_and_files(vds_ssv2_tree: tuple[Path, Path], tmp_path: Path) -> None:
    videos, labels = vds_ssv2_tree
    copy = _with_entry(
        labels, tmp_path, {"id": 999, "template": "Pushing [something] from left to right"}
    )
    with pytest.raises(
        FileNotFoundError, match=re.escape(f"{str(videos / '999.webm')!r} (train.json, entry 4)")
    ):
        SomethingSomethingV2(videos, copy, clip_sampler=CLIP)
    (copy / "labels.json").unlink()
    with pytest.raises(
        FileNotFoundError,
        match=re.escape("SSv2 class list labels.json not found: expected a file at"),
    ):
        SomethingSomethingV2(videos, copy, clip_sampler=CLIP)


def test_invalid_json_is_reported_with_its_line(
    vds_ssv2_tree: tuple[Path, Path], tmp_path: Path
) -> None:
    videos, labels = vds_ssv2_tree
    copy = tmp_path / "labels"
    shutil.copytree(labels, copy)
    (copy / "validation.json").write_text('[\n{"id": "1",\n "template" "x"}\n]')
    with pytest.raises(
        AnnotationError,
        match=re.escape("validation.json, line 3: invalid JSON: Expecting ':' delimiter"),
    ):
        SomethingSomethingV2(videos, copy, split="validation", clip_sampler=CLIP)


@pytest.mark.parametrize(
    ("file", "content", "message"),
    [
        ("labels.json", ["a"], "labels.json: expected an object {class name: index}"),
        ("labels.json", {"a": "zero"}, "labels.json: class indices must be integers"),
        (
            "labels.json",
            {"a": "0", "b": "2"},
            "labels.json: class indices must run 0, 1, ..., N - 1",
        ),
        ("train.json", {"id": "1"}, "train.json: expected a list of {id, template, ...} objects"),
    ],
)
def test_malformed_files(
    vds_ssv2_tree: tuple[Path, Path], tmp_path: Path, file: str, content: Any, message: str
) -> None:
    videos, labels = vds_ssv2_tree
    copy = tmp_path / "labels"
    shutil.copytree(labels, copy)
    (copy / file).write_text(json.dumps(content))
    with pytest.raises(AnnotationError, match=re.escape(message)):
        SomethingSomethingV2(videos, copy, clip_sampler=CLIP)
