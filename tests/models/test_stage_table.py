"""The stage shapes that the docs' table shows (computed at build time from ``stage_rows``)."""

from __future__ import annotations

import pytest

from bgdebias.models import BACKBONE_STAGES
from bgdebias.models._measure import stage_rows, stage_shapes, stage_table


@pytest.mark.parametrize(
    ("backbone", "stage", "frames", "shape"),
    [  # hand-derived: each temporal stride halves T, each spatial stride halves H and W
        ("r3d_18", "layer3", 8, (256, 2, 14, 14)),
        ("r3d_18", "layer4", 8, (512, 1, 7, 7)),
        ("r3d_18", "layer4", 16, (512, 2, 7, 7)),
        ("mc3_18", "layer4", 8, (512, 8, 7, 7)),
        ("s3d", "stem", 16, (64, 8, 56, 56)),
        ("s3d", "layer4", 8, (1024, 1, 3, 3)),
        ("small3d", "layer3", 8, (128, 4, 14, 14)),
        ("small3d", "layer4", 8, (256, 2, 7, 7)),
    ],
)
def test_stage_shapes_at_112_pixels(
    backbone: str, stage: str, frames: int, shape: tuple[int, int, int, int]
) -> None:
    assert stage_shapes(backbone, frames, 112)[stage] == shape


def test_rows_cover_every_stage_in_order_and_the_table_prints_them() -> None:
    rows = stage_rows(frames=(8,), size=32)
    expected = [(name, stage) for name, stages in BACKBONE_STAGES.items() for stage in stages]
    assert [(name, stage) for name, stage, _ in rows] == expected
    table = stage_table(frames=(8,), size=32).splitlines()
    assert table[0] == "| backbone | stage | 8 x 32 x 32 |"
    assert (
        table[2 + expected.index(("small3d", "layer4"))] == "| small3d | layer4 | (256, 2, 2, 2) |"
    )
    assert table[2 + expected.index(("r3d_18", "layer4"))].endswith("**T_s < 2** |")
