"""export_backbone: a checkpoint's backbone alone, loadable strict=True into the plain model."""

from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path
from typing import Any, Literal

import pytest
import torch
from torch import nn
from torchvision.models import video as tv_video

from bgdebias.data import KINETICS_MEAN
from bgdebias.models import Small3DCNN, replicate_temporal_padding, video_backbone
from bgdebias.training import (
    CheckpointError,
    DebiasEncoder,
    PretrainConfig,
    build_recipe,
    export_backbone,
    load_checkpoint,
    pretrain,
    save_checkpoint,
)
from bgdebias.training.loading import load_pretrained_encoder


def _clip(frames: int, size: int) -> torch.Tensor:
    return torch.rand(1, 3, frames, size, size, generator=torch.Generator().manual_seed(1))


def test_a_pretrained_small3d_round_trips_bit_for_bit(
    tiny_config: PretrainConfig, tmp_path: Path
) -> None:
    config = dataclasses.replace(tiny_config, steps=2)
    checkpoint = pretrain(config, progress=False).checkpoint
    exported = export_backbone(checkpoint, tmp_path / "out" / "backbone.pt")

    weights = torch.load(tmp_path / "out" / "backbone.pt", weights_only=True)
    model = Small3DCNN(**exported.model_options)
    model.load_state_dict(weights, strict=True)
    encoder, _ = load_pretrained_encoder(checkpoint)
    clip = _clip(8, 32)
    with torch.no_grad():
        mine, theirs = model.eval()(clip), encoder.backbone(clip)
    assert torch.equal(mine.pooled, theirs.pooled)
    assert torch.equal(mine.features, theirs.features)

    assert exported.model_options == {
        "stage": "layer3",
        "base_width": 32,
        "in_channels": 3,
        "pool": "max",
        "temporal_padding": "replicate",
        "frame_differences": True,  # small3d's default
    }
    metadata = json.loads((tmp_path / "out" / "backbone.pt.json").read_text())
    assert metadata["backbone"] == "small3d"
    assert metadata["step"] == 2
    assert metadata["encoder"] == "query"
    assert metadata["head"] is None
    assert metadata["model_options"] == exported.model_options
    assert metadata["input"]["num_frames"] == 8
    assert metadata["input"]["size"] == 32
    assert metadata["input"]["mean"] == list(KINETICS_MEAN)
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == [
        "backbone.pt",
        "backbone.pt.json",
    ]


def test_a_small3d_with_frame_differences_round_trips(
    tiny_config: PretrainConfig, tmp_path: Path
) -> None:
    config = dataclasses.replace(tiny_config, steps=1, frame_differences=True)
    checkpoint = pretrain(config, progress=False).checkpoint
    exported = export_backbone(checkpoint, tmp_path / "backbone.pt")
    assert exported.model_options["frame_differences"] is True
    assert exported.model_options["in_channels"] == 3
    model = Small3DCNN(**exported.model_options)
    model.load_state_dict(torch.load(exported.path, weights_only=True), strict=True)
    encoder, _ = load_pretrained_encoder(checkpoint)
    clip = _clip(8, 32)
    with torch.no_grad():
        assert torch.equal(model.eval()(clip).pooled, encoder.backbone(clip).pooled)


def test_the_key_encoder_can_be_exported_instead(tmp_path: Path) -> None:
    config = PretrainConfig(method="moco", hidden_dim=16, embed_dim=8, queue_size=8).resolved()
    recipe = build_recipe(config)
    with torch.no_grad():  # make the two encoders differ, as training does
        for parameter in recipe.key_encoder.backbone.parameters():
            parameter.add_(1.0)
    state = {"step": 1, "config": config.to_dict(), "model": recipe.state_dict()}
    checkpoint = save_checkpoint(state, tmp_path, 1)

    exported = export_backbone(checkpoint, tmp_path / "key.pt", key_encoder=True)
    weights = torch.load(exported.path, weights_only=True)
    assert exported.encoder == "key"
    expected = recipe.key_encoder.backbone.state_dict()
    assert weights.keys() == expected.keys()
    assert all(torch.equal(weights[key], expected[key]) for key in expected)
    query = recipe.query_encoder.backbone.state_dict()
    assert not torch.equal(weights["layer1.1.weight"], query["layer1.1.weight"])


def _torchvision_checkpoint(
    folder: Path, name: str, padding: Literal["zeros", "replicate"]
) -> tuple[Path, nn.Module]:
    """A checkpoint in pretrain's format holding a query encoder built as build_recipe does."""
    config = PretrainConfig(method="moco", backbone=name, temporal_padding=padding).resolved()
    backbone = video_backbone(name, stage=config.stage)
    if padding == "replicate":
        replicate_temporal_padding(backbone)
    encoder = DebiasEncoder(backbone, projection_dim=8, hidden_dim=16, micro=False)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():  # batch-norm statistics that are not the defaults
        for module in backbone.modules():
            if isinstance(module, nn.BatchNorm3d):
                assert module.running_mean is not None
                assert module.running_var is not None
                module.running_mean.uniform_(-0.1, 0.1, generator=generator)
                module.running_var.uniform_(0.5, 1.5, generator=generator)
    model = {f"query_encoder.{key}": value for key, value in encoder.state_dict().items()}
    state = {"step": 5, "config": config.to_dict(), "model": model}
    return save_checkpoint(state, folder, 5), backbone.eval()


def _torchvision_features(model: nn.Module, name: str, clip: torch.Tensor) -> torch.Tensor:
    if name == "s3d":  # its fixed AvgPool3d((2, 7, 7)) fits 16x224x224 clips only
        model.avgpool = nn.AdaptiveAvgPool3d(1)
    with torch.no_grad():
        features: torch.Tensor = model(clip)
    return features


@pytest.mark.parametrize(
    ("name", "padding"),
    [
        ("r3d_18", "zeros"),
        ("r3d_18", "replicate"),
        ("mc3_18", "replicate"),
        ("r2plus1d_18", "replicate"),
        ("s3d", "zeros"),
    ],
)
def test_a_torchvision_backbone_loads_strictly_into_the_plain_model(
    tmp_path: Path, name: str, padding: Literal["zeros", "replicate"]
) -> None:
    checkpoint, backbone = _torchvision_checkpoint(tmp_path, name, padding)
    exported = export_backbone(checkpoint, tmp_path / "backbone.pt")
    head = "classifier" if name == "s3d" else "fc"
    assert exported.head == head
    assert exported.temporal_padding == padding
    assert exported.excluded_keys == (
        ("classifier.1.weight", "classifier.1.bias") if name == "s3d" else ("fc.weight", "fc.bias")
    )

    model = getattr(tv_video, name)(weights=None)
    setattr(model, head, nn.Identity())
    model.load_state_dict(torch.load(exported.path, weights_only=True), strict=True)
    model.eval()
    clip = _clip(8, 64) if name == "s3d" else _clip(4, 32)
    with torch.no_grad():
        expected = backbone(clip).pooled
    plain = _torchvision_features(model, name, clip)
    if padding == "replicate":  # same weights, but zero padding in time: other features
        assert not torch.allclose(plain, expected, atol=1e-4)
        replicate_temporal_padding(model)
        plain = _torchvision_features(model, name, clip)
    torch.testing.assert_close(plain, expected, rtol=1e-5, atol=1e-6)


def test_old_checkpoints_with_duplicated_query_keys_export_the_query_encoder(
    tmp_path: Path,
) -> None:
    config = PretrainConfig(method="moco", hidden_dim=16, embed_dim=8, queue_size=8).resolved()
    recipe = build_recipe(config)
    weights = recipe.state_dict()
    alias = {f"_query_forward.{k}": torch.zeros_like(v) for k, v in weights.items()}
    state = {"step": 1, "config": config.to_dict(), "model": {**weights, **alias}}
    checkpoint = save_checkpoint(state, tmp_path, 1)
    exported = export_backbone(checkpoint, tmp_path / "backbone.pt")
    saved = torch.load(exported.path, weights_only=True)
    for key, value in recipe.query_encoder.backbone.state_dict().items():
        assert torch.equal(saved[key], value), key


def _small_checkpoint(folder: Path, **changes: Any) -> Path:
    config = PretrainConfig(method="moco", hidden_dim=16, embed_dim=8, queue_size=8).resolved()
    state = {"step": 1, "config": config.to_dict(), "model": build_recipe(config).state_dict()}
    state.update(changes)
    return save_checkpoint(state, folder, 1)


def test_damaged_or_foreign_checkpoints_raise_checkpoint_error(tmp_path: Path) -> None:
    output = tmp_path / "out" / "backbone.pt"
    with pytest.raises(
        CheckpointError, match=re.escape(f"checkpoint not found: {tmp_path}/missing.pt")
    ):
        export_backbone(tmp_path / "missing.pt", output)
    (tmp_path / "notes.txt").write_text("not a checkpoint")
    with pytest.raises(CheckpointError, match="is truncated or not a PyTorch checkpoint"):
        export_backbone(tmp_path / "notes.txt", output)
    torch.save({"weights": torch.zeros(1)}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="is not a bgdebias checkpoint"):
        export_backbone(tmp_path / "other.pt", output)
    no_config = save_checkpoint({"step": 1, "model": {}}, tmp_path / "a", 1)
    with pytest.raises(CheckpointError, match="holds no valid pretraining configuration"):
        export_backbone(no_config, output)
    no_backbone = _small_checkpoint(tmp_path / "b", model={"queue.queue": torch.zeros(1)})
    with pytest.raises(
        CheckpointError, match=re.escape("holds no query encoder backbone (no 'query_encoder.")
    ):
        export_backbone(no_backbone, output)
    state = load_checkpoint(_small_checkpoint(tmp_path / "c"))
    del state["model"]["query_encoder.backbone.layer2.1.running_var"]
    cut = save_checkpoint(state, tmp_path / "c", 2)
    with pytest.raises(CheckpointError, match="does not fit a plain small3d: Error"):
        export_backbone(cut, output)
    assert not output.parent.exists()  # nothing written by a failed export


def test_unusable_outputs_are_refused_before_the_checkpoint_is_read(tmp_path: Path) -> None:
    missing = tmp_path / "missing.pt"  # never read: the output check comes first
    with pytest.raises(
        ValueError,
        match=re.escape(f"`output` {tmp_path} is a folder; give a file name such as {tmp_path}/b"),
    ):
        export_backbone(missing, tmp_path)
    (tmp_path / "notes.txt").write_text("a file")
    with pytest.raises(
        ValueError, match=re.escape(f"backbone.pt: {tmp_path}/notes.txt is a file, not a folder")
    ):
        export_backbone(missing, tmp_path / "notes.txt" / "backbone.pt")
    (tmp_path / "backbone.pt").write_text("an earlier export")
    with pytest.raises(
        ValueError, match=r"backbone.pt already exist\(s\); pass overwrite=True to replace them"
    ):
        export_backbone(missing, tmp_path / "backbone.pt")
    checkpoint = _small_checkpoint(tmp_path)
    with pytest.raises(ValueError, match="is the checkpoint itself"):
        export_backbone(checkpoint, checkpoint, overwrite=True)
    with pytest.raises(TypeError, match="`overwrite` must be True or False, got 'yes'"):
        export_backbone(checkpoint, tmp_path / "x.pt", overwrite="yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="`key_encoder` must be True or False, got 1"):
        export_backbone(checkpoint, tmp_path / "x.pt", key_encoder=1)  # type: ignore[arg-type]
    export_backbone(checkpoint, tmp_path / "backbone.pt", overwrite=True)
    assert torch.load(tmp_path / "backbone.pt", weights_only=True)["layer1.1.weight"].ndim == 5


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_a_read_only_folder_is_refused(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        with pytest.raises(ValueError, match=r"is not writable.*Permission denied"):
            export_backbone(tmp_path / "missing.pt", locked / "backbone.pt")
    finally:
        locked.chmod(0o700)


def test_a_failed_write_leaves_the_earlier_export_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkpoint = _small_checkpoint(tmp_path / "run")
    first = export_backbone(checkpoint, tmp_path / "backbone.pt")
    before = first.path.read_bytes()

    def full_disk(_obj: object, handle: Any) -> None:
        handle.write(b"PK half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", full_disk)
    with pytest.raises(OSError, match="No space left on device"):
        export_backbone(checkpoint, tmp_path / "backbone.pt", overwrite=True)
    assert first.path.read_bytes() == before
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "backbone.pt",
        "backbone.pt.json",
        "run",
    ]
