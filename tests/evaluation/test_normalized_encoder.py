from __future__ import annotations

import torch

import bgdebias.experiments
from bgdebias.data import NormalizeClip
from bgdebias.evaluation import NormalizedEncoder
from bgdebias.models import Small3DCNN


def test_normalises_then_reads_the_pooled_features() -> None:
    backbone = Small3DCNN(base_width=2, generator=torch.Generator().manual_seed(0)).eval()
    clips = torch.rand(2, 3, 8, 32, 32)
    expected = backbone(NormalizeClip()(clips)).pooled
    torch.testing.assert_close(NormalizedEncoder(backbone)(clips), expected)


def test_still_importable_from_experiments() -> None:
    assert bgdebias.experiments.NormalizedEncoder is NormalizedEncoder
