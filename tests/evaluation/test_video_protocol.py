from __future__ import annotations

import re

import pytest
import torch
from torch import Tensor, nn
from torch.utils.data import TensorDataset

from bgdebias.evaluation import (
    ClipFeatures,
    LinearProbeResult,
    knn_classify,
    linear_probe,
    retrieval_recall,
    run_video_protocol,
)


class MeanColour(nn.Module):
    """Features: the mean of each channel (a frozen encoder with a known output)."""

    def forward(self, clips: Tensor) -> Tensor:
        return clips.mean(dim=(2, 3, 4))


def _videos(count: int, seed: int) -> TensorDataset:
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(count) % 2
    clips = torch.rand(count, 3, 2, 4, 4, generator=generator) + labels.view(-1, 1, 1, 1, 1)
    return TensorDataset(clips, labels)


def _features(videos: TensorDataset) -> ClipFeatures:
    clips, labels = videos.tensors
    return ClipFeatures.from_videos(clips.mean(dim=(2, 3, 4)), labels)


TRAIN, TEST = _videos(6, seed=0), _videos(4, seed=1)


def test_knn_is_knn_classify_of_the_video_features() -> None:
    got = run_video_protocol("knn", MeanColour(), TRAIN, TEST, k=3, batch_size=4)
    train, test = _features(TRAIN), _features(TEST)
    expected = knn_classify(test.features, test.labels, train.features, train.labels, k=3)
    assert got == expected


def test_retrieval_reports_the_cutoffs_up_to_the_gallery_size() -> None:
    got = run_video_protocol("retrieval", MeanColour(), TRAIN, TEST)
    train, test = _features(TRAIN), _features(TEST)
    expected = retrieval_recall(test.features, test.labels, train.features, train.labels, ks=(1, 5))
    assert got == expected
    assert sorted(got.recall_at) == [1, 5]  # R@10 and above exceed the 6 train videos


def test_linear_is_the_linear_probe_of_the_features() -> None:
    got = run_video_protocol("linear", MeanColour(), TRAIN, TEST)
    expected = linear_probe(_features(TRAIN), _features(TEST))
    assert isinstance(got, LinearProbeResult)
    assert (got.top1, got.top5) == (expected.top1, expected.top5)


def test_bad_options_name_the_argument() -> None:
    with pytest.raises(ValueError, match=re.escape("`protocol` must be one of 'linear', 'knn'")):
        run_video_protocol("stress", MeanColour(), TRAIN, TEST)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=re.escape("`k` must be an int >= 1, got 0")):
        run_video_protocol("knn", MeanColour(), TRAIN, TEST, k=0)
