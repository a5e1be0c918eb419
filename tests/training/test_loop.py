from __future__ import annotations

import dataclasses
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from torch.multiprocessing.spawn import spawn

from bgdebias.training import (
    CheckpointError,
    PretrainConfig,
    latest_checkpoint,
    list_checkpoints,
    load_checkpoint,
    pretrain,
)
from bgdebias.training.metrics_log import read_log


def test_a_run_leaves_config_log_and_rotated_checkpoints(tiny_config: PretrainConfig) -> None:
    result = pretrain(tiny_config, progress=False)
    run = Path(tiny_config.output_dir)
    assert result.step == 4
    assert not result.interrupted
    assert PretrainConfig.from_file(run / "config.json").resolved() == tiny_config.resolved()
    rows = read_log(run / "log.csv")
    assert [row["step"] for row in rows] == [1, 2, 3, 4]
    assert all(row["loss"] > 0 and row["wide"] > 0 and row["micro"] > 0 for row in rows)
    assert [p.name for p in list_checkpoints(run)] == [
        "checkpoint-00000002.pt",
        "checkpoint-00000004.pt",
    ]
    state = load_checkpoint(result.checkpoint)
    assert state["step"] == 4
    assert state["config"]["method"] == "full"
    assert not [key for key in state["model"] if key.startswith("_query_forward.")]


def test_resume_continues_exactly(tiny_config: PretrainConfig, tmp_path: Path) -> None:
    """2N steps in one go == N steps + resume + N steps, bit for bit, on CPU."""
    straight = dataclasses.replace(tiny_config, output_dir=str(tmp_path / "straight"))
    pretrain(straight, progress=False)
    split = dataclasses.replace(tiny_config, output_dir=str(tmp_path / "split"))
    first = pretrain(split, progress=False, stop_at_step=2)
    assert first.interrupted
    assert first.step == 2
    resumed = pretrain(split, resume=True, progress=False)
    assert resumed.step == 4
    one = load_checkpoint(latest_checkpoint(tmp_path / "straight"))  # type: ignore[arg-type]
    two = load_checkpoint(latest_checkpoint(tmp_path / "split"))  # type: ignore[arg-type]
    assert one["model"].keys() == two["model"].keys()
    for name, tensor in one["model"].items():
        assert torch.equal(tensor, two["model"][name]), name
    assert torch.equal(one["generator"], two["generator"])
    rows = read_log(tmp_path / "split" / "log.csv")
    assert [row["step"] for row in rows] == [1, 2, 3, 4]


def test_resume_refuses_another_architecture(tiny_config: PretrainConfig) -> None:
    pretrain(tiny_config, progress=False, stop_at_step=2)
    other = dataclasses.replace(tiny_config, method="moco")
    with pytest.raises(CheckpointError, match="method: checkpoint 'full' != run 'moco'"):
        pretrain(other, resume=True, progress=False)


def test_resume_without_checkpoint(tiny_config: PretrainConfig) -> None:
    with pytest.raises(CheckpointError, match="no checkpoint found"):
        pretrain(tiny_config, resume=True, progress=False)


def test_resume_skips_a_damaged_newest_checkpoint_and_truncates_the_log(
    tiny_config: PretrainConfig, caplog: pytest.LogCaptureFixture
) -> None:
    """Random bytes in the newest checkpoint: resume from the one before, exactly."""
    run = Path(tiny_config.output_dir)
    pretrain(tiny_config, progress=False)  # checkpoints 2 and 4, log rows 1 to 4
    newest = run / "checkpoint-00000004.pt"
    straight = load_checkpoint(newest)
    noise = torch.randint(0, 256, (5000,), generator=torch.Generator().manual_seed(1))
    newest.write_bytes(noise.to(torch.uint8).numpy().tobytes())
    with caplog.at_level(logging.WARNING, logger="bgdebias.training"):
        result = pretrain(tiny_config, resume=True, progress=False)
    assert f"skipping damaged checkpoint: checkpoint {newest} is truncated" in caplog.text
    assert result.step == 4
    assert (run / "checkpoint-00000004.pt.damaged").exists()
    # Rows 3 and 4 of the first run were dropped, the resumed run wrote them again.
    assert [row["step"] for row in read_log(run / "log.csv")] == [1, 2, 3, 4]
    resumed = load_checkpoint(newest)
    for name, tensor in straight["model"].items():
        assert torch.equal(tensor, resumed["model"][name]), name


def _start_run(output_dir: Path, *extra: str) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "bgdebias",
        "pretrain",
        "--no-progress",
        "--device",
        "cpu",
        "--size",
        "32",
        "--batch-size",
        "4",
        "--synthetic-videos",
        "16",
        "--queue-size",
        "16",
        "--hidden-dim",
        "32",
        "--embed-dim",
        "16",
        "--steps",
        "100000",
        "--checkpoint-every",
        "2",
        "--output-dir",
        str(output_dir),
        "--jitter-p",
        "0",
        *extra,
    ]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for_checkpoint(output_dir: Path, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 600  # generous: the suite may share its cores
    while latest_checkpoint(output_dir) is None:
        assert process.poll() is None, process.stderr.read().decode()  # type: ignore[union-attr]
        assert time.monotonic() < deadline, "no checkpoint within 600 s"
        time.sleep(0.2)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_run_with_a_final_checkpoint(tmp_path: Path, signum: int) -> None:
    process = _start_run(tmp_path)
    _wait_for_checkpoint(tmp_path, process)
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=600)
    assert process.returncode == 128 + signum, stderr.decode()  # 143 or 130
    name = signal.Signals(signum).name
    message = stderr.decode().splitlines()[-1]
    assert message.startswith(f"bgdebias pretrain: interrupted by {name}; stopped at step ")
    assert b"finished" not in stdout
    step = int(message.split("stopped at step ")[1].split(" ")[0])
    state = load_checkpoint(latest_checkpoint(tmp_path))  # type: ignore[arg-type]
    assert state["step"] == step
    assert f"checkpoint: {latest_checkpoint(tmp_path)}" in message


def test_a_killed_run_leaves_the_last_checkpoint_intact(tmp_path: Path) -> None:
    process = _start_run(tmp_path)
    _wait_for_checkpoint(tmp_path, process)
    time.sleep(1.0)
    process.kill()
    process.wait(timeout=60)
    for path in list_checkpoints(tmp_path):
        assert load_checkpoint(path)["step"] > 0
    # A write the kill cut short leaves a temporary file; resuming ignores and removes it.
    (tmp_path / ".checkpoint-99999998.pt.tmp-4242").write_bytes(b"half a checkpoint")
    last = load_checkpoint(latest_checkpoint(tmp_path))["step"]  # type: ignore[arg-type]
    config = PretrainConfig.from_file(tmp_path / "config.json")
    resumed = pretrain(config, resume=True, progress=False, stop_at_step=last + 1)
    assert resumed.step == last + 1
    assert not [path for path in tmp_path.iterdir() if ".tmp-" in path.name]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _distributed_worker(rank: int, port: int, config: PretrainConfig) -> None:
    os.environ.update(
        {
            "RANK": str(rank),
            "WORLD_SIZE": "2",
            "LOCAL_RANK": str(rank),
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": str(port),
        }
    )
    torch.set_num_threads(1)
    pretrain(config, progress=False)
    torch.distributed.destroy_process_group()


@pytest.mark.timeout(300)
def test_two_process_gloo_run(tiny_config: PretrainConfig) -> None:
    config = dataclasses.replace(tiny_config, steps=2, synthetic_videos=16, queue_size=64)
    spawn(_distributed_worker, args=(_free_port(), config), nprocs=2, join=True)  # type: ignore[no-untyped-call]
    state = load_checkpoint(latest_checkpoint(config.output_dir))  # type: ignore[arg-type]
    assert state["step"] == 2
    # Each step enqueued the keys of BOTH processes: 2 steps x 2 ranks x batch 4 = 16.
    assert int(state["model"]["queue.pointer"]) == 16
