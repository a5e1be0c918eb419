"""Pictures of the masks, mixed clips and salient maps, for TensorBoard or any sink."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from bgdebias.data import MovingSpriteDataset
from bgdebias.training import (
    DebiasedMoCo,
    PictureLogger,
    PretrainConfig,
    build_recipe,
    pretrain,
    tensorboard_picture_sink,
    training_pictures,
)
from bgdebias.training.config import Method
from bgdebias.training.pictures import first_clips
from bgdebias.viz import mixer_panel


def _recipe(method: Method) -> DebiasedMoCo:
    config = PretrainConfig(method=method, size=32, hidden_dim=16, embed_dim=8, queue_size=8)
    torch.manual_seed(0)
    return build_recipe(config.resolved())


def _clips() -> torch.Tensor:
    return first_clips(MovingSpriteDataset(length=3, num_frames=12, size=32), 3, frames=8, size=32)


def test_pictures_of_the_full_method_leave_the_model_and_the_random_state_alone() -> None:
    recipe = _recipe("full")
    recipe.key_encoder.eval()  # a part deliberately in eval mode stays so
    modes = {name: module.training for name, module in recipe.named_modules()}
    state = torch.get_rng_state()
    clips = _clips()
    pictures = training_pictures(recipe, clips, seed=3)
    kinds = ("decoupler", "mixer", "saliency")
    assert sorted(pictures) == [f"{kind}/{i}" for kind in kinds for i in range(3)]
    assert {name: module.training for name, module in recipe.named_modules()} == modes
    assert torch.equal(torch.get_rng_state(), state)
    assert all(image.dtype == np.uint8 and image.ndim == 3 for image in pictures.values())
    again = training_pictures(recipe, clips, seed=3)
    assert all(np.array_equal(pictures[name], again[name]) for name in pictures)
    mixer = recipe.mixer
    assert mixer is not None
    mixed = mixer(clips, generator=torch.Generator().manual_seed(3))
    assert np.array_equal(pictures["mixer/1"], mixer_panel(clips, mixed, 1).image)


def test_plain_moco_has_no_mixer_but_a_salient_map() -> None:
    assert sorted(training_pictures(_recipe("moco"), _clips())) == [
        "saliency/0",
        "saliency/1",
        "saliency/2",
    ]


def test_bad_arguments() -> None:
    recipe = _recipe("full")
    with pytest.raises(ValueError, match=r"B >= 2 \(the mixer needs a partner\), got shape"):
        training_pictures(recipe, _clips()[:1])
    with pytest.raises(TypeError, match="`model` must be a recipe with a `query_encoder`"):
        training_pictures(torch.nn.Linear(2, 2), _clips())
    with pytest.raises(ValueError, match="`every` must be an int >= 1, got 0"):
        PictureLogger(print, every=0)
    with pytest.raises(ValueError, match="`num_clips` must be an int >= 2, got 1"):
        PictureLogger(print, every=1, num_clips=1)
    with pytest.raises(TypeError, match="`sink` must be callable, got str"):
        PictureLogger("tensorboard", every=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="`writer` must have an add_image method"):
        tensorboard_picture_sink(object())
    videos = MovingSpriteDataset(length=2, num_frames=12, size=32)
    with pytest.raises(ValueError, match="the dataset has 2 videos; the pictures need 3"):
        first_clips(videos, 3, frames=8, size=32)
    with pytest.raises(ValueError, match="are smaller than the clips of the run"):
        first_clips(videos, 2, frames=16, size=32)


def test_log_images_every_without_tensorboard_is_refused_before_anything_is_written(
    tiny_config: PretrainConfig,
) -> None:
    try:
        import torch.utils.tensorboard  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("tensorboard is installed")
    config = dataclasses.replace(tiny_config, log_images_every=2)
    with pytest.raises(ValueError, match="`log_images_every` = 2 writes pictures to TensorBoard"):
        pretrain(config, progress=False)
    assert not (Path(config.output_dir) / "config.json").exists()


def test_log_images_every_writes_pictures_to_tensorboard(tiny_config: PretrainConfig) -> None:
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    config = dataclasses.replace(tiny_config, log_images_every=2)
    pretrain(config, progress=False)
    events = EventAccumulator(str(Path(config.output_dir) / "tensorboard"))
    events.Reload()
    tags = events.Tags()["images"]
    assert "pictures/mixer/0" in tags
    assert "pictures/saliency/1" in tags
    assert [image.step for image in events.Images("pictures/decoupler/0")] == [2, 4]
    assert "pretrain/loss" in events.Tags()["scalars"]
