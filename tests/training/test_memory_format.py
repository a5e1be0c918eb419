"""Channels-last storage of the 3D convolutions: the layout changes, the training does not."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import nn

from bgdebias.data.synthetic import MovingSpriteDataset
from bgdebias.training import (
    PretrainConfig,
    PretrainStep,
    convolutions_to_channels_last,
    train_supervised,
)

CHANNELS_LAST = torch.channels_last_3d


def _convolutions(model: nn.Module) -> list[nn.Conv3d]:
    return [module for module in model.modules() if isinstance(module, nn.Conv3d)]


def _small_config(**overrides: object) -> PretrainConfig:
    return PretrainConfig(
        method="full",
        size=32,
        batch_size=4,
        queue_size=8,
        hidden_dim=16,
        embed_dim=8,
        device="cpu",
        **overrides,  # type: ignore[arg-type]
    )


def test_converts_only_3d_convolutions_and_keeps_the_values_and_parameters() -> None:
    first, flat, last = nn.Conv3d(3, 4, 3), nn.Conv2d(4, 4, 3), nn.Conv3d(4, 2, 1)
    model = nn.Sequential(first, flat, last)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    objects = [id(p) for p in model.parameters()]

    assert convolutions_to_channels_last(model) == 2

    assert first.weight.is_contiguous(memory_format=CHANNELS_LAST)
    assert last.weight.is_contiguous(memory_format=CHANNELS_LAST)
    assert not first.weight.is_contiguous()
    assert flat.weight.is_contiguous()  # a 2D convolution is left as it is
    assert [id(p) for p in model.parameters()] == objects
    for name, parameter in model.named_parameters():
        assert torch.equal(parameter, before[name])


def test_a_convolution_with_channels_last_weights_gives_the_same_output() -> None:
    torch.manual_seed(0)
    plain = nn.Conv3d(3, 5, 3, padding=1)
    converted = nn.Conv3d(3, 5, 3, padding=1)
    converted.load_state_dict(plain.state_dict())
    convolutions_to_channels_last(converted)
    clips = torch.rand(2, 3, 4, 9, 9)

    out = converted(clips)

    assert out.is_contiguous(memory_format=CHANNELS_LAST)
    torch.testing.assert_close(out, plain(clips), rtol=1e-5, atol=1e-5)


def test_the_default_pretraining_step_stores_convolutions_channels_last() -> None:
    assert PretrainConfig().channels_last is True
    step = PretrainStep.build(_small_config().resolved(), torch.device("cpu"))

    convolutions = _convolutions(step.recipe)
    assert convolutions  # both encoders' backbones
    assert all(c.weight.is_contiguous(memory_format=CHANNELS_LAST) for c in convolutions)


def test_channels_last_off_keeps_the_default_layout() -> None:
    config = _small_config(channels_last=False).resolved()
    step = PretrainStep.build(config, torch.device("cpu"))

    assert all(c.weight.is_contiguous() for c in _convolutions(step.recipe))


def test_training_steps_agree_with_and_without_channels_last() -> None:
    videos = torch.rand(4, 3, 2 * 8, 37, 37, generator=torch.Generator().manual_seed(3))
    # SGD: AdamW would turn rounding in near-zero gradients into whole steps.
    steps = {
        layout: PretrainStep.build(
            _small_config(channels_last=layout, optimizer="sgd").resolved(), torch.device("cpu")
        )
        for layout in (False, True)
    }

    initial = {
        name: p.detach().clone() for name, p in steps[False].recipe.query_encoder.named_parameters()
    }
    losses = {
        layout: [float(step(videos).total.detach()) for _ in range(2)]
        for layout, step in steps.items()
    }

    assert losses[True] == pytest.approx(losses[False], rel=1e-4, abs=1e-4)
    plain = dict(steps[False].recipe.query_encoder.named_parameters())
    for name, parameter in steps[True].recipe.query_encoder.named_parameters():
        torch.testing.assert_close(parameter, plain[name], rtol=1e-5, atol=1e-6)
    moved = [(parameter - initial[name]).abs().max() for name, parameter in plain.items()]
    assert max(moved) > 1e-4  # the steps changed the weights far beyond the tolerance
    convolutions = _convolutions(steps[True].recipe)
    assert all(c.weight.is_contiguous(memory_format=CHANNELS_LAST) for c in convolutions)


def test_supervised_training_follows_the_option() -> None:
    data = MovingSpriteDataset(split="independent", length=8, num_frames=12, size=32)
    config = PretrainConfig(steps=1, size=32, batch_size=4, device="cpu")

    on = train_supervised(data, config, num_classes=8)
    off = train_supervised(data, dataclasses.replace(config, channels_last=False), num_classes=8)

    assert all(c.weight.is_contiguous(memory_format=CHANNELS_LAST) for c in _convolutions(on))
    assert all(c.weight.is_contiguous() for c in _convolutions(off))


@pytest.mark.parametrize("value", [1, "yes", None])
def test_channels_last_must_be_a_bool(value: object) -> None:
    with pytest.raises(TypeError, match=r"`channels_last` must be a bool, got"):
        PretrainConfig(channels_last=value)  # type: ignore[arg-type]
