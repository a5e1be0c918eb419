from __future__ import annotations

from pathlib import Path

import pytest

from bgdebias.training import PretrainConfig


@pytest.fixture
def tiny_config(tmp_path: Path) -> PretrainConfig:
    """A pretraining run small enough for a unit test: 32 px, batch 4, 16 videos."""
    return PretrainConfig(
        size=32,
        batch_size=4,
        synthetic_videos=16,
        queue_size=16,
        hidden_dim=32,
        embed_dim=16,
        steps=4,
        checkpoint_every=2,
        log_every=1,
        output_dir=str(tmp_path / "run"),
        device="cpu",
        jitter_p=0.0,
    )
