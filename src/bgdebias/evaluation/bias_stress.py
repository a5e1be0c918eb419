"""Background-bias stress test on the synthetic moving-sprite videos, with two linear probes.

For one encoder, two linear probes are trained on frozen features:

- the **biased** probe on the ``train`` split (background family matches the class with
  probability ``bias``): does the background dominate what a classifier reads?
- the **independent** probe on videos of the ``independent`` split (family drawn
  independently of the class; videos disjoint from the test videos): is the motion in the
  representation at all?

Each is tested on ``aligned``, ``conflicting``, ``static`` and ``independent`` test videos.
The contrasted accuracy (SCUBA/SCUFO-style; our reading) is the fraction of ``conflicting``
videos classified correctly while moving AND wrongly once frozen; the frozen version is the
same clip with its first frame repeated (:func:`~bgdebias.evaluation.freeze_frames`), so
the two differ only by the motion. The ``static`` split of the dataset (aligned videos, one
random frame repeated) gives the static accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import Dataset, Subset

from bgdebias._inference import Encoder
from bgdebias._validation import check_int, check_unit
from bgdebias.data.sampling import ClipSampler
from bgdebias.evaluation.accuracy import infer_num_classes, video_logits
from bgdebias.evaluation.features import ClipFeatures, extract_features, freeze_frames
from bgdebias.evaluation.linear_probe import (
    LinearClassifier,
    ProbeOptimizer,
    evaluate_classifier,
    train_linear_probe,
)
from bgdebias.evaluation.retrieval import retrieval_recall


@dataclass(frozen=True)
class StressSplits:
    """The datasets of a stress test (any map-style datasets of ``(clip, label, ...)``).

    Attributes:
        train: Biased training videos (trains the biased probe).
        independent_train: Videos with backgrounds independent of the class, disjoint from
            the test videos (trains the independent probe; retrieval gallery).
        aligned: Test videos on their class's background.
        conflicting: The test videos on another class's background.
        static: The aligned test videos frozen to one frame.
        independent: The test videos on independently drawn backgrounds (retrieval queries).

    Example:
        >>> splits = make_stress_splits(num_classes=2, train_length=8, test_length=4, size=32)
        >>> len(splits.train), len(splits.independent_train), len(splits.independent)
        (8, 8, 4)
        >>> list(splits.independent_train.indices)  # after the 4 test videos: never tested on
        [4, 5, 6, 7, 8, 9, 10, 11]
    """

    train: Dataset[Any]
    independent_train: Dataset[Any]
    aligned: Dataset[Any]
    conflicting: Dataset[Any]
    static: Dataset[Any]
    independent: Dataset[Any]


def make_stress_splits(
    *,
    num_classes: int = 8,
    train_length: int = 512,
    test_length: int = 256,
    num_frames: int = 8,
    size: int = 64,
    bias: float = 0.9,
    seed: int = 0,
    backgrounds: str = "procedural",
    actor: str = "disc",
    train_clip_sampler: ClipSampler | None = None,
    test_clip_sampler: ClipSampler | None = None,
) -> StressSplits:
    """Build the stress-test splits from :class:`~bgdebias.data.synthetic.MovingSpriteDataset`.

    The four test splits are the same ``test_length`` videos (same sprites and trajectories)
    under different backgrounds or frozen; ``independent_train`` takes indices
    ``test_length ..`` of the independent split, so no test video is used for training.

    Args:
        num_classes: Motion classes (and background families), 2 to 8.
        train_length: Videos in each training split.
        test_length: Videos in each test split.
        num_frames: Frames per video.
        size: Frame side in pixels.
        bias: Probability that a ``train`` video shows its class's background family.
        seed: Dataset seed.
        backgrounds: ``"procedural"`` or ``"photo"`` (see
            :class:`~bgdebias.data.synthetic.MovingSpriteDataset`).
        actor: ``"disc"``, ``"textured"`` or ``"colour"``.
        train_clip_sampler: Clip sampler of the training splits (whole videos when ``None``).
        test_clip_sampler: Clip sampler of the test splits, e.g. a
            :class:`~bgdebias.data.sampling.UniformClipSampler` with several clips.

    Returns:
        The six datasets.

    Example:
        >>> import torch
        >>> splits = make_stress_splits(num_classes=2, train_length=8, test_length=4, size=32)
        >>> aligned, conflicting = splits.aligned.render(1), splits.conflicting.render(1)
        >>> aligned.label == conflicting.label, aligned.background_family  # same video ...
        (True, 1)
        >>> conflicting.background_family  # ... on the other class's background
        0
        >>> torch.equal(aligned.trajectory.centre, conflicting.trajectory.centre)  # same sprite
        True
        >>> static = splits.static[1].clip
        >>> static.shape, bool((static == static[:, :1]).all())  # one frame repeated: no motion
        (torch.Size([3, 8, 32, 32]), True)
    """
    # Imported here so the generic protocols stay importable while the data package changes.
    from bgdebias.data.synthetic import MovingSpriteDataset

    train_videos = check_int(train_length, "train_length", minimum=1)
    test_videos = check_int(test_length, "test_length", minimum=1)
    check_unit(bias, "bias")
    common: dict[str, Any] = {
        "num_classes": num_classes,
        "num_frames": num_frames,
        "size": size,
        "seed": seed,
        "backgrounds": backgrounds,
        "actor": actor,
    }

    def test_split(split: Any) -> MovingSpriteDataset:
        return MovingSpriteDataset(
            split=split, length=test_videos, clip_sampler=test_clip_sampler, **common
        )

    independent_all = MovingSpriteDataset(
        split="independent",
        length=test_videos + train_videos,
        clip_sampler=train_clip_sampler,
        **common,
    )
    return StressSplits(
        train=MovingSpriteDataset(
            split="train",
            length=train_videos,
            bias=bias,
            clip_sampler=train_clip_sampler,
            **common,
        ),
        independent_train=Subset(independent_all, range(test_videos, test_videos + train_videos)),
        aligned=test_split("aligned"),
        conflicting=test_split("conflicting"),
        static=test_split("static"),
        independent=test_split("independent"),
    )


@dataclass(frozen=True)
class ProbeStressResult:
    """Video-level numbers of one probe (fractions in [0, 1]; the gap in [-1, 1]).

    Attributes:
        aligned: Accuracy on videos whose background matches their class.
        conflicting: Accuracy on the same videos on another class's background.
        static: Accuracy on the aligned videos frozen to one frame (static bias: a motion
            representation falls to chance here).
        independent: Accuracy on the videos on independently drawn backgrounds.
        frozen_conflicting: Accuracy on the conflicting videos with their first frame
            repeated.
        bias_gap: ``aligned - conflicting``.
        contrasted: Fraction of conflicting videos correct while moving and wrong frozen.

    Example:
        >>> import torch
        >>> from bgdebias.evaluation import PooledFeatures
        >>> from bgdebias.models import Small3DCNN
        >>> backbone = Small3DCNN(base_width=2, generator=torch.Generator().manual_seed(0))
        >>> splits = make_stress_splits(num_classes=2, train_length=8, test_length=4, size=32)
        >>> result = background_bias_stress_test(PooledFeatures(backbone), splits, probe_epochs=10)
        >>> probe = result.biased_probe
        >>> probe.bias_gap == probe.aligned - probe.conflicting
        True
        >>> probe.contrasted <= probe.conflicting  # contrasted videos are correct while moving
        True
    """

    aligned: float
    conflicting: float
    static: float
    independent: float
    frozen_conflicting: float
    bias_gap: float
    contrasted: float


@dataclass(frozen=True)
class BiasStressResult:
    """Everything the stress test measures for one encoder.

    Attributes:
        biased_probe: Probe trained on the biased ``train`` split.
        independent_probe: Probe trained on the ``independent`` training videos.
        independent_retrieval_r1: R@1 of independent test videos against the independent
            training videos (centred, cosine, video-averaged features).

    Example:
        >>> import torch
        >>> from bgdebias.evaluation import PooledFeatures, flatten_metrics
        >>> from bgdebias.models import Small3DCNN
        >>> backbone = Small3DCNN(base_width=2, generator=torch.Generator().manual_seed(0))
        >>> splits = make_stress_splits(num_classes=2, train_length=8, test_length=4, size=32)
        >>> result = background_bias_stress_test(PooledFeatures(backbone), splits, probe_epochs=10)
        >>> metrics = flatten_metrics(result)  # the names reports use
        >>> len(metrics), all(-1.0 <= value <= 1.0 for value in metrics.values())
        (15, True)
        >>> [name for name in metrics if name.endswith(".conflicting")]
        ['biased_probe.conflicting', 'independent_probe.conflicting']
    """

    biased_probe: ProbeStressResult
    independent_probe: ProbeStressResult
    independent_retrieval_r1: float


def _video_correct(classifier: LinearClassifier, clips: ClipFeatures) -> Tensor:
    """Per-video correctness of a probe (logits averaged over clips). Shape: ``(V,)``, bool."""
    with torch.no_grad():
        logits, labels = video_logits(classifier(clips.features), clips)
    return logits.argmax(dim=1) == labels


def _probe_numbers(
    classifier: LinearClassifier,
    features: dict[str, ClipFeatures],
    frozen: ClipFeatures,
    num_classes: int,
) -> ProbeStressResult:
    top1 = {
        name: evaluate_classifier(classifier, features[name], num_classes=num_classes).top1
        for name in ("aligned", "conflicting", "static", "independent")
    }
    moving = _video_correct(classifier, features["conflicting"])
    still = _video_correct(classifier, frozen)
    return ProbeStressResult(
        aligned=top1["aligned"],
        conflicting=top1["conflicting"],
        static=top1["static"],
        independent=top1["independent"],
        frozen_conflicting=float(still.float().mean()),
        bias_gap=top1["aligned"] - top1["conflicting"],
        contrasted=float((moving & ~still).float().mean()),
    )


def background_bias_stress_test(
    encoder: Encoder,
    splits: StressSplits | None = None,
    *,
    num_classes: int | None = None,
    batch_size: int = 16,
    device: torch.device | str | None = None,
    num_workers: int = 0,
    probe_optimizer: ProbeOptimizer = "lbfgs",
    probe_epochs: int = 100,
    probe_lr: float | None = None,
    probe_weight_decay: float = 1e-3,
    seed: int = 0,
) -> BiasStressResult:
    """Measure how much an encoder relies on background rather than motion.

    Extracts frozen features of every split (see :func:`extract_features`), trains the
    biased and the independent linear probe (:func:`train_linear_probe`) and tests both;
    see the module docstring for what each number means.

    Args:
        encoder: Maps clips ``(B, C, T, H, W)`` to features ``(B, D)``.
        splits: The datasets; :func:`make_stress_splits` with its defaults when ``None``.
        num_classes: ``K``; the largest label + 1 over all splits by default.
        batch_size: Videos per batch of feature extraction.
        device: Where the encoder runs (default: its own device).
        num_workers: Loader workers.
        probe_optimizer: ``"lbfgs"`` or ``"adam"``.
        probe_epochs: L-BFGS iterations or Adam epochs of each probe.
        probe_lr: Probe learning rate (optimizer default when ``None``).
        probe_weight_decay: L2 penalty of the probes.
        seed: Seed of the probes.

    Returns:
        Both probes' numbers and the independent-split retrieval R@1.

    Shape:
        clips ``(B, C, T, H, W)`` (or ``(B, N, C, T, H, W)`` with several clips) -> ``(B, D)``.

    Example:
        An encoder that sees only the background texture (how much the frame changes across
        columns and across rows: the class-0 family has horizontal stripes, class 1 vertical):

        >>> import torch
        >>> def texture(clips):
        ...     across = clips.diff(dim=-1).abs().mean(dim=(1, 2, 3, 4))
        ...     down = clips.diff(dim=-2).abs().mean(dim=(1, 2, 3, 4))
        ...     return torch.stack([across, down], dim=1)  # (B, 2)
        >>> splits = make_stress_splits(num_classes=2, train_length=16, test_length=8, size=32)
        >>> result = background_bias_stress_test(texture, splits, probe_epochs=20)
        >>> probe = result.biased_probe  # right on its class's background, wrong on another's
        >>> probe.aligned, probe.conflicting, probe.static, probe.bias_gap, probe.contrasted
        (1.0, 0.0, 1.0, 1.0, 0.0)
        >>> 0.0 <= result.independent_retrieval_r1 <= 1.0
        True
    """
    if splits is None:
        splits = make_stress_splits()
    if not isinstance(splits, StressSplits):
        raise TypeError(f"`splits` must be a StressSplits, got {type(splits).__name__}")
    names = ("train", "independent_train", "aligned", "conflicting", "static", "independent")
    features = {
        name: extract_features(
            encoder,
            getattr(splits, name),
            batch_size=batch_size,
            device=device,
            num_workers=num_workers,
        )
        for name in names
    }
    frozen = extract_features(
        encoder,
        splits.conflicting,
        batch_size=batch_size,
        device=device,
        num_workers=num_workers,
        clip_transform=freeze_frames,
    )
    classes = (
        infer_num_classes(*(f.labels for f in features.values()))
        if num_classes is None
        else num_classes
    )
    probes = {}
    for probe, train_split in (("biased", "train"), ("independent", "independent_train")):
        classifier = train_linear_probe(
            features[train_split],
            num_classes=classes,
            optimizer=probe_optimizer,
            epochs=probe_epochs,
            lr=probe_lr,
            weight_decay=probe_weight_decay,
            seed=seed,
        )
        probes[probe] = _probe_numbers(classifier, features, frozen, classes)
    query, gallery = features["independent"], features["independent_train"]
    retrieval = retrieval_recall(
        query.video_mean(),
        query.video_labels(),
        gallery.video_mean(),
        gallery.video_labels(),
        ks=(1,),
    )
    return BiasStressResult(probes["biased"], probes["independent"], retrieval.recall_at[1])
