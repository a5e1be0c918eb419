from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import nn

from bgdebias.training import PretrainConfig, ResolvedPretrainConfig, build_recipe
from scenes import two_views_of_a_moving_square


def _count_key_batches(recipe: nn.Module) -> list[int]:
    sizes: list[int] = []
    recipe.key_encoder.backbone.register_forward_hook(  # type: ignore[union-attr]
        lambda _module, args, _out: sizes.append(args[0].shape[0])
    )
    return sizes


@pytest.mark.parametrize(
    ("method", "hard_negative", "key_batch"),
    [
        ("moco", "background", 4),
        ("merge", "background", 8),
        ("semi_negative", "background", 12),
        ("full", "background", 12),
        ("full", "frozen", 12),
        ("full", "both", 16),
        ("full", "reversed", 12),
        ("full", "all", 20),
    ],
)
def test_backgrounds_go_through_the_key_encoder_in_the_keys_batch(
    tiny_config: PretrainConfig, method: str, hard_negative: str, key_batch: int
) -> None:
    """Batch-norm leakage: mixed clips and hard negatives share ONE key-encoder batch."""
    config = dataclasses.replace(
        tiny_config,
        method=method,  # type: ignore[arg-type]
        hard_negative=hard_negative,  # type: ignore[arg-type]
        one_frame_still_keys=False,
    ).resolved()
    torch.manual_seed(0)
    recipe = build_recipe(config)
    sizes = _count_key_batches(recipe)
    query, key = two_views_of_a_moving_square()
    recipe(query, key, generator=torch.Generator().manual_seed(0))
    assert sizes == [key_batch]


@pytest.mark.parametrize(
    ("hard_negative", "moving", "still"),
    [("background", 8, 4), ("frozen", 8, 4), ("both", 8, 8), ("reversed", 12, 0), ("all", 12, 8)],
)
def test_one_frame_still_keys_encode_the_still_negatives_after_the_key_batch(
    tiny_config: PretrainConfig, hard_negative: str, moving: int, still: int
) -> None:
    config = dataclasses.replace(
        tiny_config,
        hard_negative=hard_negative,  # type: ignore[arg-type]
        one_frame_still_keys=True,
    ).resolved()
    torch.manual_seed(0)
    recipe = build_recipe(config)
    shapes: list[tuple[int, int]] = []
    recipe.key_encoder.backbone.register_forward_hook(
        lambda _module, args, _out: shapes.append((args[0].shape[0], args[0].shape[2]))
    )
    query, key = two_views_of_a_moving_square()
    recipe(query, key, generator=torch.Generator().manual_seed(0))
    assert shapes == [(moving, 8)] + ([(still, 1)] if still else [])


def test_plain_moco_has_only_the_static_term(tiny_config: PretrainConfig) -> None:
    config = dataclasses.replace(tiny_config, method="moco").resolved()
    recipe = build_recipe(config)
    assert recipe.mixer is None
    assert recipe.micro_queue is None
    out = recipe(*two_views_of_a_moving_square())
    assert out.wide.item() == 0.0
    assert out.micro.item() == 0.0
    torch.testing.assert_close(out.total, out.static)


def test_full_method_gradients_and_key_encoder_momentum(tiny_config: PretrainConfig) -> None:
    config = tiny_config.resolved()
    torch.manual_seed(0)
    recipe = build_recipe(config)
    out = recipe(*two_views_of_a_moving_square(), generator=torch.Generator().manual_seed(0))
    assert out.wide.item() > 0
    assert out.micro.item() > 0
    out.total.backward()
    first_conv = next(p for p in recipe.query_encoder.backbone.parameters())
    assert first_conv.grad is not None
    assert first_conv.grad.abs().sum() > 0
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
    recipe(*two_views_of_a_moving_square(), generator=torch.Generator().manual_seed(0))
    changed = (recipe.queue.negatives != before).any(dim=1)
    assert int(changed.sum()) == 4


def test_full_contrasts_the_micro_term_against_the_mixed_clip(
    tiny_config: PretrainConfig,
) -> None:
    """`full` and `semi_negative_micro` differ only in the micro term's positive."""
    losses = {}
    for method in ("semi_negative_micro", "full"):
        config = dataclasses.replace(tiny_config, method=method).resolved()
        torch.manual_seed(0)
        recipe = build_recipe(config)
        losses[method] = recipe(
            *two_views_of_a_moving_square(), generator=torch.Generator().manual_seed(0)
        )
    torch.testing.assert_close(losses["full"].static, losses["semi_negative_micro"].static)
    torch.testing.assert_close(losses["full"].wide, losses["semi_negative_micro"].wide)
    assert not torch.isclose(losses["full"].micro, losses["semi_negative_micro"].micro)


class _LossSpy(nn.Module):
    """Records the keyword arguments the recipe hands to its loss."""

    def __init__(self, loss: nn.Module) -> None:
        super().__init__()
        self.inner = loss
        self.calls: list[dict[str, object]] = []

    def __getattr__(self, name: str) -> torch.Tensor | nn.Module:
        try:
            return super().__getattr__(name)
        except AttributeError:
            inner: torch.Tensor | nn.Module = getattr(self.inner, name)
            return inner

    def forward(self, *args: object, **kwargs: object) -> object:
        self.calls.append(kwargs)
        return self.inner(*args, **kwargs)


def _spied_recipe(config: ResolvedPretrainConfig) -> tuple[nn.Module, _LossSpy]:
    torch.manual_seed(0)
    recipe = build_recipe(config)
    spy = _LossSpy(recipe.loss)
    recipe.loss = spy  # type: ignore[assignment]
    return recipe, spy


@pytest.mark.parametrize(("hard_negative", "count"), [("background", 1), ("both", 2)])
def test_the_micro_term_gets_the_hard_negatives_too(
    tiny_config: PretrainConfig, hard_negative: str, count: int
) -> None:
    config = dataclasses.replace(tiny_config, hard_negative=hard_negative).resolved()  # type: ignore[arg-type]
    recipe, spy = _spied_recipe(config)
    recipe(*two_views_of_a_moving_square(), generator=torch.Generator().manual_seed(0))
    call = spy.calls[0]
    wide, micro = call["background_key"], call["micro_background_key"]
    assert isinstance(wide, torch.Tensor)
    assert isinstance(micro, torch.Tensor)
    assert wide.shape == (4, count, 16)
    assert micro.shape == (4, count, 16)
    valid = call["background_valid"]
    assert isinstance(valid, torch.Tensor)
    assert valid.shape == (4, count)
    assert bool(valid.all())


def test_unmixed_clips_are_no_wide_positives(tiny_config: PretrainConfig) -> None:
    """With ``mix_prob=0`` no clip is mixed: the wide and micro terms have no valid row."""
    config = dataclasses.replace(tiny_config, mix_prob=0.0).resolved()
    recipe, spy = _spied_recipe(config)
    out = recipe(*two_views_of_a_moving_square(), generator=torch.Generator().manual_seed(0))
    call = spy.calls[0]
    wide_valid = call["wide_valid"]
    assert isinstance(wide_valid, torch.Tensor)
    assert not bool(wide_valid.any())
    assert out.wide.item() == 0.0
    assert out.micro.item() == 0.0
    assert out.static.item() > 0.0


@pytest.mark.parametrize("mix_view", ["query", "key"])
def test_the_mixed_positive_comes_from_the_chosen_view(
    tiny_config: PretrainConfig, mix_view: str
) -> None:
    config = dataclasses.replace(tiny_config, mix_view=mix_view).resolved()  # type: ignore[arg-type]
    torch.manual_seed(0)
    recipe = build_recipe(config)
    seen: list[torch.Tensor] = []
    assert recipe.mixer is not None
    recipe.mixer.register_forward_hook(lambda _module, args, _out: seen.append(args[0]))
    query, key = two_views_of_a_moving_square()
    recipe(query, key, generator=torch.Generator().manual_seed(0))
    assert torch.equal(seen[0], key if mix_view == "key" else query)


def test_every_encoded_clip_gets_its_own_photometric_draw(tiny_config: PretrainConfig) -> None:
    config = dataclasses.replace(tiny_config, hard_negative="both").resolved()
    torch.manual_seed(0)
    recipe = build_recipe(config)
    finished: list[int] = []

    def photometric(clips: torch.Tensor, _generator: torch.Generator | None) -> torch.Tensor:
        finished.append(clips.shape[0])
        return clips * 0.5

    recipe(
        *two_views_of_a_moving_square(),
        generator=torch.Generator().manual_seed(0),
        photometric=photometric,
    )
    assert finished == [4, 4, 4, 4, 4]  # key, mixed, background, frozen, then the query


def test_the_frozen_negative_is_one_frame_of_the_mixed_view() -> None:
    from bgdebias.training.recipe import freeze_random_frame

    clip = torch.rand(3, 2, 5, 4, 4, generator=torch.Generator().manual_seed(0))
    frozen = freeze_random_frame(clip, generator=torch.Generator().manual_seed(1))
    index = torch.randint(5, (3,), generator=torch.Generator().manual_seed(1))
    for b in range(3):
        expected = clip[b, :, index[b] : index[b] + 1].expand(-1, 5, -1, -1)
        assert torch.equal(frozen[b], expected)


def test_the_reversed_negative_is_the_mixed_view_played_backwards(
    tiny_config: PretrainConfig,
) -> None:
    config = dataclasses.replace(tiny_config, hard_negative="reversed").resolved()
    torch.manual_seed(0)
    recipe = build_recipe(config)
    encoded: list[torch.Tensor] = []
    recipe.key_encoder.backbone.register_forward_hook(
        lambda _module, args, _out: encoded.append(args[0])
    )
    query, key = two_views_of_a_moving_square()
    recipe(query, key, generator=torch.Generator().manual_seed(0))
    key_batch = encoded[0].view(3, *query.shape)  # key, mixed, reversed
    assert torch.equal(key_batch[2], query.flip(2))


def test_hard_negatives_are_checked(tiny_config: PretrainConfig) -> None:
    from bgdebias.losses import DualBackgroundLoss
    from bgdebias.training.recipe import DebiasedMoCo

    recipe = build_recipe(tiny_config.resolved())
    with pytest.raises(ValueError, match="`hard_negatives` must be a sequence of"):
        DebiasedMoCo(
            recipe.query_encoder,
            mixer=recipe.mixer,
            loss=DualBackgroundLoss(),
            queue_size=8,
            hard_negatives=("scene",),  # type: ignore[arg-type]
        )
    with pytest.raises(ValueError, match="`mix_view` must be one of 'query', 'key'"):
        DebiasedMoCo(
            recipe.query_encoder,
            mixer=recipe.mixer,
            loss=DualBackgroundLoss(),
            queue_size=8,
            mix_view="third",  # type: ignore[arg-type]
        )
