from __future__ import annotations

from pathlib import Path

import pytest

from bgdebias.training import PretrainConfig


@pytest.fixture
def tiny_config(tmp_path: Path) -> PretrainConfig:
    """A pretraining run small enough for a unit test: 32 px, batch 4, 16 videos."""
    return PretrainConfig.smoke(
        steps=4, checkpoint_every=2, log_every=1, output_dir=str(tmp_path / "run")
    )
