from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from bgdebias.cli import evaluate as evaluate_command
from bgdebias.experiments import (
    EVALUATION_DATASETS,
    PROTOCOLS,
    CheckpointEvaluation,
    checkpoint_evaluation,
    evaluate_checkpoint,
)
from bgdebias.models import VideoBackbone


def test_the_command_offers_the_library_choices() -> None:
    # Spelled out in the command (its --help imports no torch); they must not drift.
    assert evaluate_command.PROTOCOLS == PROTOCOLS
    assert evaluate_command.DATASETS == EVALUATION_DATASETS


def test_stress_is_the_default_on_synthetic_data(
    tiny_checkpoint: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The stress test itself runs end to end in tests/cli (`bgdebias evaluate`); here, what
    # is chosen and what it is given.
    calls: list[dict[str, Any]] = []

    def fake_stress_test(backbone: nn.Module, config: Any, **options: Any) -> str:
        calls.append({"backbone": backbone, "seed": config.seed, **options})
        return "stress numbers"

    monkeypatch.setattr(checkpoint_evaluation, "_stress_test", fake_stress_test)
    started: list[tuple[str, str]] = []
    evaluation = evaluate_checkpoint(
        tiny_checkpoint, device="cpu", batch_size=3, on_start=lambda *what: started.append(what)
    )
    assert started == [("stress", "synthetic")]
    assert evaluation == CheckpointEvaluation("stress", "synthetic", "stress numbers")  # type: ignore[arg-type]
    (call,) = calls
    assert isinstance(call["backbone"], VideoBackbone)
    assert (call["seed"], call["batch_size"], call["device"]) == (0, 3, torch.device("cpu"))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"protocol": "linear"}, "protocol 'linear' needs a video dataset (dataset, root)"),
        ({"dataset": "ucf101"}, "`root` is required for dataset 'ucf101'"),
        (
            {"protocol": "stress", "dataset": "hmdb51", "root": "."},
            "protocol 'stress' runs on the synthetic data, not 'hmdb51'",
        ),
        ({"protocol": "svm"}, "`protocol` must be one of 'stress', 'linear'"),
        ({"dataset": "imagenet"}, "`dataset` must be one of 'synthetic', 'ucf101'"),
        ({"clips": 0}, "`clips` must be an int >= 1, got 0"),
        ({"k": 0}, "`k` must be an int >= 1, got 0"),
    ],
)
def test_bad_requests_fail_before_anything_runs(
    tiny_checkpoint: Path, options: dict[str, object], message: str
) -> None:
    started: list[object] = []
    with pytest.raises(ValueError, match=re.escape(message)):
        evaluate_checkpoint(tiny_checkpoint, on_start=started.append, **options)  # type: ignore[arg-type]
    assert started == []
