"""A run whose loss or weights stop being finite stops, keeping its last good checkpoint."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from bgdebias.training import (
    DebiasedMoCo,
    PretrainConfig,
    TrainingDivergedError,
    list_checkpoints,
    load_checkpoint,
    pretrain,
)


def test_a_non_finite_loss_stops_the_run_before_the_next_checkpoint(
    tiny_config: PretrainConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    original = DebiasedMoCo.forward

    def loss_turning_nan_at_step_3(self: DebiasedMoCo, *args: Any, **kwargs: Any) -> Any:
        out = original(self, *args, **kwargs)
        calls.append(1)
        return dataclasses.replace(out, total=out.total * float("nan")) if len(calls) == 3 else out

    monkeypatch.setattr(DebiasedMoCo, "forward", loss_turning_nan_at_step_3)
    config = dataclasses.replace(tiny_config, steps=6, checkpoint_every=2, log_every=4)
    run = Path(config.output_dir)
    with pytest.raises(
        TrainingDivergedError,
        match=re.escape(
            "training diverged: the loss was not finite at step 3 (the last good checkpoint "
            f"is {run / 'checkpoint-00000002.pt'}); lower the learning rate (--lr, now 0.002)"
        ),
    ):
        pretrain(config, progress=False)  # found at step 4 (a checkpoint step), not written
    assert [path.name for path in list_checkpoints(run)] == ["checkpoint-00000002.pt"]


def test_lr_1e9_ends_with_an_error_and_finite_checkpoints(tmp_path: Path) -> None:
    """The reported case: --lr 1e9 finished with exit 0 and inf in the batch-norm statistics."""
    command = [
        sys.executable, "-m", "bgdebias", "pretrain", "--device", "cpu", "--size", "32",
        "--batch-size", "4", "--synthetic-videos", "16", "--queue-size", "16",
        "--hidden-dim", "32", "--embed-dim", "16", "--jitter-p", "0", "--no-progress",
        "--lr", "1e9", "--steps", "6", "--checkpoint-every", "1", "--output-dir", str(tmp_path),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    found = re.search(
        r"training diverged: .* at step (\d+) \(.*the last good checkpoint", done.stderr
    )
    assert found is not None, done.stderr
    diverged = int(found.group(1))
    kept = list_checkpoints(tmp_path)
    assert kept
    assert all(load_checkpoint(path)["step"] < diverged for path in kept)
    assert f"the last good checkpoint is {kept[-1]})" in done.stderr
    for path in kept:
        for name, tensor in load_checkpoint(path)["model"].items():
            assert not tensor.is_floating_point() or bool(torch.isfinite(tensor).all()), name
