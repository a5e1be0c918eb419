from __future__ import annotations

from pathlib import Path

import pytest

from bgdebias.models._measure import stage_shapes, stage_table

DOC = Path(__file__).resolve().parents[2] / "docs" / "backbones_stages.md"


def _doc_table() -> list[str]:
    return [line for line in DOC.read_text().splitlines() if line.startswith("|")]


def _doc_cell(backbone: str, stage: str, column: int) -> str:
    for line in _doc_table():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if cells[:2] == [backbone, stage]:
            return cells[2 + column]
    raise AssertionError(f"no row for {backbone} {stage} in {DOC}")


@pytest.mark.parametrize(
    ("backbone", "stage", "column", "cell"),
    [
        ("r3d_18", "layer3", 0, "(256, 2, 14, 14)"),
        ("r3d_18", "layer4", 0, "(512, 1, 7, 7) **T_s < 2**"),
        ("r3d_18", "layer4", 1, "(512, 2, 7, 7)"),
        ("mc3_18", "layer4", 0, "(512, 8, 7, 7)"),
        ("r2plus1d_18", "layer4", 0, "(512, 1, 7, 7) **T_s < 2**"),
        ("s3d", "stem", 1, "(64, 8, 56, 56)"),
        ("s3d", "layer4", 0, "(1024, 1, 3, 3) **T_s < 2**"),
        ("small3d", "layer3", 0, "(128, 4, 14, 14)"),
        ("small3d", "layer4", 0, "(256, 2, 7, 7)"),
    ],
)
def test_documented_entries(backbone: str, stage: str, column: int, cell: str) -> None:
    assert _doc_cell(backbone, stage, column) == cell


@pytest.mark.parametrize(("backbone", "frames"), [("r3d_18", 8), ("s3d", 16), ("small3d", 8)])
def test_documented_entries_match_the_code(backbone: str, frames: int) -> None:
    shapes = stage_shapes(backbone, frames, 112)
    column = {8: 0, 16: 1}[frames]
    for stage, shape in shapes.items():
        cell = _doc_cell(backbone, stage, column)
        assert cell.split(" **")[0] == "(" + ", ".join(map(str, shape)) + ")"


def test_the_whole_documented_table_is_what_the_script_prints() -> None:
    assert _doc_table() == stage_table().splitlines()
