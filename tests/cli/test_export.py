"""``bgdebias export CHECKPOINT OUTPUT``: the backbone alone, and one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from bgdebias.cli import main
from bgdebias.models import Small3DCNN, replicate_temporal_padding, video_backbone
from bgdebias.training import DebiasEncoder, PretrainConfig, build_recipe, save_checkpoint


def _small3d_checkpoint(folder: Path) -> tuple[Path, dict[str, torch.Tensor]]:
    config = PretrainConfig(method="moco", hidden_dim=16, embed_dim=8, queue_size=8).resolved()
    recipe = build_recipe(config)
    state = {"step": 7, "config": config.to_dict(), "model": recipe.state_dict()}
    return save_checkpoint(state, folder, 7), recipe.query_encoder.backbone.state_dict()


def test_export_writes_a_state_dict_that_loads_strictly(tmp_path: Path) -> None:
    checkpoint, expected = _small3d_checkpoint(tmp_path / "run")
    output = tmp_path / "backbone.pt"
    done = subprocess.run(
        [sys.executable, "-m", "bgdebias", "export", str(checkpoint), str(output)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        f"wrote the query encoder's small3d backbone (step 7) to {output}; "
        f"facts in {output}.json\n"
        "load it into bgdebias.models.Small3DCNN(stage='layer3', base_width=32, "
        "in_channels=3, pool='max', temporal_padding='replicate', frame_differences=True)\n"
    )
    weights = torch.load(output, weights_only=True)
    Small3DCNN(frame_differences=True).load_state_dict(weights, strict=True)
    assert all(torch.equal(weights[key], value) for key, value in expected.items())


def test_an_existing_output_needs_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checkpoint, _ = _small3d_checkpoint(tmp_path / "run")
    output = tmp_path / "backbone.pt"
    output.write_text("an earlier export")
    assert main(["export", str(checkpoint), str(output)]) == 2
    assert capsys.readouterr().err == (
        f"bgdebias export: error: {output} already exist(s); pass --overwrite to replace them\n"
    )
    assert output.read_text() == "an earlier export"
    assert main(["export", str(checkpoint), str(output), "--overwrite"]) == 0
    assert "layer1.1.weight" in torch.load(output, weights_only=True)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            "{tmp}/missing.pt {tmp}/backbone.pt",
            "checkpoint not found: {tmp}/missing.pt",
        ),
        (
            "{tmp}/notes.txt {tmp}/backbone.pt",
            "checkpoint {tmp}/notes.txt is truncated or not a PyTorch checkpoint "
            "(16 bytes, not a complete zip archive)",
        ),
        (
            "{tmp}/missing.pt {tmp}",
            "`output` {tmp} is a folder; give a file name such as {tmp}/backbone.pt",
        ),
        (
            "{tmp}/missing.pt {tmp}/notes.txt/backbone.pt",
            "the folder of `output` {tmp}/notes.txt/backbone.pt: {tmp}/notes.txt is a file, "
            "not a folder",
        ),
    ],
)
def test_errors_are_one_line(
    tmp_path: Path, arguments: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notes.txt").write_text("not a checkpoint")
    assert main(["export", *arguments.format(tmp=tmp_path).split()]) == 2
    assert capsys.readouterr().err == f"bgdebias export: error: {message.format(tmp=tmp_path)}\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["notes.txt"]


def test_a_torchvision_export_says_how_to_load_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = PretrainConfig(method="moco", backbone="mc3_18").resolved()
    backbone = video_backbone("mc3_18", stage=config.stage)
    replicate_temporal_padding(backbone)
    encoder = DebiasEncoder(backbone, projection_dim=8, hidden_dim=16, micro=False)
    model = {f"query_encoder.{key}": value for key, value in encoder.state_dict().items()}
    state = {"step": 2, "config": config.to_dict(), "model": model}
    checkpoint = save_checkpoint(state, tmp_path, 2)
    assert main(["export", str(checkpoint), str(tmp_path / "mc3.pt")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1:] == [
        "load it into torchvision.models.video.mc3_18(weights=None) after "
        "model.fc = torch.nn.Identity() (the export holds no classifier)",
        "trained with replicate temporal padding: apply "
        "bgdebias.models.replicate_temporal_padding(model) for the same features",
    ]
