from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import nn

from bgdebias.training import PretrainConfig, build_recipe


def _views(batch: int = 4, size: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    base = torch.rand(batch, 3, 1, size, size, generator=generator).expand(-1, -1, 8, -1, -1)
    moving = base.clone()
    for t in range(8):  # a bright square moving right, so the mixer finds motion
        moving[:, :, t, 10:16, 2 + 3 * t : 8 + 3 * t] = 1.0
    return moving, moving.flip(-2)


def _count_key_batches(recipe: nn.Module) -> list[int]:
    sizes: list[int] = []
    recipe.key_encoder.backbone.register_forward_hook(  # type: ignore[union-attr]
        lambda module, args, out: sizes.append(args[0].shape[0])
    )
    return sizes


@pytest.mark.parametrize(
    ("method", "key_batch"), [("moco", 4), ("merge", 8), ("semi_negative", 12), ("full", 12)]
)
def test_backgrounds_go_through_the_key_encoder_in_the_keys_batch(
    tiny_config: PretrainConfig, method: str, key_batch: int
) -> None:
    """Batch-norm leakage: mixed and background clips share ONE key-encoder batch."""
    config = dataclasses.replace(tiny_config, method=method).resolved()  # type: ignore[arg-type]
    torch.manual_seed(0)
    recipe = build_recipe(config)
    sizes = _count_key_batches(recipe)
    query, key = _views()
    recipe(query, key, generator=torch.Generator().manual_seed(0))
    assert sizes == [key_batch]


def test_plain_moco_has_only_the_static_term(tiny_config: PretrainConfig) -> None:
    config = dataclasses.replace(tiny_config, method="moco").resolved()
    recipe = build_recipe(config)
    assert recipe.mixer is None and recipe.micro_queue is None
    out = recipe(*_views())
    assert out.wide.item() == 0.0 and out.micro.item() == 0.0
    torch.testing.assert_close(out.total, out.static)


def test_full_method_gradients_and_key_encoder_momentum(tiny_config: PretrainConfig) -> None:
    config = tiny_config.resolved()
    torch.manual_seed(0)
    recipe = build_recipe(config)
    out = recipe(*_views(), generator=torch.Generator().manual_seed(0))
    assert out.wide.item() > 0 and out.micro.item() > 0
    out.total.backward()
    first_conv = next(p for p in recipe.query_encoder.backbone.parameters())
    assert first_conv.grad is not None and first_conv.grad.abs().sum() > 0
    assert all(p.grad is None for p in recipe.key_encoder.parameters())
    with torch.no_grad():
        for p in recipe.query_encoder.parameters():
            p.add_(1.0)
    before = [p.clone() for p in recipe.key_encoder.parameters()]
    recipe.update_key_encoder(0.9)
    for old, new, online in zip(
        before, recipe.key_encoder.parameters(), recipe.query_encoder.parameters(), strict=True
    ):
        torch.testing.assert_close(new, 0.9 * old + 0.1 * online)


def test_each_step_enqueues_the_batch_keys(tiny_config: PretrainConfig) -> None:
    recipe = build_recipe(tiny_config.resolved())
    before = recipe.queue.negatives.clone()
    recipe(*_views(), generator=torch.Generator().manual_seed(0))
    changed = (recipe.queue.negatives != before).any(dim=1)
    assert int(changed.sum()) == 4


def test_full_contrasts_the_micro_term_against_the_mixed_clip(
    tiny_config: PretrainConfig,
) -> None:
    """`full` and `semi_negative_micro` differ only in the micro term's positive."""
    losses = {}
    for method in ("semi_negative_micro", "full"):
        config = dataclasses.replace(tiny_config, method=method).resolved()  # type: ignore[arg-type]
        torch.manual_seed(0)
        recipe = build_recipe(config)
        losses[method] = recipe(*_views(), generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(losses["full"].static, losses["semi_negative_micro"].static)
    torch.testing.assert_close(losses["full"].wide, losses["semi_negative_micro"].wide)
    assert not torch.isclose(losses["full"].micro, losses["semi_negative_micro"].micro)
