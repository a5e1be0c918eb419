"""Online kNN accuracy of the encoder on small labelled splits, measured during pretraining."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import Dataset, Subset

from bgdebias._inference import encoder_device
from bgdebias._validation import check_choice, check_int, check_positive
from bgdebias.data.transforms import NormalizeClip
from bgdebias.evaluation import PooledFeatures, extract_features, knn_classify
from bgdebias.evaluation.knn import KNNWeighting
from bgdebias.training.config import ResolvedPretrainConfig


def knn_top1(
    gallery: Tensor,
    gallery_labels: Tensor,
    query: Tensor,
    query_labels: Tensor,
    *,
    k: int = 20,
    weighting: KNNWeighting = "exponential",
    temperature: float = 0.07,
) -> float:
    """Top-1 accuracy of k-NN classification on cosine similarity (the monitor's metric).

    Features are L2-normalised (not centred); each query's ``k`` most similar gallery
    items vote for their class: with ``weighting="exponential"`` (InstDisc, Wu et al.
    2018, as solo-learn's online kNN) a neighbour of similarity ``s`` votes
    ``exp(s / temperature)``, with ``"uniform"`` every neighbour votes 1 (majority vote).
    The class with the most votes wins; a tie goes to the lowest class index. See
    :func:`~bgdebias.evaluation.knn_classify`, which this calls.

    Args:
        gallery: Labelled (training) features. Shape: ``(N, D)``.
        gallery_labels: Their classes. Shape: ``(N,)``, int64.
        query: Features to classify. Shape: ``(M, D)``.
        query_labels: Their true classes. Shape: ``(M,)``, int64.
        k: Neighbours per query, ``1 <= k <= N``.
        weighting: ``"exponential"`` or ``"uniform"``.
        temperature: Temperature of the exponential weights, > 0.

    Returns:
        The fraction of queries classified correctly, in [0, 1].

    Example:
        >>> import torch
        >>> gallery = torch.tensor([[1.0, 0.0], [0.8, 0.2], [0.0, 1.0]])
        >>> labels = torch.tensor([0, 0, 1])
        >>> query = torch.tensor([[0.1, 1.0], [0.9, 0.1]])
        >>> knn_top1(gallery, labels, query, torch.tensor([1, 0]), k=1)
        1.0
        >>> knn_top1(gallery, labels, query, torch.tensor([1, 0]), k=3, weighting="uniform")
        0.5
    """
    result = knn_classify(
        query,
        query_labels,
        gallery,
        gallery_labels,
        k=k,
        temperature=temperature,
        weighting=weighting,
    )
    return float(result.top1)


class KNNMonitor:
    """Every ``every`` steps, the kNN accuracy of the query encoder on small labelled splits.

    The encoder's backbone embeds every video of ``train`` and ``test`` (pooled features,
    as the evaluation protocols use; eval mode, no gradients; the training flag of every
    module and torch's global random state are restored after); each test video is then
    classified by :func:`knn_top1` among the train videos. The result is logged as
    ``knn_top1`` (a fraction in [0, 1]) in ``log.csv``, TensorBoard and the callbacks'
    ``on_log``, at multiples of ``every`` and at the run's last step. The time it takes
    is left out of ``clips_per_s``.

    Args:
        train: Labelled videos voted among (the gallery): a map-style dataset of
            ``(clip, label, ...)`` tuples or mappings with ``"clip"`` and ``"label"``.
        test: Labelled videos classified (the queries), same form.
        every: Steps between measurements, >= 1.
        k: Neighbours per query, at most ``len(train)``.
        weighting: ``"exponential"`` (InstDisc) or ``"uniform"`` (majority vote).
        temperature: Temperature of the exponential weights.
        normalize: Apply the Kinetics normalisation of the training views to the clips
            first (clips in [0, 1], as the synthetic dataset gives); ``False`` for datasets
            that normalise themselves (:func:`~bgdebias.data.eval_clip_transform`).
        batch_size: Videos per forward pass.
        num_workers: Loader workers.

    Example:
        >>> import tempfile
        >>> from bgdebias.evaluation import make_stress_splits
        >>> from bgdebias.training import KNNMonitor, PretrainConfig, pretrain
        >>> from bgdebias.training.metrics_log import read_log
        >>> splits = make_stress_splits(train_length=16, test_length=8, size=32)
        >>> monitor = KNNMonitor(splits.independent_train, splits.independent, every=2, k=5)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     config = PretrainConfig(
        ...         steps=2, size=32, batch_size=4, synthetic_videos=8, queue_size=8,
        ...         hidden_dim=16, embed_dim=8, device="cpu", output_dir=folder, log_every=1,
        ...     )
        ...     run = pretrain(config, progress=False, knn_monitor=monitor)
        ...     rows = read_log(run.output_dir / "log.csv")
        >>> [0.0 <= row["knn_top1"] <= 1.0 for row in rows]  # step 1 has none: nan
        [False, True]
    """

    #: The name of the logged metric.
    name = "knn_top1"

    def __init__(
        self,
        train: Dataset[Any],
        test: Dataset[Any],
        *,
        every: int,
        k: int = 20,
        weighting: KNNWeighting = "exponential",
        temperature: float = 0.07,
        normalize: bool = True,
        batch_size: int = 32,
        num_workers: int = 0,
    ) -> None:
        for name, data in (("train", train), ("test", test)):
            if not (hasattr(data, "__getitem__") and hasattr(data, "__len__")):
                raise TypeError(
                    f"`{name}` must be a map-style dataset of labelled videos, got "
                    f"{type(data).__name__}"
                )
        self.train, self.test = train, test
        self.every = check_int(every, "every", minimum=1)
        self.k = check_int(k, "k", minimum=1)
        if self.k > len(train):  # type: ignore[arg-type]
            raise ValueError(
                f"`k` = {k} is larger than `train` ({len(train)} videos)"  # type: ignore[arg-type]
            )
        self.weighting: KNNWeighting = check_choice(
            weighting, "weighting", ("exponential", "uniform")
        )
        self.temperature = check_positive(temperature, "temperature")
        self.normalize = bool(normalize)
        self.batch_size = check_int(batch_size, "batch_size", minimum=1)
        self.num_workers = check_int(num_workers, "num_workers", minimum=0)

    def due(self, step: int, *, last_step: int) -> bool:
        """Whether to measure after step ``step`` of a run of ``last_step`` steps."""
        return step % self.every == 0 or step == last_step

    def measure(self, backbone: nn.Module) -> dict[str, float]:
        """The kNN accuracy of ``backbone``'s pooled features: ``{"knn_top1": accuracy}``.

        Args:
            backbone: A :class:`~bgdebias.models.VideoBackbone` (the query encoder's), or any
                module whose output :class:`~bgdebias.evaluation.PooledFeatures` reads.
        """
        encoder: nn.Module = PooledFeatures(backbone)
        if self.normalize:
            encoder = nn.Sequential(NormalizeClip(), encoder)
        device = encoder_device(encoder)
        options: dict[str, Any] = {
            "batch_size": self.batch_size,
            "device": device,
            "num_workers": self.num_workers,
        }
        # The loader draws a seed from torch's global generator: keep the run's draws intact.
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            train = extract_features(encoder, self.train, **options)
            test = extract_features(encoder, self.test, **options)
        accuracy = knn_top1(
            train.video_mean(),
            train.video_labels(),
            test.video_mean(),
            test.video_labels(),
            k=self.k,
            weighting=self.weighting,
            temperature=self.temperature,
        )
        return {self.name: accuracy}


def knn_monitor_for(config: ResolvedPretrainConfig) -> KNNMonitor:
    """The monitor ``--knn-every`` asks for: ``knn_videos`` labelled videos per split.

    On synthetic data, the gallery and the queries are two disjoint sets of the
    ``independent`` split (backgrounds drawn independently of the class: a background
    shortcut does not help); on a video dataset, ``knn_videos`` evenly spaced videos of its
    train and of its test split (one centre clip each, the evaluation transform).

    Args:
        config: A resolved configuration with ``knn_every >= 1``.

    Returns:
        The monitor.

    Example:
        >>> from bgdebias.training import PretrainConfig
        >>> config = PretrainConfig(knn_every=50, knn_videos=32, knn_k=10).resolved()
        >>> monitor = knn_monitor_for(config)
        >>> monitor.every, monitor.k, len(monitor.train), len(monitor.test)
        (50, 10, 32, 32)
    """
    check_int(config.knn_every, "knn_every", minimum=1)
    frames, size = config.num_frames, config.size
    options: dict[str, Any] = {
        "every": config.knn_every,
        "k": config.knn_k,
        "batch_size": config.batch_size,
    }
    if config.dataset == "synthetic":
        from bgdebias.evaluation import make_stress_splits

        splits = make_stress_splits(
            train_length=config.knn_videos,
            test_length=config.knn_videos,
            num_frames=frames,
            size=size,
            bias=config.synthetic_bias,
            seed=config.seed,
            backgrounds=config.synthetic_backgrounds,
            actor=config.synthetic_actor,
        )
        return KNNMonitor(splits.independent_train, splits.independent, **options)
    from bgdebias.data import UniformClipSampler, eval_clip_transform
    from bgdebias.data.datasets.registry import build_video_dataset

    def evenly_spaced(split: str) -> Dataset[Any]:
        videos = build_video_dataset(
            config.dataset,
            config.dataset_root,
            split=split,  # type: ignore[arg-type]
            clip_sampler=UniformClipSampler(frames, stride=config.frame_stride, num_clips=1),
            annotations=config.annotations,
            fold=config.fold,
            transform=eval_clip_transform(size),
            on_error="skip",
            missing_files=config.missing_files,
        )
        count = min(config.knn_videos, len(videos))
        picks = sorted({round(i * (len(videos) - 1) / max(count - 1, 1)) for i in range(count)})
        return Subset(videos, picks)

    return KNNMonitor(
        evenly_spaced("train"),
        evenly_spaced("test"),
        normalize=False,
        num_workers=config.num_workers,
        **options,
    )
