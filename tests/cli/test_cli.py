from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bgdebias.cli import build_parser, main
from bgdebias.data import MovingSpriteDataset, export_ucf101_layout
from bgdebias.training import latest_checkpoint, load_checkpoint

TINY = [
    "--device",
    "cpu",
    "--size",
    "32",
    "--batch-size",
    "4",
    "--queue-size",
    "16",
    "--hidden-dim",
    "32",
    "--embed-dim",
    "16",
    "--jitter-p",
    "0",
    "--no-progress",
]


@pytest.mark.parametrize("command", ["pretrain", "evaluate", "heatmap", "demo"])
def test_every_command_explains_its_options(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert f"usage: bgdebias {command}" in text
    subcommands = build_parser()._subparsers
    assert subcommands is not None
    choices = subcommands._group_actions[0].choices
    assert isinstance(choices, dict)
    options = list(choices[command]._actions)
    for action in options:
        for flag in action.option_strings:
            assert flag in text
        assert action.help, f"{command} {action.option_strings} has no help text"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["pretrain", "--batch-size", "-1"], "`batch_size` must be an int >= 2, got -1"),
        (["pretrain", "--dataset", "ucf101"], "--root is required for dataset 'ucf101'"),
        (["pretrain", "--config", "missing.yaml"], "configuration file not found: missing.yaml"),
        (["evaluate", "--checkpoint", "nowhere.pt"], "checkpoint not found: nowhere.pt"),
        (["demo", "--steps", "0"], "--steps must be >= 1, got 0"),
    ],
)
def test_bad_values_give_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert re.search(re.escape(message), err)


def test_unknown_choice_is_reported_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["pretrain", "--dataset", "imagenet"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'imagenet'" in capsys.readouterr().err


def test_missing_video_root_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "pretrain",
        *TINY,
        "--dataset",
        "ucf101",
        "--root",
        str(tmp_path / "none"),
        "--output-dir",
        str(tmp_path / "run"),
        "--steps",
        "1",
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert str(tmp_path / "none") in err


def test_config_file_with_command_line_overrides(tmp_path: Path) -> None:
    config = tmp_path / "run.yaml"
    config.write_text("method: moco\nsteps: 3\nsynthetic_videos: 16\n")
    out = tmp_path / "run"
    assert (
        main(["pretrain", "--config", str(config), *TINY, "--steps", "2", "--output-dir", str(out)])
        == 0
    )
    saved = json.loads((out / "config.json").read_text())
    assert (saved["method"], saved["steps"], saved["size"]) == ("moco", 2, 32)


@pytest.fixture(scope="module")
def tiny_ucf101(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ucf101")
    common = {"num_classes": 2, "num_frames": 12, "size": 32, "seed": 3}
    train = MovingSpriteDataset(split="train", length=8, **common)  # type: ignore[arg-type]
    test = MovingSpriteDataset(split="conflicting", length=4, **common)  # type: ignore[arg-type]
    return export_ucf101_layout(root, train, test)


def test_pretrain_evaluate_and_heatmaps_on_an_encoded_video_tree(
    tiny_ucf101: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    assert (
        main(
            [
                "pretrain",
                *TINY,
                "--dataset",
                "ucf101",
                "--root",
                str(tiny_ucf101),
                "--steps",
                "2",
                "--num-frames",
                "4",
                "--backbone",
                "small3d",
                "--output-dir",
                str(run),
            ]
        )
        == 0
    )
    checkpoint = latest_checkpoint(run)
    assert checkpoint is not None
    assert load_checkpoint(checkpoint)["step"] == 2
    results = tmp_path / "linear.json"
    assert (
        main(
            [
                "evaluate",
                "--checkpoint",
                str(checkpoint),
                "--protocol",
                "linear",
                "--root",
                str(tiny_ucf101),
                "--clips",
                "2",
                "--output",
                str(results),
            ]
        )
        == 0
    )
    linear = json.loads(results.read_text())
    assert 0.0 <= linear["top1"] <= 1.0
    for protocol in ("knn --k 3", "retrieval"):
        assert (
            main(
                [
                    "evaluate",
                    "--checkpoint",
                    str(checkpoint),
                    "--protocol",
                    *protocol.split(),
                    "--root",
                    str(tiny_ucf101),
                    "--clips",
                    "2",
                ]
            )
            == 0
        )
    videos = sorted(tiny_ucf101.rglob("*.avi"))[:2]
    maps = tmp_path / "maps"
    assert (
        main(
            [
                "heatmap",
                "--checkpoint",
                str(checkpoint),
                "--output-dir",
                str(maps),
                *[arg for video in videos for arg in ("--video", str(video))],
            ]
        )
        == 0
    )
    names = {path.name for path in maps.iterdir()}
    for kind in ("decoupler", "mixer", "saliency", "activation"):
        assert {f"{kind}-0.png", f"{kind}-1.gif"} <= names
    assert "top1" in capsys.readouterr().out


def test_synthetic_stress_evaluation(tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert (
        main(
            [
                "pretrain",
                *TINY,
                "--synthetic-videos",
                "16",
                "--steps",
                "1",
                "--output-dir",
                str(run),
            ]
        )
        == 0
    )
    checkpoint = latest_checkpoint(run)
    out = tmp_path / "stress.json"
    assert main(["evaluate", "--checkpoint", str(checkpoint), "--output", str(out)]) == 0
    result = json.loads(out.read_text())
    assert set(result) >= {"biased_probe", "independent_probe", "independent_retrieval_r1"}
    probe = result["biased_probe"]
    assert probe["bias_gap"] == pytest.approx(probe["aligned"] - probe["conflicting"])
