"""One-frame still keys: the motionless hard negatives encoded from one frame each."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest
import torch

from bgdebias.blocks import SemiNegativePairMixer
from bgdebias.data.transforms import ClipViewAugmentation
from bgdebias.losses import DualBackgroundLoss
from bgdebias.models import (
    Small3DCNN,
    normalise_with,
    record_batch_statistics,
    replicate_temporal_padding,
    video_backbone,
)
from bgdebias.models.backbone import VideoBackbone
from bgdebias.training import DebiasedMoCo, DebiasEncoder, PretrainConfig, build_recipe


def _encoder(backbone: VideoBackbone) -> DebiasEncoder:
    return DebiasEncoder(backbone, projection_dim=8, hidden_dim=16, micro=True)


def _moving_clips(batch: int = 4, size: int = 32) -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    base = torch.rand(batch, 3, 1, size, size, generator=generator).expand(-1, -1, 8, -1, -1)
    moving = base.clone()
    for t in range(8):
        moving[:, :, t, 10:16, 2 + 3 * t : 8 + 3 * t] = 1.0
    return moving


@pytest.mark.parametrize("backbone", ["small3d", "small3d_frame_differences", "r3d_18"])
def test_one_frame_gives_the_still_clip_keys_under_the_recorded_statistics(
    backbone: str,
) -> None:
    """The still clip, encoded whole with the moving batch's statistics, gives the same keys."""
    torch.manual_seed(0)
    if backbone == "r3d_18":
        model: VideoBackbone = video_backbone("r3d_18", stage="layer3")
        replicate_temporal_padding(model)
    else:
        model = Small3DCNN(base_width=4, frame_differences=backbone.endswith("differences"))
    encoder = _encoder(model).train()
    frames = torch.rand(3, 3, 1, 32, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad(), record_batch_statistics(encoder) as statistics:
        encoder(_moving_clips())
    with torch.no_grad(), normalise_with(encoder, statistics):
        one = encoder.encode_still(frames)
        whole = encoder(frames.expand(-1, -1, 8, -1, -1).contiguous())
    torch.testing.assert_close(one.embedding, whole.embedding, atol=1e-5, rtol=1e-4)
    assert one.micro_embedding is not None
    assert whole.micro_embedding is not None
    torch.testing.assert_close(one.micro_embedding, whole.micro_embedding, atol=1e-5, rtol=1e-4)


def _loss_inputs(recipe: DebiasedMoCo) -> dict[str, Any]:
    captured: dict[str, Any] = {}
    forward = recipe.loss.forward

    def spy(*args: Any, **kwargs: Any) -> Any:
        captured.update(kwargs, query=args[0], key=args[1])
        return forward(*args, **kwargs)

    recipe.loss.forward = spy  # type: ignore[method-assign]
    recipe(_moving_clips(), _moving_clips().flip(-2), generator=torch.Generator().manual_seed(0))
    return captured


@pytest.mark.parametrize("hard_negative", ["both", "all", "frozen"])
def test_with_running_statistics_the_loss_sees_the_same_negatives_in_the_same_order(
    tiny_config: PretrainConfig, hard_negative: str
) -> None:
    """With batch norm in evaluation mode both encodings are exact: only the cost differs."""
    captured = []
    for one_frame in (False, True):
        config = dataclasses.replace(
            tiny_config,
            hard_negative=hard_negative,  # type: ignore[arg-type]
            one_frame_still_keys=one_frame,
        ).resolved()
        torch.manual_seed(0)
        recipe = build_recipe(config).eval()
        captured.append(_loss_inputs(recipe))
    whole, one = captured
    for name in ("key", "mixed_key", "background_key", "micro_key", "micro_background_key"):
        torch.testing.assert_close(one[name], whole[name], atol=1e-5, rtol=1e-4, msg=name)


def test_training_mode_normalises_still_keys_with_the_key_batch(
    tiny_config: PretrainConfig,
) -> None:
    """In training mode the still keys follow the statistics of ``[k, mixed]`` only."""
    config = dataclasses.replace(
        tiny_config, hard_negative="both", one_frame_still_keys=True
    ).resolved()
    torch.manual_seed(0)
    recipe = build_recipe(config)
    captured = _loss_inputs(recipe)
    key_encoder = recipe.key_encoder
    query, key = _moving_clips(), _moving_clips().flip(-2)
    generator = torch.Generator().manual_seed(0)
    assert recipe.mixer is not None
    mixed = recipe.mixer(query, generator=generator)
    frozen_index = torch.randint(8, (4,), generator=generator)
    frozen = torch.stack([query[i, :, t] for i, t in enumerate(frozen_index.tolist())])
    still = torch.cat([mixed.background, frozen.unsqueeze(2).expand_as(query)])
    with torch.no_grad(), record_batch_statistics(key_encoder) as statistics:
        key_encoder(torch.cat([key, mixed.mixed]))
    with torch.no_grad(), normalise_with(key_encoder, statistics):
        expected = key_encoder(still.contiguous()).embedding
    expected = torch.stack(torch.split(expected, 4), dim=1)
    torch.testing.assert_close(captured["background_key"], expected, atol=1e-5, rtol=1e-4)


def test_the_photometric_draw_of_one_frame_is_that_of_its_still_clip() -> None:
    augment = ClipViewAugmentation(num_frames=8, size=32)
    frame = torch.rand(4, 3, 1, 32, 32, generator=torch.Generator().manual_seed(0))
    one = augment.photometric(frame, torch.Generator().manual_seed(3))
    whole = augment.photometric(frame.expand(-1, -1, 8, -1, -1), torch.Generator().manual_seed(3))
    torch.testing.assert_close(whole, one.expand_as(whole))


def test_off_by_default_and_on_where_one_frame_stands_for_the_clip() -> None:
    assert not PretrainConfig().resolved().one_frame_still_keys
    assert PretrainConfig(one_frame_still_keys=True).resolved().one_frame_still_keys
    video = PretrainConfig(dataset="ucf101", root="videos", one_frame_still_keys=True)
    assert video.resolved().one_frame_still_keys  # r3d_18, converted to replicate padding
    for refused in ({"batchnorm": "sync"}, {"backbone": "s3d", "dataset": "ucf101"}):
        config = PretrainConfig(one_frame_still_keys=True, root="videos", **refused)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match=re.escape("`one_frame_still_keys` needs")):
            config.resolved()


def test_one_frame_without_replicate_padding_is_refused() -> None:
    with pytest.raises(
        ValueError, match=re.escape("temporal_padding='zeros', batchnorm='shuffle'")
    ):
        PretrainConfig(temporal_padding="zeros", one_frame_still_keys=True).resolved()
    with pytest.raises(TypeError, match=re.escape("`one_frame_still_keys` must be a bool")):
        PretrainConfig(one_frame_still_keys="yes")  # type: ignore[arg-type]
    encoder = _encoder(Small3DCNN(base_width=2, temporal_padding="zeros"))
    with pytest.raises(ValueError, match=re.escape("layers ['layer1.0', 'layer2.0', 'layer3.0']")):
        DebiasedMoCo(
            encoder,
            mixer=SemiNegativePairMixer(),
            loss=DualBackgroundLoss(),
            queue_size=16,
            one_frame_still_keys=True,
        )
    with pytest.raises(ValueError, match=re.escape("mix frames without replicate temporal")):
        encoder.encode_still(torch.zeros(1, 3, 1, 32, 32))


def test_encode_still_takes_one_frame_per_clip() -> None:
    encoder = _encoder(Small3DCNN(base_width=2))
    with pytest.raises(
        ValueError, match=re.escape("one frame per clip (T=1 in (B, C, T, H, W)), got T=8")
    ):
        encoder.encode_still(torch.zeros(1, 3, 8, 32, 32))
