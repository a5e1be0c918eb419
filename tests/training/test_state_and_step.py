"""The training state saves and restores itself; the pretraining step is the loop's."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from bgdebias.training import PretrainConfig, PretrainStep, TrainingState, train_step
from bgdebias.training.checkpoint import CheckpointError, ReadableCheckpoint, load_checkpoint


def test_a_restored_state_steps_exactly_as_the_saved_one(
    tiny_config: PretrainConfig, tmp_path: Path
) -> None:
    config = tiny_config.resolved()
    videos = torch.rand(4, 3, 2 * config.num_frames, 37, 37)
    first = PretrainStep.build(config, torch.device("cpu"))
    first(videos)
    path = first.state.save(tmp_path, config)
    assert set(load_checkpoint(path)) == {
        "step", "config", "model", "optimizer", "scheduler", "generator",
        "shuffle_generator", "torch_rng",
    }  # fmt: skip
    expected = first(videos).total
    second = PretrainStep.build(config, torch.device("cpu"))
    second.state.restore(ReadableCheckpoint(path, load_checkpoint(path), skipped=()), config)
    assert second.state.step == 1
    assert torch.equal(second(videos).total, expected)


def test_restore_refuses_another_architecture(tiny_config: PretrainConfig, tmp_path: Path) -> None:
    config = tiny_config.resolved()
    state = TrainingState.start(config, torch.nn.Linear(2, 2))
    path = state.save(tmp_path, config)
    other = dataclasses.replace(tiny_config, embed_dim=8).resolved()
    with pytest.raises(CheckpointError, match="embed_dim: checkpoint 16 != run 8"):
        state.restore(ReadableCheckpoint(path, load_checkpoint(path), skipped=()), other)


def test_train_step_steps_optimiser_and_schedule() -> None:
    model = torch.nn.Linear(3, 1)
    config = PretrainConfig(steps=10, warmup_steps=2).resolved()
    state = TrainingState.start(config, model)
    lrs = []
    for _ in range(3):
        lrs.append(state.scheduler.get_last_lr()[0])
        train_step(state, model(torch.ones(1, 3)).square().sum())
    assert state.step == 3
    assert lrs == pytest.approx([config.lr / 2, config.lr, config.lr])
