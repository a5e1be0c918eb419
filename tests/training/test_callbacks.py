"""pretrain's callbacks: what they are told, and that watching a run does not change it."""

from __future__ import annotations

import dataclasses
import os
import signal
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from bgdebias.evaluation import make_stress_splits
from bgdebias.training import (
    DebiasedMoCo,
    KNNMonitor,
    PictureLogger,
    PretrainCallback,
    PretrainConfig,
    PretrainResult,
    PretrainRun,
    RunInterrupted,
    TrainingDivergedError,
    latest_checkpoint,
    load_checkpoint,
    pretrain,
)
from bgdebias.training.metrics_log import read_log


class Recorder(PretrainCallback):
    """Writes down every call, in order."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []
        self.run: PretrainRun | None = None
        self.metrics: dict[int, Mapping[str, float]] = {}

    def on_train_start(self, run: PretrainRun) -> None:
        self.run = run
        self.events.append(("start", run.start_step))

    def on_step(self, step: int) -> None:
        self.events.append(("step", step))

    def on_log(self, step: int, metrics: Mapping[str, float]) -> None:
        self.metrics[step] = metrics
        self.events.append(("log", step))

    def on_checkpoint(self, step: int, path: Path) -> None:
        self.events.append(("checkpoint", step, path))

    def on_train_end(self, result: PretrainResult) -> None:
        self.events.append(("end", result.step))

    def of(self, kind: str) -> list[tuple[Any, ...]]:
        return [event[1:] for event in self.events if event[0] == kind]


def test_a_recording_callback_gets_exactly_the_logged_steps_and_checkpoints(
    tiny_config: PretrainConfig,
) -> None:
    config = dataclasses.replace(tiny_config, steps=5, log_every=2, checkpoint_every=3)
    recorder = Recorder()
    result = pretrain(config, progress=False, callbacks=[recorder])
    run = Path(config.output_dir)
    rows = read_log(run / "log.csv")
    assert [row["step"] for row in rows] == [2, 4, 5]
    assert recorder.of("log") == [(2,), (4,), (5,)]
    for row in rows:
        assert dict(recorder.metrics[int(row["step"])]) == {
            name: value for name, value in row.items() if name != "step"
        }
    assert recorder.of("checkpoint") == [
        (3, run / "checkpoint-00000003.pt"),
        (5, run / "checkpoint-00000005.pt"),
    ]
    assert recorder.of("step") == [(1,), (2,), (3,), (4,), (5,)]
    assert recorder.events[0] == ("start", 0)
    assert recorder.events[-1] == ("end", 5)
    assert recorder.events.index(("log", 5)) < recorder.events.index(("step", 5))
    assert recorder.events[-2] == ("checkpoint", 5, result.checkpoint)
    assert recorder.run is not None
    assert recorder.run.output_dir == run
    assert recorder.run.config == config.resolved()
    with pytest.raises(TypeError):
        recorder.metrics[2]["loss"] = 0.0  # type: ignore[index]


def test_watching_a_resumed_run_does_not_change_it(
    tiny_config: PretrainConfig, tmp_path: Path
) -> None:
    """Plain straight run == watched run (callbacks, pictures, kNN every step) + resume."""
    plain = dataclasses.replace(tiny_config, output_dir=str(tmp_path / "plain"))
    pretrain(plain, progress=False)
    watched = dataclasses.replace(tiny_config, output_dir=str(tmp_path / "watched"))
    splits = make_stress_splits(train_length=8, test_length=4, size=32, num_classes=2)
    pictures: list[tuple[str, int]] = []

    def watchers() -> tuple[Recorder, list[PretrainCallback], KNNMonitor]:
        recorder = Recorder()
        sink = PictureLogger(lambda tag, _image, step: pictures.append((tag, step)), every=1)
        monitor = KNNMonitor(splits.independent_train, splits.independent, every=1, k=3)
        return recorder, [recorder, sink], monitor

    first, callbacks, monitor = watchers()
    pretrain(watched, progress=False, stop_at_step=2, callbacks=callbacks, knn_monitor=monitor)
    second, callbacks, monitor = watchers()
    pretrain(watched, progress=False, resume=True, callbacks=callbacks, knn_monitor=monitor)
    assert first.of("end") == [(2,)]
    assert second.events[0] == ("start", 2)
    assert second.of("log") == [(3,), (4,)]
    assert second.of("checkpoint")[0][0] == 4
    assert sorted({step for _, step in pictures}) == [1, 2, 3, 4]
    rows = read_log(tmp_path / "watched" / "log.csv")
    assert all(0.0 <= row["knn_top1"] <= 1.0 for row in rows)
    one = load_checkpoint(latest_checkpoint(tmp_path / "plain"))  # type: ignore[arg-type]
    two = load_checkpoint(latest_checkpoint(tmp_path / "watched"))  # type: ignore[arg-type]
    for name, tensor in one["model"].items():
        assert torch.equal(tensor, two["model"][name]), name
    assert torch.equal(one["generator"], two["generator"])
    # Nothing drew from the global generator either (both runs had one data loader by step 2).
    name = "checkpoint-00000002.pt"
    before = load_checkpoint(tmp_path / "plain" / name)["torch_rng"]
    assert torch.equal(before, load_checkpoint(tmp_path / "watched" / name)["torch_rng"])


class _SignalAtStep(Recorder):
    def on_step(self, step: int) -> None:
        super().on_step(step)
        if step == 1:
            os.kill(os.getpid(), signal.SIGTERM)


def test_a_signal_during_a_callback_stops_the_run_with_a_checkpoint(
    tiny_config: PretrainConfig,
) -> None:
    recorder = _SignalAtStep()
    with pytest.raises(RunInterrupted, match="interrupted by SIGTERM; stopped at step 1 of 4"):
        pretrain(tiny_config, progress=False, callbacks=[recorder])
    checkpoint = Path(tiny_config.output_dir) / "checkpoint-00000001.pt"
    assert recorder.of("checkpoint") == [(1, checkpoint)]
    assert checkpoint.is_file()
    assert recorder.of("end") == []


def test_a_diverged_run_shows_callbacks_its_last_row_then_raises(
    tiny_config: PretrainConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = DebiasedMoCo.forward
    calls = []

    def nan_at_step_3(self: DebiasedMoCo, *args: Any, **kwargs: Any) -> Any:
        out = original(self, *args, **kwargs)
        calls.append(1)
        return dataclasses.replace(out, total=out.total * float("nan")) if len(calls) == 3 else out

    monkeypatch.setattr(DebiasedMoCo, "forward", nan_at_step_3)
    recorder = Recorder()
    with pytest.raises(TrainingDivergedError, match="not finite at step 3"):
        pretrain(tiny_config, progress=False, callbacks=[recorder])
    assert recorder.of("log") == [(1,), (2,), (3,)]
    assert np.isnan(recorder.metrics[3]["loss"])
    assert [event[0] for event in recorder.of("checkpoint")] == [2]
    assert recorder.of("end") == []


@pytest.mark.parametrize(
    ("callbacks", "message"),
    [
        (Recorder(), "`callbacks` must be a list of PretrainCallback objects, got Recorder"),
        ([Recorder(), print], r"`callbacks\[1\]` must be a PretrainCallback .*got builtin"),
    ],
)
def test_callbacks_that_are_not_callbacks_are_refused_before_anything_is_written(
    tiny_config: PretrainConfig, callbacks: Any, message: str
) -> None:
    with pytest.raises(TypeError, match=message):
        pretrain(tiny_config, progress=False, callbacks=callbacks)
    assert not Path(tiny_config.output_dir).exists() or not any(
        Path(tiny_config.output_dir).iterdir()
    )
