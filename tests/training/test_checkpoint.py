from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from bgdebias.training import (
    CheckpointError,
    latest_checkpoint,
    list_checkpoints,
    load_checkpoint,
    save_checkpoint,
)


def test_round_trip_and_rotation(tmp_path: Path) -> None:
    for step in (10, 20, 30):
        save_checkpoint(
            {"step": step, "weights": torch.full((2,), float(step))}, tmp_path, step, keep=2
        )
    names = [path.name for path in list_checkpoints(tmp_path)]
    assert names == ["checkpoint-00000020.pt", "checkpoint-00000030.pt"]
    state = load_checkpoint(latest_checkpoint(tmp_path))  # type: ignore[arg-type]
    assert state["step"] == 30
    assert torch.equal(state["weights"], torch.full((2,), 30.0))


def test_no_temporary_files_are_left_and_torn_files_are_ignored(tmp_path: Path) -> None:
    save_checkpoint({"step": 1}, tmp_path, 1)
    (tmp_path / ".checkpoint-00000002.pt.tmp-123").write_bytes(b"half a checkpoint")
    assert [path.name for path in list_checkpoints(tmp_path)] == ["checkpoint-00000001.pt"]
    assert not any(path.name.endswith(".tmp") for path in tmp_path.iterdir())


class Payload:
    """An arbitrary class: unpickling it would run code, so weights_only refuses it."""


def test_loading_refuses_pickled_code(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint-00000001.pt"
    torch.save({"step": 1, "object": Payload()}, path)
    with pytest.raises(CheckpointError, match="cannot read checkpoint"):
        load_checkpoint(path)


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="checkpoint not found"):
        load_checkpoint(tmp_path / "missing.pt")
    torch.save({"weights": torch.zeros(1)}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="is not a bgdebias checkpoint"):
        load_checkpoint(tmp_path / "other.pt")
    (tmp_path / "garbage.pt").write_bytes(b"not a zip file")
    with pytest.raises(CheckpointError, match="is truncated or not a PyTorch checkpoint"):
        load_checkpoint(tmp_path / "garbage.pt")
    assert latest_checkpoint(tmp_path / "nowhere") is None


def test_checkpoints_from_before_temporal_padding_load_with_zero_padding(tmp_path: Path) -> None:
    import dataclasses

    import torch

    from bgdebias.models.temporal_padding import ReplicateTimeConv3d
    from bgdebias.training import PretrainConfig, build_recipe
    from bgdebias.training.loading import load_pretrained_encoder

    config = PretrainConfig(
        method="moco", size=32, hidden_dim=16, embed_dim=8, queue_size=8, temporal_padding="zeros"
    ).resolved()
    recipe = build_recipe(config)
    old_config = {k: v for k, v in dataclasses.asdict(config).items() if k != "temporal_padding"}
    state = {"step": 1, "config": old_config, "model": recipe.state_dict()}
    torch.save(state, tmp_path / "old.pt")
    encoder, loaded = load_pretrained_encoder(tmp_path / "old.pt")
    assert loaded.temporal_padding == "zeros"
    assert not any(isinstance(m, ReplicateTimeConv3d) for m in encoder.modules())


def test_checkpoints_from_before_frame_differences_load_without_them(tmp_path: Path) -> None:
    import dataclasses

    import torch

    from bgdebias.models import FrameDifferences
    from bgdebias.training import PretrainConfig, build_recipe
    from bgdebias.training.loading import load_pretrained_encoder

    config = PretrainConfig(
        method="moco", size=32, hidden_dim=16, embed_dim=8, queue_size=8, frame_differences=False
    ).resolved()
    recipe = build_recipe(config)
    old_config = {k: v for k, v in dataclasses.asdict(config).items() if k != "frame_differences"}
    torch.save({"step": 1, "config": old_config, "model": recipe.state_dict()}, tmp_path / "old.pt")
    encoder, loaded = load_pretrained_encoder(tmp_path / "old.pt")
    assert loaded.frame_differences is False
    assert not any(isinstance(m, FrameDifferences) for m in encoder.modules())


def _written_checkpoint(folder: Path) -> Path:
    return save_checkpoint({"step": 3, "model": {"weight": torch.zeros(64, 64)}}, folder, 3)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("truncated", "is truncated or not a PyTorch checkpoint ("),
        ("random", "is truncated or not a PyTorch checkpoint ("),
        ("text", "is truncated or not a PyTorch checkpoint ("),
        ("empty", "is empty (0 bytes)"),
    ],
)
def test_damaged_files_give_a_checkpoint_error_naming_them(
    tmp_path: Path, damage: str, message: str
) -> None:
    path = _written_checkpoint(tmp_path)
    content = {
        "truncated": path.read_bytes()[: path.stat().st_size // 2],
        "random": torch.randint(0, 256, (4096,), generator=torch.Generator().manual_seed(0))
        .to(torch.uint8)
        .numpy()
        .tobytes(),
        "text": b"hello, this is not a checkpoint\n",
        "empty": b"",
    }[damage]
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=re.escape(f"checkpoint {path} {message}")):
        load_checkpoint(path)


def test_a_folder_is_not_a_checkpoint(tmp_path: Path) -> None:
    newest = _written_checkpoint(tmp_path)
    with pytest.raises(
        CheckpointError,
        match=re.escape(
            f"checkpoint {tmp_path} is a folder, not a checkpoint file; "
            f"its newest checkpoint is {newest}"
        ),
    ):
        load_checkpoint(tmp_path)


def test_model_weights_are_stored_once_and_old_duplicates_still_load(tmp_path: Path) -> None:
    """The recipe lists the query encoder once; checkpoints that list it twice still load."""
    from bgdebias.training import PretrainConfig, build_recipe
    from bgdebias.training.loading import load_pretrained_encoder

    config = PretrainConfig(method="moco", size=32, hidden_dim=16, embed_dim=8, queue_size=8)
    recipe = build_recipe(config.resolved())
    weights = recipe.state_dict()
    assert not [key for key in weights if key.startswith("_query_forward.")]
    assert len([key for key in weights if key.startswith("query_encoder.")]) == len(
        recipe.query_encoder.state_dict()
    )
    old = {
        **weights,
        **{f"_query_forward.{k}": v for k, v in recipe.query_encoder.state_dict().items()},
    }
    state = {"step": 1, "config": config.resolved().to_dict(), "model": old}
    torch.save(state, tmp_path / "old.pt")
    encoder, _ = load_pretrained_encoder(tmp_path / "old.pt")
    for name, tensor in encoder.state_dict().items():
        assert torch.equal(tensor, weights[f"query_encoder.{name}"]), name


def test_rotation_deletes_only_older_steps(tmp_path: Path) -> None:
    """Checkpoints of later steps (another run's) are never deleted by rotation."""
    for step in (6, 8):
        save_checkpoint({"step": step}, tmp_path, step, keep=2)
    for step in (1, 2, 3):
        save_checkpoint({"step": step}, tmp_path, step, keep=2)
    names = [path.name for path in list_checkpoints(tmp_path)]
    assert names == [f"checkpoint-0000000{step}.pt" for step in (2, 3, 6, 8)]
