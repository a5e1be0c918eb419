"""The online kNN monitor: its accuracy against a naive reference, and in a run."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sized
from pathlib import Path

import pytest
import torch
from torch.utils.data import TensorDataset

from bgdebias.evaluation.knn import KNNWeighting
from bgdebias.models import Small3DCNN
from bgdebias.training import KNNMonitor, PretrainConfig, knn_monitor_for, knn_top1, pretrain
from bgdebias.training.metrics_log import read_log


def _naive_top1(
    gallery: torch.Tensor,
    gallery_labels: torch.Tensor,
    query: torch.Tensor,
    query_labels: torch.Tensor,
    *,
    k: int,
    weighting: str,
    temperature: float,
) -> float:
    """One query at a time, in plain Python: cosine, the k most similar, votes, argmax."""
    correct = 0
    for row, truth in zip(query.tolist(), query_labels.tolist(), strict=True):
        similarities = []
        for index, item in enumerate(gallery.tolist()):
            dot = sum(a * b for a, b in zip(row, item, strict=True))
            norms = math.sqrt(sum(a * a for a in row)) * math.sqrt(sum(b * b for b in item))
            similarities.append((-dot / norms, index))  # most similar first, then lower index
        votes: dict[int, float] = {}
        for negative, index in sorted(similarities)[:k]:
            label = int(gallery_labels[index])
            weight = math.exp(-negative / temperature) if weighting == "exponential" else 1.0
            votes[label] = votes.get(label, 0.0) + weight
        best = max(votes.values())
        predicted = min(label for label, vote in votes.items() if vote == best)
        correct += predicted == truth
    return correct / len(query_labels)


@pytest.mark.parametrize("weighting", ["exponential", "uniform"])
@pytest.mark.parametrize("k", [1, 4, 7])
def test_knn_top1_matches_a_naive_reference(weighting: KNNWeighting, k: int) -> None:
    g = torch.Generator().manual_seed(k)
    centres = torch.randn(3, 6, generator=g)
    gallery_labels = torch.arange(21) % 3
    gallery = centres[gallery_labels] + 1.5 * torch.randn(21, 6, generator=g)
    query_labels = torch.arange(12) % 3
    query = centres[query_labels] + 1.5 * torch.randn(12, 6, generator=g)
    expected = _naive_top1(
        gallery, gallery_labels, query, query_labels, k=k, weighting=weighting, temperature=0.2
    )
    got = knn_top1(
        gallery, gallery_labels, query, query_labels, k=k, weighting=weighting, temperature=0.2
    )
    assert got == pytest.approx(expected)


def test_knn_top1_hand_made_case() -> None:
    gallery = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9], [0.2, 0.8]])
    labels = torch.tensor([0, 0, 1, 1, 1])
    query = torch.tensor([[0.7, 0.3], [0.3, 0.7]])
    # Query 0's three nearest: both 0s and (0.2, 0.8): majority 0 -> right; query 1: all 1s.
    assert knn_top1(gallery, labels, query, torch.tensor([0, 1]), k=3, weighting="uniform") == 1.0
    # k = 5 and a majority vote: three 1s beat two 0s for query 0 -> wrong.
    assert knn_top1(gallery, labels, query, torch.tensor([0, 1]), k=5, weighting="uniform") == 0.5


def _splits() -> tuple[TensorDataset, TensorDataset]:
    g = torch.Generator().manual_seed(0)
    clips = torch.rand(10, 3, 4, 16, 16, generator=g)
    labels = torch.arange(10) % 2
    return TensorDataset(clips[:6], labels[:6]), TensorDataset(clips[6:], labels[6:])


def test_measure_restores_modes_and_the_random_state() -> None:
    backbone = Small3DCNN(base_width=2, generator=torch.Generator().manual_seed(0))
    backbone.train()
    first = next(backbone.children())
    first.eval()  # a part deliberately in eval mode stays so
    modes = {name: module.training for name, module in backbone.named_modules()}
    state = torch.get_rng_state()
    train, test = _splits()
    result = KNNMonitor(train, test, every=1, k=3).measure(backbone)
    assert list(result) == ["knn_top1"]
    assert 0.0 <= result["knn_top1"] <= 1.0
    assert {name: module.training for name, module in backbone.named_modules()} == modes
    assert torch.equal(torch.get_rng_state(), state)


def test_monitor_due_steps_and_bad_arguments() -> None:
    train, test = _splits()
    monitor = KNNMonitor(train, test, every=3, k=2)
    assert [step for step in range(1, 11) if monitor.due(step, last_step=10)] == [3, 6, 9, 10]
    with pytest.raises(ValueError, match=r"`k` = 7 is larger than `train` \(6 videos\)"):
        KNNMonitor(train, test, every=1, k=7)
    with pytest.raises(ValueError, match="`every` must be an int >= 1, got 0"):
        KNNMonitor(train, test, every=0)
    with pytest.raises(ValueError, match="`weighting` must be one of 'exponential', 'uniform'"):
        KNNMonitor(train, test, every=1, k=2, weighting="cosine")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="`test` must be a map-style dataset"):
        KNNMonitor(train, iter([]), every=1, k=2)  # type: ignore[arg-type]


def test_knn_every_logs_knn_top1_at_its_steps(tiny_config: PretrainConfig) -> None:
    config = dataclasses.replace(
        tiny_config, steps=5, log_every=1, knn_every=2, knn_videos=8, knn_k=3
    )
    monitor = knn_monitor_for(config.resolved())
    assert isinstance(monitor.train, Sized)
    assert isinstance(monitor.test, Sized)
    assert (len(monitor.train), len(monitor.test), monitor.k) == (8, 8, 3)
    pretrain(config, progress=False)
    rows = read_log(Path(config.output_dir) / "log.csv")
    measured = [int(row["step"]) for row in rows if not math.isnan(row["knn_top1"])]
    assert measured == [2, 4, 5]  # every 2 steps and at the end
    assert all(0.0 <= row["knn_top1"] <= 1.0 for row in rows if int(row["step"]) in measured)


def test_knn_every_on_a_video_dataset_takes_evenly_spaced_videos_of_each_split(
    tmp_path: Path,
) -> None:
    pytest.importorskip("av")
    from bgdebias.data import MovingSpriteDataset, export_ucf101_layout

    common = {"num_classes": 2, "num_frames": 8, "size": 32, "seed": 3}
    root = export_ucf101_layout(
        tmp_path / "ucf101",
        MovingSpriteDataset(split="train", length=7, **common),  # type: ignore[arg-type]
        MovingSpriteDataset(split="conflicting", length=4, **common),  # type: ignore[arg-type]
    )
    config = PretrainConfig(
        dataset="ucf101", root=str(root), num_frames=4, size=32, knn_every=5, knn_videos=4,
        knn_k=3, batch_size=2,
    ).resolved()  # fmt: skip
    monitor = knn_monitor_for(config)
    assert monitor.train.indices == [0, 2, 4, 6]  # type: ignore[attr-defined]
    assert monitor.test.indices == [0, 1, 2, 3]  # type: ignore[attr-defined]
    assert not monitor.normalize  # the evaluation transform normalises
    backbone = Small3DCNN(base_width=2, generator=torch.Generator().manual_seed(0))
    accuracy = monitor.measure(backbone)["knn_top1"]
    assert accuracy in (0.0, 0.25, 0.5, 0.75, 1.0)
