"""The micro term's still hard negatives, pooled where the clip's actor moves."""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Literal

import pytest
import torch
from torch import nn

from bgdebias.losses import DualBackgroundLoss
from bgdebias.models import Small3DCNN
from bgdebias.training import (
    DebiasedMoCo,
    DebiasEncoder,
    EncodedClips,
    PretrainConfig,
    build_mixer,
    build_recipe,
)
from scenes import two_views_of_a_moving_square


class _Recorder:
    """Records the loss's keyword arguments and the key encoder's outputs of one step."""

    def __init__(self, recipe: DebiasedMoCo) -> None:
        self.loss_inputs: dict[str, Any] = {}
        self.loss_args: tuple[Any, ...] = ()
        self.keys: list[EncodedClips] = []
        recipe.loss.register_forward_pre_hook(self._loss, with_kwargs=True)
        recipe.key_encoder.register_forward_hook(lambda _m, _a, out: self.keys.append(out))

    def _loss(self, _module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.loss_args, self.loss_inputs = args, kwargs


def _step(
    config: PretrainConfig, mode: Literal["own", "positive"]
) -> tuple[DebiasedMoCo, _Recorder]:
    resolved = dataclasses.replace(
        config, micro_negative_saliency=mode, hard_negative="both"
    ).resolved()
    torch.manual_seed(0)
    recipe = build_recipe(resolved)
    recorder = _Recorder(recipe)
    recipe(*two_views_of_a_moving_square(), generator=torch.Generator().manual_seed(0))
    return recipe, recorder


def test_own_saliency_makes_every_still_micro_negative_one_vector(
    tiny_config: PretrainConfig,
) -> None:
    """Why the option exists: a still clip's own salient map is empty."""
    _, recorder = _step(tiny_config, "own")
    negatives = recorder.loss_inputs["micro_background_key"]  # (B, 2, D)
    for kind in range(2):
        torch.testing.assert_close(negatives[:, kind], negatives[:1, kind].expand(4, -1))


def test_positive_saliency_pools_each_still_negative_where_its_actor_moves(
    tiny_config: PretrainConfig,
) -> None:
    recipe, recorder = _step(tiny_config, "positive")
    (keys,) = recorder.keys  # one key batch: [key view, mixed, background, frozen]
    assert keys.features is not None
    assert keys.saliency is not None
    features = torch.split(keys.features, 4)
    mixed_saliency = torch.split(keys.saliency, 4)[1]
    negatives = recorder.loss_inputs["micro_background_key"]
    for kind, chunk in enumerate((2, 3)):
        mean_map = features[chunk].mean(dim=2)  # (B, C, H, W)
        pooled = (mean_map * mixed_saliency).sum(dim=(2, 3)) / mixed_saliency.sum(dim=(2, 3))
        assert recipe.key_encoder.micro_head is not None
        expected = recipe.key_encoder.micro_head(pooled)
        torch.testing.assert_close(negatives[:, kind], expected, atol=1e-5, rtol=1e-4)
    assert not torch.allclose(negatives[0, 0], negatives[1, 0])  # one per clip
    # The wide term, the micro positive and the queues are untouched by the option.
    _, own = _step(tiny_config, "own")
    for name in ("mixed_key", "background_key", "micro_key", "micro_query"):
        torch.testing.assert_close(recorder.loss_inputs[name], own.loss_inputs[name])
    for mine, theirs in zip(recorder.loss_args, own.loss_args, strict=True):  # query, key
        torch.testing.assert_close(mine, theirs)


def test_the_one_frame_key_pass_gives_the_same_pooled_negatives() -> None:
    """With batch norm on running statistics, one frame stands for the still clip here too."""
    losses = []
    for one_frame in (False, True):
        torch.manual_seed(0)
        backbone = Small3DCNN(base_width=4, temporal_padding="replicate")
        encoder = DebiasEncoder(backbone, projection_dim=8, hidden_dim=16, micro=True)
        recipe = DebiasedMoCo(
            encoder,
            mixer=build_mixer(mask_mode="frame", threshold="noise", beta=0.5, mix_prob=1.0),
            loss=DualBackgroundLoss(),
            queue_size=16,
            hard_negatives=("background", "frozen"),
            one_frame_still_keys=one_frame,
            micro_negative_saliency="positive",
        ).eval()
        with torch.no_grad():
            losses.append(
                recipe(*two_views_of_a_moving_square(), generator=torch.Generator().manual_seed(0))
            )
    torch.testing.assert_close(losses[0].micro, losses[1].micro, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(losses[0].wide, losses[1].wide, atol=1e-5, rtol=1e-4)


def test_micro_embedding_where_with_its_own_map_is_the_micro_embedding() -> None:
    torch.manual_seed(0)
    encoder = DebiasEncoder(Small3DCNN(base_width=2), projection_dim=8, hidden_dim=16, micro=True)
    clips, _ = two_views_of_a_moving_square()
    out = encoder(clips, keep_maps=True)
    assert out.features is not None
    assert out.saliency is not None
    assert out.saliency.shape == (4, 1, *out.features.shape[-2:])
    again = encoder.micro_embedding_where(out.features, out.saliency)
    torch.testing.assert_close(again, out.micro_embedding)
    plain = encoder(clips)
    assert plain.features is None
    assert plain.saliency is None


def test_micro_embedding_where_needs_the_micro_branch() -> None:
    encoder = DebiasEncoder(Small3DCNN(base_width=2), projection_dim=8, hidden_dim=16, micro=False)
    with pytest.raises(ValueError, match="needs an encoder built with micro=True"):
        encoder.micro_embedding_where(torch.rand(1, 16, 2, 4, 4), torch.rand(1, 1, 4, 4))


def test_unknown_micro_negative_saliency_is_refused(tiny_config: PretrainConfig) -> None:
    with pytest.raises(ValueError, match=re.escape("micro_negative_saliency")):
        dataclasses.replace(tiny_config, micro_negative_saliency="mixed")  # type: ignore[arg-type]
    encoder = DebiasEncoder(Small3DCNN(base_width=2), projection_dim=8, hidden_dim=16, micro=True)
    with pytest.raises(ValueError, match=re.escape("`micro_negative_saliency`")):
        DebiasedMoCo(
            encoder,
            mixer=None,
            loss=DualBackgroundLoss(w_wide=0.0, w_micro=0.0),
            queue_size=8,
            micro_negative_saliency="both",  # type: ignore[arg-type]
        )
