from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bgdebias.data.datasets import HMDB51, AnnotationError
from bgdebias.data.sampling import UniformClipSampler

CLIP = UniformClipSampler(4, num_clips=1)


@pytest.mark.parametrize(("split", "video"), [("train", 0), ("test", 1)])
def test_split_ids_select_the_videos(
    vds_hmdb51_tree: tuple[Path, Path], split: str, video: int
) -> None:
    videos, splits = vds_hmdb51_tree
    data = HMDB51(videos, splits, split=split, fold=2, clip_sampler=CLIP)  # type: ignore[arg-type]
    assert data.classes == ("brush_hair", "cartwheel")
    assert data.paths == (
        f"brush_hair/brush_hair_video{video}.avi",
        f"cartwheel/cartwheel_video{video}.avi",
    )
    assert data.labels == (0, 1)
    sample = data[1]
    assert sample.clip.shape == (3, 4, 32, 48)
    assert sample.label == 1


def test_missing_split_files_and_bad_fold(
    vds_hmdb51_tree: tuple[Path, Path], tmp_path: Path
) -> None:
    videos, splits = vds_hmdb51_tree
    with pytest.raises(
        FileNotFoundError,
        match=re.escape(
            "HMDB51 split files of fold 1 not found: expected <class>_test_split1.txt files "
            f"in {str(tmp_path)!r}"
        ),
    ):
        HMDB51(videos, tmp_path, clip_sampler=CLIP)
    with pytest.raises(
        ValueError, match=re.escape("`fold` must be 1, 2 or 3 (the official splits), got 0")
    ):
        HMDB51(videos, splits, fold=0, clip_sampler=CLIP)
    with pytest.raises(
        ValueError, match=re.escape("`fold` must be 1, 2 or 3 (the official splits), got True")
    ):
        HMDB51(videos, splits, fold=True, clip_sampler=CLIP)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "cartwheel_video9.avi 3",
            "cartwheel_test_split1.txt, line 4: expected '<video>.avi <0|1|2>', "
            "got 'cartwheel_video9.avi 3'",
        ),
        (
            "../../x.avi 1",
            "cartwheel_test_split1.txt, line 4: expected a bare video file name, got '../../x.avi'",
        ),
    ],
)
def test_malformed_lines(
    vds_hmdb51_tree: tuple[Path, Path], tmp_path: Path, line: str, message: str
) -> None:
    videos, splits = vds_hmdb51_tree
    copy = tmp_path / "splits"
    shutil.copytree(splits, copy)
    with (copy / "cartwheel_test_split1.txt").open("a") as handle:
        handle.write(line + "\n")
    with pytest.raises(AnnotationError, match=re.escape(message)):
        HMDB51(videos, copy, clip_sampler=CLIP)


def test_listed_video_missing(vds_hmdb51_tree: tuple[Path, Path], tmp_path: Path) -> None:
    videos, splits = vds_hmdb51_tree
    copy = tmp_path / "splits"
    shutil.copytree(splits, copy)
    with (copy / "brush_hair_test_split3.txt").open("a") as handle:
        handle.write("gone.avi 2\n")
    with pytest.raises(
        FileNotFoundError,
        match=re.escape(
            f"{str(videos / 'brush_hair' / 'gone.avi')!r} (brush_hair_test_split3.txt, line 4)"
        ),
    ):
        HMDB51(videos, copy, split="test", fold=3, clip_sampler=CLIP)
    # Other folds and unused entries are unaffected.
    assert len(HMDB51(videos, copy, split="test", fold=1, clip_sampler=CLIP)) == 2
