from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from bgdebias.training.config import (
    PretrainConfig,
    ResolvedPretrainConfig,
    architecture_mismatch,
)


def test_synthetic_defaults_are_cpu_sized_and_video_defaults_follow_the_field() -> None:
    synthetic = PretrainConfig().resolved()
    assert (synthetic.backbone, synthetic.optimizer, synthetic.lr) == ("small3d", "adamw", 2e-3)
    assert (synthetic.num_frames, synthetic.size, synthetic.warmup_steps) == (8, 64, 20)
    assert (synthetic.flip_p, synthetic.min_crop_scale) == (0.0, 0.8)
    video = PretrainConfig(dataset="ucf101", root="/data/ucf101").resolved()
    assert (video.backbone, video.optimizer, video.momentum) == ("r3d_18", "sgd", 0.999)
    assert (video.flip_p, video.min_crop_scale, video.warmup_steps) == (0.5, 0.4, 0)
    assert (video.embed_dim, video.temperature) == (128, 0.1)
    assert PretrainConfig(lr=0.5).resolved().lr == 0.5


def test_appearance_weight_is_halved_beside_the_debiasing_terms_only() -> None:
    weights = {m: PretrainConfig(method=m).resolved().w_static for m in ("moco", "merge", "full")}
    assert weights == {"moco": 1.0, "merge": 0.5, "full": 0.5}
    assert PretrainConfig(method="full", w_static=1.0).resolved().w_static == 1.0
    assert PretrainConfig(method="moco", w_static=0.25).resolved().w_static == 0.25
    with pytest.raises(
        ValueError, match=re.escape("`w_static` must be a finite number >= 0, got -1.0")
    ):
        PretrainConfig(w_static=-1.0)


def _parts(method: str) -> tuple[bool, bool, bool, bool]:
    parts = PretrainConfig(method=method).parts  # type: ignore[arg-type]
    return (parts.mixer, parts.hard_negative, parts.micro, parts.micro_on_mixed)


def test_method_parts() -> None:
    assert _parts("moco") == (False, False, False, False)
    assert _parts("merge") == (True, False, False, False)
    assert _parts("semi_negative_micro") == (True, True, True, False)
    assert _parts("full") == (True, True, True, True)


def test_resolved_is_a_frozen_type_without_unset_values() -> None:
    config = PretrainConfig(method="moco")
    resolved = config.resolved()
    assert type(resolved) is ResolvedPretrainConfig
    optional = [f.name for f in dataclasses.fields(config) if getattr(config, f.name) is None]
    assert {"lr", "batch_size", "queue_size", "w_static"} <= set(optional)
    assert [name for name in optional if getattr(resolved, name) is None] == ["root", "annotations"]
    assert resolved.resolved() == resolved
    with pytest.raises(dataclasses.FrozenInstanceError):
        resolved.lr = 1.0  # type: ignore[misc]
    with pytest.raises(TypeError, match="missing 1 required keyword-only argument: 'lr'"):
        ResolvedPretrainConfig(**{k: v for k, v in resolved.to_dict().items() if k != "lr"})
    with pytest.raises(ValueError, match="dataset 'synthetic' has no `root` folder"):
        _ = resolved.dataset_root


def test_choices_come_from_the_blocks_and_the_dataset_registry() -> None:
    from typing import get_args, get_type_hints

    from bgdebias.blocks.decoupler import MaskMode, ThresholdMode
    from bgdebias.data.datasets.registry import VIDEO_DATASETS
    from bgdebias.training.config import DATASETS, MixerThreshold

    assert ("synthetic", *VIDEO_DATASETS) == DATASETS
    assert set(get_args(MixerThreshold)) == set(get_args(ThresholdMode)) - {"fame"}
    assert get_type_hints(PretrainConfig)["mask_mode"] is MaskMode  # the blocks' own type


def test_every_option_has_its_help_text_beside_it() -> None:
    missing = [f.name for f in dataclasses.fields(PretrainConfig) if not f.metadata.get("help")]
    assert missing == []


def test_files_round_trip(tmp_path: Path) -> None:
    config = PretrainConfig(method="merge", steps=7)
    path = config.save(tmp_path / "run" / "config.json")
    assert PretrainConfig.from_file(path) == config
    yaml_path = tmp_path / "c.yaml"
    yaml_path.write_text("method: moco\nsteps: 3\nlr: 0.01\n")
    loaded = PretrainConfig.from_file(yaml_path)
    assert (loaded.method, loaded.steps, loaded.lr) == ("moco", 3, 0.01)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "simclr"}, "`method` must be one of 'moco', 'fame', 'merge'"),
        ({"dataset": "imagenet"}, "`dataset` must be one of 'synthetic'"),
        ({"temperature": 0}, "`temperature` must be a finite number > 0"),
        ({"beta": 1.0}, "`beta` must be in the open interval (0, 1)"),
        ({"batch_size": 1}, "`batch_size` must be an int >= 2, got 1"),
        ({"steps": 0}, "`steps` must be an int >= 1, got 0"),
        ({"dataset": "ucf101"}, "`root` is required for dataset 'ucf101'"),
        ({"batchnorm": "group"}, "`batchnorm` must be one of 'shuffle', 'sync', 'local'"),
        ({"flip_p": 1.5}, "`flip_p` must be in the closed interval [0, 1], got 1.5"),
        ({"min_crop_scale": 0}, "`min_crop_scale` must be a finite number > 0"),
        ({"min_crop_scale": 1.2}, "`min_crop_scale` must be in (0, 1] (a fraction of the frame"),
        ({"warmup_steps": -1}, "`warmup_steps` must be an int >= 0, got -1"),
        ({"log_images_every": -1}, "`log_images_every` must be an int >= 0, got -1"),
        ({"knn_every": -5}, "`knn_every` must be an int >= 0, got -5"),
        ({"knn_k": 0}, "`knn_k` must be an int >= 1, got 0"),
        ({"knn_videos": 1}, "`knn_videos` must be an int >= 2, got 1"),
        (
            {"knn_k": 40, "knn_videos": 32},
            "`knn_k` must be <= `knn_videos` (the labelled videos it votes among), got knn_k=40",
        ),
    ],
)
def test_bad_values(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        PretrainConfig(**kwargs)  # type: ignore[arg-type]


def test_frame_differences_need_a_bool_and_the_small_backbone() -> None:
    with pytest.raises(TypeError, match=re.escape("`frame_differences` must be a bool, got str")):
        PretrainConfig(frame_differences="yes")  # type: ignore[arg-type]
    with pytest.raises(
        ValueError,
        match=re.escape("`frame_differences` needs backbone 'small3d', got backbone 'r3d_18'"),
    ):
        PretrainConfig(backbone="r3d_18", frame_differences=True).resolved()


def test_bad_files(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=re.escape("unknown configuration keys ['lrr']")):
        PretrainConfig.from_dict({"lrr": 1})
    with pytest.raises(FileNotFoundError, match="configuration file not found"):
        PretrainConfig.from_file(tmp_path / "missing.yaml")
    bad = tmp_path / "c.txt"
    bad.write_text("{}")
    with pytest.raises(ValueError, match=re.escape("must end in .json, .yaml or .yml")):
        PretrainConfig.from_file(bad)
    listing = tmp_path / "c.json"
    listing.write_text(json.dumps([1, 2]))
    with pytest.raises(ValueError, match="must hold a mapping, got list"):
        PretrainConfig.from_file(listing)


def test_architecture_mismatch_names_fields() -> None:
    saved = PretrainConfig(method="full").resolved().to_dict()
    current = PretrainConfig(method="moco", steps=999).resolved()
    assert architecture_mismatch(saved, current) == ["method: checkpoint 'full' != run 'moco'"]
