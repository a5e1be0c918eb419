from __future__ import annotations

import re

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from bgdebias.evaluation import FineTuneResult, fine_tune


def _encoder(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv3d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool3d(1), nn.Flatten()
    )


def _brightness_videos(count: int, *, clips: int | None = None, seed: int = 0) -> TensorDataset:
    """Class 0 is dark noise, class 1 bright noise (learnable in a few steps)."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(count) % 2
    shape = (count, 3, 4, 8, 8) if clips is None else (count, clips, 3, 4, 8, 8)
    noise = torch.rand(shape, generator=generator) * 0.3
    level = (0.7 * labels.float()).view(-1, *([1] * (len(shape) - 1)))
    return TensorDataset(noise + level, labels)


def _train(encoder: nn.Module, **options: object) -> FineTuneResult:
    settings: dict[str, object] = {"num_classes": 2, "epochs": 3, "batch_size": 4, "lr": 3e-2}
    settings.update(options)
    return fine_tune(
        encoder,
        _brightness_videos(48),
        _brightness_videos(16, clips=3, seed=1),
        **settings,  # type: ignore[arg-type]
    )


def test_fine_tuning_learns_and_changes_the_backbone() -> None:
    encoder = _encoder()
    before = [p.detach().clone() for p in encoder.parameters()]
    encoder.eval()
    result = _train(encoder)
    assert result.steps == 36  # 3 epochs of 12 batches
    assert len(result.losses) == 36
    assert result.top1 >= 0.9  # chance is 0.5
    assert result.top5 is None
    assert sum(result.losses[-6:]) < sum(result.losses[:6])
    changed = [not torch.equal(b, p) for b, p in zip(before, encoder.parameters(), strict=True)]
    assert all(changed)
    assert result.model[0] is encoder
    assert not encoder.training  # its mode before the call is restored


def test_max_steps_sgd_and_seeded_repeatability() -> None:
    first = _train(_encoder(), max_steps=5, optimizer="sgd", epochs=3)
    again = _train(_encoder(), max_steps=5, optimizer="sgd", epochs=3)
    other = _train(_encoder(), max_steps=5, optimizer="sgd", epochs=3, seed=1)
    assert first.steps == 5
    assert first.losses == again.losses
    assert first.losses != other.losses


def test_errors() -> None:
    data = _brightness_videos(4)
    with pytest.raises(TypeError, match=re.escape("`encoder` must be an nn.Module to fine-tune")):
        fine_tune(lambda x: x, data, data, num_classes=2)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="has no trainable parameters"):
        fine_tune(nn.Flatten(), data, data, num_classes=2)
    with pytest.raises(ValueError, match=re.escape("`num_classes` must be an int >= 2, got 1")):
        fine_tune(_encoder(), data, data, num_classes=1)
    with pytest.raises(ValueError, match=re.escape("`optimizer` must be one of 'sgd', 'adamw'")):
        fine_tune(_encoder(), data, data, num_classes=2, optimizer="adam")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=re.escape("`momentum` must be in the closed interval")):
        fine_tune(_encoder(), data, data, num_classes=2, momentum=1.5)
    empty = TensorDataset(torch.zeros(0, 3, 4, 8, 8), torch.zeros(0, dtype=torch.long))
    with pytest.raises(ValueError, match="`train_data` is an empty dataset"):
        fine_tune(_encoder(), empty, data, num_classes=2)
    bad = TensorDataset(torch.zeros(2, 3, 4, 8, 8), torch.tensor([0, 2]))
    with pytest.raises(ValueError, match="`num_classes` is 2 but a training label is 2"):
        fine_tune(_encoder(), bad, data, num_classes=2)
    with pytest.raises(ValueError, match=re.escape("must return features of shape (B, D)")):
        fine_tune(nn.Conv3d(3, 2, 1), data, data, num_classes=2)
