"""Fixtures shared by test folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from bgdebias.training import PretrainConfig, pretrain


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-step full-method checkpoint on tiny synthetic clips (read it, do not modify it)."""
    config = PretrainConfig(
        steps=1,
        size=32,
        batch_size=4,
        synthetic_videos=8,
        queue_size=8,
        hidden_dim=16,
        embed_dim=8,
        device="cpu",
        output_dir=str(tmp_path_factory.mktemp("run")),
    )
    return pretrain(config, progress=False).checkpoint
