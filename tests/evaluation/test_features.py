from __future__ import annotations

import re
from collections import namedtuple

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import Tensor, nn
from torch.utils.data import DataLoader, TensorDataset

from bgdebias.evaluation import ClipFeatures, PooledFeatures, extract_features, freeze_frames


def _mean_colour(clips: Tensor) -> Tensor:
    """A parameter-free 'encoder': the mean of each channel. (B, C, T, H, W) -> (B, C)."""
    return clips.mean(dim=(2, 3, 4))


def _videos(count: int = 5, clips: int | None = None) -> TensorDataset:
    """Video v is filled with the value v / 10 (so features identify videos); label v % 3."""
    shape = (3, 2, 4, 4) if clips is None else (clips, 3, 2, 4, 4)
    data = torch.stack([torch.full(shape, v / 10) for v in range(count)])
    if clips is not None:  # clips of one video differ: clip n adds n / 100
        data = data + (torch.arange(clips) / 100).view(1, clips, 1, 1, 1, 1)
    return TensorDataset(data, torch.arange(count) % 3)


def test_single_clip_features_labels_and_video_index() -> None:
    out = extract_features(_mean_colour, _videos(5), batch_size=2)
    assert out.features.shape == (5, 3)
    assert torch.allclose(out.features[:, 0], torch.arange(5) / 10)
    assert out.labels.tolist() == [0, 1, 2, 0, 1]
    assert out.video_index.tolist() == [0, 1, 2, 3, 4]
    assert out.num_videos == 5


def test_multi_clip_samples_are_flattened_video_major() -> None:
    out = extract_features(_mean_colour, _videos(4, clips=3), batch_size=3)
    assert out.features.shape == (12, 3)
    assert out.video_index.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]
    assert out.labels.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 0, 0, 0]
    expected = (torch.arange(4) / 10).repeat_interleave(3) + (torch.arange(3) / 100).repeat(4)
    assert torch.allclose(out.features[:, 0], expected)
    # Averaging over a video's clips gives v / 10 + mean(0, 0.01, 0.02).
    assert torch.allclose(out.video_mean()[:, 0], torch.arange(4) / 10 + 0.01)
    assert out.video_labels().tolist() == [0, 1, 2, 0]


@settings(max_examples=15, deadline=None)
@given(
    videos=st.integers(1, 7),
    clips=st.one_of(st.none(), st.integers(1, 4)),
    batch_size=st.integers(1, 5),
)
def test_rows_videos_and_averages_for_any_batching(
    videos: int, clips: int | None, batch_size: int
) -> None:
    out = extract_features(_mean_colour, _videos(videos, clips=clips), batch_size=batch_size)
    per_video = 1 if clips is None else clips
    assert out.features.shape == (videos * per_video, 3)
    assert torch.equal(out.video_index, torch.arange(videos).repeat_interleave(per_video))
    assert out.num_videos == videos
    assert torch.equal(out.video_labels(), torch.arange(videos) % 3)
    expected = out.features.view(videos, per_video, 3).mean(dim=1)
    assert torch.allclose(out.video_mean(), expected)


def test_explicit_device_moves_the_clips() -> None:
    seen: list[torch.device] = []

    def encoder(clips: Tensor) -> Tensor:
        seen.append(clips.device)
        return clips.mean(dim=(2, 3, 4))

    out = extract_features(encoder, _videos(2), device="cpu")
    assert seen == [torch.device("cpu")]
    assert out.features.device == torch.device("cpu")


def test_dataloader_and_mapping_batches() -> None:
    loader = DataLoader(_videos(5), batch_size=4)
    from_loader = extract_features(_mean_colour, loader)
    mapped = ({"clip": clip, "label": label} for clip, label in loader)
    from_dicts = extract_features(_mean_colour, mapped)
    assert torch.equal(from_loader.features, from_dicts.features)
    assert torch.equal(from_loader.video_index, from_dicts.video_index)


class _ModeProbe(nn.Module):
    """Records whether it ran in training mode and with gradients enabled."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv3d(3, 4, 1)
        self.norm = nn.BatchNorm3d(4)
        self.seen: list[tuple[bool, bool]] = []

    def forward(self, clips: Tensor) -> Tensor:
        self.seen.append((self.training or self.norm.training, torch.is_grad_enabled()))
        features: Tensor = self.norm(self.conv(clips)).mean(dim=(2, 3, 4))
        return features


def test_encoder_runs_frozen_and_every_module_mode_is_restored() -> None:
    encoder = _ModeProbe()
    encoder.train()
    encoder.norm.eval()  # deliberately mixed modes must come back as they were
    assert encoder.norm.running_mean is not None
    stats = encoder.norm.running_mean.clone()
    out = extract_features(encoder, _videos(3), batch_size=2)
    assert encoder.seen == [(False, False), (False, False)]
    assert encoder.training
    assert not encoder.norm.training
    assert encoder.conv.training
    assert torch.equal(encoder.norm.running_mean, stats)
    assert not out.features.requires_grad


def test_modes_restored_when_the_encoder_fails() -> None:
    encoder = nn.Sequential(nn.Conv3d(3, 2, 1))  # returns 5D: rejected
    encoder.train()
    with pytest.raises(ValueError, match=re.escape("must return features of shape (2, D)")):
        extract_features(encoder, _videos(2))
    assert encoder.training
    assert encoder[0].training


def test_pooled_features_reads_backbone_output() -> None:
    output = namedtuple("output", ["features", "pooled"])

    class Backbone(nn.Module):
        def forward(self, clips: Tensor) -> tuple[Tensor, Tensor]:
            return output(clips, clips.mean(dim=(2, 3, 4)))

    out = extract_features(PooledFeatures(Backbone()), _videos(2))
    assert torch.allclose(out.features[:, 0], torch.tensor([0.0, 0.1]))
    with pytest.raises(TypeError, match="no tensor attribute 'missing'"):
        PooledFeatures(Backbone(), attribute="missing")(torch.zeros(1, 3, 2, 4, 4))
    with pytest.raises(TypeError, match=re.escape("`backbone` must be an nn.Module")):
        PooledFeatures(_mean_colour)  # type: ignore[arg-type]


def test_freeze_frames_repeats_the_first_frame_per_clip() -> None:
    clips = torch.rand(2, 3, 3, 5, 4, 4)  # (B, N, C, T, H, W)
    frozen = freeze_frames(clips)
    assert frozen.shape == clips.shape
    for t in range(5):
        assert torch.equal(frozen[:, :, :, t], clips[:, :, :, 0])
    seen: list[Tensor] = []

    def encoder(batch: Tensor) -> Tensor:
        seen.append(batch)
        return batch.mean(dim=(2, 3, 4))

    extract_features(
        encoder,
        TensorDataset(clips, torch.zeros(2, dtype=torch.long)),
        clip_transform=freeze_frames,
    )
    assert bool((seen[0] == seen[0][:, :, :1]).all())
    with pytest.raises(ValueError, match=re.escape("must be (..., C, T, H, W)")):
        freeze_frames(torch.zeros(3, 4, 4))


def test_empty_and_bad_data_are_rejected() -> None:
    with pytest.raises(ValueError, match="`data` is an empty dataset"):
        extract_features(_mean_colour, TensorDataset(torch.zeros(0, 3, 2, 4, 4), torch.zeros(0)))
    with pytest.raises(ValueError, match="`data` yielded no batches"):
        extract_features(_mean_colour, iter([]))
    with pytest.raises(TypeError, match="`data` must be a map-style dataset"):
        extract_features(_mean_colour, 3)
    with pytest.raises(TypeError, match="each batch must be a"):
        extract_features(_mean_colour, iter([torch.zeros(2, 3, 2, 4, 4)]))
    with pytest.raises(ValueError, match="needs the keys 'clip' and 'label'"):
        extract_features(_mean_colour, iter([{"video": torch.zeros(2, 3, 2, 4, 4)}]))
    with pytest.raises(ValueError, match=re.escape("got shape (2, 3, 4, 4)")):
        extract_features(_mean_colour, iter([(torch.zeros(2, 3, 4, 4), torch.zeros(2))]))
    with pytest.raises(ValueError, match=re.escape("`label` must have shape (B,) with B=2")):
        extract_features(_mean_colour, iter([(torch.zeros(2, 3, 2, 4, 4), torch.zeros(3))]))
    with pytest.raises(TypeError, match="`label` must hold integer class indices"):
        extract_features(_mean_colour, iter([(torch.zeros(2, 3, 2, 4, 4), torch.zeros(2) + 0.5)]))
    with pytest.raises(ValueError, match=re.escape("`label` must be class indices >= 0, got -1")):
        extract_features(_mean_colour, iter([(torch.zeros(2, 3, 2, 4, 4), torch.tensor([0, -1]))]))
    with pytest.raises(TypeError, match="`encoder` must be callable"):
        extract_features("model", _videos(2))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="`batch_size` must be an int >= 1, got 0"):
        extract_features(_mean_colour, _videos(2), batch_size=0)


def test_clip_features_checks_lengths_and_label_consistency() -> None:
    with pytest.raises(ValueError, match=re.escape("`labels` must have shape (3,)")):
        ClipFeatures(torch.zeros(3, 2), torch.zeros(2, dtype=torch.long), torch.arange(3))
    with pytest.raises(ValueError, match=re.escape("`video_index` must have shape (3,)")):
        ClipFeatures(torch.zeros(3, 2), torch.zeros(3, dtype=torch.long), torch.arange(4))
    with pytest.raises(ValueError, match="at least one clip"):
        ClipFeatures.from_videos(torch.zeros(0, 2), torch.zeros(0, dtype=torch.long))
    with pytest.raises(ValueError, match="must be 2D"):
        ClipFeatures.from_videos(torch.zeros(3), torch.zeros(3, dtype=torch.long))
    clips = ClipFeatures(torch.zeros(2, 2), torch.tensor([0, 1]), torch.tensor([0, 0]))
    with pytest.raises(ValueError, match="the clips of video 0 carry different labels"):
        clips.video_labels()
    gap = ClipFeatures(torch.zeros(2, 2), torch.tensor([0, 1]), torch.tensor([0, 2]))
    with pytest.raises(ValueError, match="skips video 1"):
        gap.video_labels()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_features_come_back_to_the_cpu_from_cuda() -> None:
    encoder = nn.Sequential(nn.Conv3d(3, 4, 1), nn.AdaptiveAvgPool3d(1), nn.Flatten()).cuda()
    out = extract_features(encoder, _videos(3))
    assert out.features.device.type == "cpu"
