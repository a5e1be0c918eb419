"""Typed configuration of a pretraining run, from the command line or a YAML/JSON file."""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args

from bgdebias._scalar_checks import (
    check_choice,
    check_int,
    check_non_negative,
    check_open_unit,
    check_positive,
    check_unit,
)

T = TypeVar("T")

Method = Literal[
    "moco", "fame", "merge", "semi_negative", "merge_micro", "semi_negative_micro", "full"
]
DatasetName = Literal["synthetic", "ucf101", "hmdb51", "kinetics", "ssv2", "diving48", "folder"]
OptimizerName = Literal["sgd", "adamw"]

METHODS: tuple[str, ...] = get_args(Method)
DATASETS: tuple[str, ...] = get_args(DatasetName)

#: Which parts each method switches on: (mixer, background hard negative, micro term,
#: micro term contrasted against the mixed clip). ``semi_negative_micro`` adds the micro
#: term as plain MoCo on the dynamic embeddings (query view vs. key view); ``full`` joins
#: the two biases: the micro term's positive is the mixed clip's dynamic embedding, so
#: the actor must match across backgrounds in the saliency-pooled features too.
METHOD_PARTS: dict[str, tuple[bool, bool, bool, bool]] = {
    "moco": (False, False, False, False),
    # FAME's own recipe (merged query, symmetric loss) is built by ``build_recipe``.
    "fame": (True, False, False, False),
    "merge": (True, False, False, False),
    "semi_negative": (True, True, False, False),
    # ``full`` without the hard negatives (the ablation of the own-background negative).
    "merge_micro": (True, False, True, True),
    "semi_negative_micro": (True, True, True, False),
    "full": (True, True, True, True),
}

#: Fields that shape the model or its state: a checkpoint only resumes under equal values.
ARCHITECTURE_FIELDS = (
    "method",
    "backbone",
    "stage",
    "temporal_padding",
    "embed_dim",
    "hidden_dim",
    "queue_size",
    "optimizer",
    "dataset",
    "num_frames",
    "size",
)


@dataclass
class PretrainConfig:
    """Everything a pretraining run needs; ``None`` fields take dataset-dependent defaults.

    The defaults follow the field (MoCo v2 / FAME: embedding 128, temperature 0.1 (FAME's;
    MoCo v2's official code uses 0.2, BE 0.07), key momentum 0.999 (raised to 1 on a cosine
    schedule, as BYOL does; MoCo keeps it fixed), SGD with a cosine learning rate) for real
    datasets, and CPU-sized ones for the synthetic
    dataset (small 3D CNN, 8x64x64 clips,
    AdamW at 2e-3 after 20 warm-up steps, crops of at least 80 % of the frame, no flip:
    with these a supervised model learns the motions in 300 steps, see
    ``docs/benchmarks/learnability.md``; SGD at lr 0.05 could not, even with labels).
    :meth:`resolved` fills them in; the run folder keeps the result. The appearance term
    (plain MoCo's loss, ``w_static``) weighs 0.5 beside the debiasing terms and 1 for
    ``method="moco"``: at half weight the bias benchmark's gap fell by 5 to 23 points in
    every run on three families, for 2 points less on the independent probe on average
    (``docs/benchmarks/bias.md``).

    The mixer's masks default to one per frame, marking what changes more than the clip's
    noise level (``threshold="noise"``, our reading): a fixed top-50% fraction (FAME's
    ``beta = 0.5``) marks half of every frame as foreground when the actor is small, so the
    "mixed" clip keeps half of its own background (mask IoU with the true synthetic sprite:
    0.02), Otsu's threshold always splits a frame in two even where only noise changes
    (IoU 0.86 on the sprite, 0.39 against OpenCV's MOG2 on real pedestrian footage), the
    noise-gated mask reaches 0.995 and 0.52 (``docs/benchmarks/masks.md``).
    ``--threshold fraction --beta 0.5`` is FAME-like (FAME's exact mask, with its colour
    refinement, is the decoupler's ``threshold="fame"``, used by ``--method fame``).

    Example:
        >>> from bgdebias.training import PretrainConfig
        >>> config = PretrainConfig(method="moco", steps=50)
        >>> config.lr is None, config.resolved().lr  # CPU-sized default for synthetic data
        (True, 0.002)
        >>> PretrainConfig().resolved().w_static, config.resolved().w_static  # full, moco
        (0.5, 1.0)
        >>> video = PretrainConfig(dataset="ucf101", root="/data/UCF-101").resolved()
        >>> video.backbone, video.optimizer, video.lr, video.num_frames
        ('r3d_18', 'sgd', 0.03, 16)
        >>> PretrainConfig.from_dict({"methd": "moco"})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: unknown configuration keys ['methd']; allowed keys are [...]
    """

    # Method and loss.
    method: Method = "full"
    temperature: float = 0.1
    w_static: float | None = None
    w_wide: float = 1.0
    w_micro: float = 1.0
    mask_mode: Literal["clip", "frame"] = "frame"
    threshold: Literal["fraction", "otsu", "noise"] = "noise"
    beta: float = 0.5
    mix_prob: float = 1.0
    mix_view: Literal["query", "key"] = "query"
    mix_colours: Literal["raw", "augmented"] = "augmented"
    hard_negative: Literal["background", "frozen", "both", "reversed", "all"] = "both"
    static_hard_negatives: bool = False
    # Data.
    dataset: DatasetName = "synthetic"
    root: str | None = None
    annotations: str | None = None
    fold: int = 1
    missing_files: Literal["raise", "skip"] = "raise"
    num_frames: int | None = None
    frame_stride: int = 1
    size: int | None = None
    synthetic_videos: int = 2048
    synthetic_bias: float = 0.9
    synthetic_backgrounds: Literal["procedural", "photo"] = "procedural"
    synthetic_actor: Literal["disc", "textured", "colour"] = "disc"
    num_workers: int = 0
    jitter_p: float = 0.8
    flip_p: float | None = None
    min_crop_scale: float | None = None
    # Model.
    backbone: str | None = None
    stage: str | None = None
    temporal_padding: Literal["zeros", "replicate"] = "replicate"
    embed_dim: int = 128
    hidden_dim: int = 512
    queue_size: int | None = None
    momentum: float | None = None
    # Optimisation.
    optimizer: OptimizerName | None = None
    lr: float | None = None
    weight_decay: float | None = None
    batch_size: int | None = None
    steps: int = 300
    warmup_steps: int | None = None
    # Run.
    seed: int = 0
    device: str = "auto"
    amp: bool = True
    output_dir: str = "runs/pretrain"
    checkpoint_every: int = 100
    keep_checkpoints: int = 2
    log_every: int = 10
    log_images_every: int = 0
    knn_every: int = 0
    knn_k: int = 20
    knn_videos: int = 256
    batchnorm: Literal["shuffle", "sync", "local"] = "shuffle"

    def __post_init__(self) -> None:
        check_choice(self.method, "method", METHODS)
        check_choice(self.dataset, "dataset", DATASETS)
        check_choice(self.mask_mode, "mask_mode", ("clip", "frame"))
        check_choice(self.threshold, "threshold", ("fraction", "otsu", "noise"))
        check_choice(self.batchnorm, "batchnorm", ("shuffle", "sync", "local"))
        check_choice(self.mix_view, "mix_view", ("query", "key"))
        check_choice(self.mix_colours, "mix_colours", ("raw", "augmented"))
        check_choice(
            self.hard_negative, "hard_negative", ("background", "frozen", "both", "reversed", "all")
        )
        check_choice(self.synthetic_backgrounds, "synthetic_backgrounds", ("procedural", "photo"))
        check_choice(self.synthetic_actor, "synthetic_actor", ("disc", "textured", "colour"))
        check_choice(self.temporal_padding, "temporal_padding", ("zeros", "replicate"))
        check_choice(self.missing_files, "missing_files", ("raise", "skip"))
        if self.optimizer is not None:
            check_choice(self.optimizer, "optimizer", ("sgd", "adamw"))
        check_positive(self.temperature, "temperature")
        for name in ("w_static", "w_wide", "w_micro"):
            if getattr(self, name) is not None:
                check_non_negative(getattr(self, name), name)
        check_open_unit(self.beta, "beta")
        check_unit(self.mix_prob, "mix_prob")
        check_unit(self.synthetic_bias, "synthetic_bias")
        check_unit(self.jitter_p, "jitter_p")
        if self.flip_p is not None:
            check_unit(self.flip_p, "flip_p")
        if self.min_crop_scale is not None:
            check_positive(self.min_crop_scale, "min_crop_scale")
            if self.min_crop_scale > 1:
                raise ValueError(
                    f"`min_crop_scale` must be in (0, 1] (a fraction of the frame area), "
                    f"got {self.min_crop_scale!r}"
                )
        check_int(self.steps, "steps", minimum=1)
        if self.warmup_steps is not None:
            check_int(self.warmup_steps, "warmup_steps", minimum=0)
        check_int(self.synthetic_videos, "synthetic_videos", minimum=2)
        check_int(self.num_workers, "num_workers", minimum=0)
        check_int(self.checkpoint_every, "checkpoint_every", minimum=1)
        check_int(self.keep_checkpoints, "keep_checkpoints", minimum=1)
        check_int(self.log_every, "log_every", minimum=1)
        check_int(self.log_images_every, "log_images_every", minimum=0)
        check_int(self.knn_every, "knn_every", minimum=0)
        check_int(self.knn_k, "knn_k", minimum=1)
        check_int(self.knn_videos, "knn_videos", minimum=2)
        if self.knn_k > self.knn_videos:
            raise ValueError(
                f"`knn_k` must be <= `knn_videos` (the labelled videos it votes among), got "
                f"knn_k={self.knn_k} and knn_videos={self.knn_videos}"
            )
        check_int(self.fold, "fold", minimum=1)
        check_int(self.frame_stride, "frame_stride", minimum=1)
        check_int(self.embed_dim, "embed_dim", minimum=1)
        check_int(self.hidden_dim, "hidden_dim", minimum=1)
        for name in ("num_frames", "size", "queue_size"):
            if getattr(self, name) is not None:
                check_int(getattr(self, name), name, minimum=2)
        if self.batch_size is not None:
            check_int(self.batch_size, "batch_size", minimum=2)
        if self.lr is not None:
            check_positive(self.lr, "lr")
        if self.weight_decay is not None:
            check_non_negative(self.weight_decay, "weight_decay")
        if self.momentum is not None:
            check_unit(self.momentum, "momentum")
        if self.dataset != "synthetic" and self.root is None:
            raise ValueError(f"`root` is required for dataset {self.dataset!r} (the video folder)")

    @property
    def parts(self) -> tuple[bool, bool, bool, bool]:
        """(mixer, background hard negative, micro term, micro on the mixed clip)."""
        return METHOD_PARTS[self.method]

    def resolved(self) -> PretrainConfig:
        """A copy with every ``None`` replaced by its dataset-dependent default."""
        synthetic = self.dataset == "synthetic"
        defaults: dict[str, Any] = {
            # Half weight for the appearance term (plain MoCo's loss) beside the debiasing
            # terms: on the bias benchmark's three families it cut the bias gap by 5 to 23
            # points per run (docs/benchmarks/bias.md). Plain MoCo keeps 1: with no other
            # term, the weight would only rescale its gradients.
            "w_static": 1.0 if not self.parts[0] else 0.5,
            "num_frames": 8 if synthetic else 16,
            "size": 64 if synthetic else 112,
            "backbone": "small3d" if synthetic else "r3d_18",
            "stage": "layer3",
            "queue_size": 1024 if synthetic else 16384,
            "momentum": 0.99 if synthetic else 0.999,
            "optimizer": "adamw" if synthetic else "sgd",
            "lr": 2e-3 if synthetic else 0.03,
            "warmup_steps": 20 if synthetic else 0,
            "weight_decay": 1e-4,
            "batch_size": 32,
            # Half of the synthetic classes are mirror pairs (left/right, clockwise/counter-
            # clockwise): a flip would change a video's class.
            "flip_p": 0.0 if synthetic else 0.5,
            # Smaller crops often cut the synthetic sprite out of the view.
            "min_crop_scale": 0.8 if synthetic else 0.4,
        }
        updates = {name: value for name, value in defaults.items() if getattr(self, name) is None}
        return dataclasses.replace(self, **updates)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> PretrainConfig:
        """Build from a mapping; unknown keys raise ``ValueError`` naming them."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(
                f"unknown configuration keys {unknown}; allowed keys are {sorted(known)}"
            )
        return cls(**values)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> PretrainConfig:
        """Read a ``.json``, ``.yaml`` or ``.yml`` file."""
        return cls.from_dict(read_mapping(path))

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write as JSON (atomically)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_suffix(target.suffix + ".tmp")
        temporary.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")
        os.replace(temporary, target)
        return target


def require(value: T | None, name: str) -> T:
    """A resolved value; ``None`` means :meth:`PretrainConfig.resolved` was not called."""
    if value is None:
        raise ValueError(f"configuration value `{name}` is unset; call `config.resolved()` first")
    return value


def read_mapping(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a JSON or YAML file holding one mapping.

    Args:
        path: A ``.json``, ``.yaml`` or ``.yml`` file.

    Returns:
        The mapping.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: For another suffix or a file that does not hold a mapping.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = Path(folder) / "run.json"
        ...     _ = path.write_text('{"method": "moco", "steps": 50}')
        ...     read_mapping(path)
        {'method': 'moco', 'steps': 50}
    """
    source = Path(path)
    if not source.is_file():
        raise FileNotFoundError(f"configuration file not found: {source}")
    text = source.read_text()
    if source.suffix in (".yaml", ".yml"):
        import yaml

        data = yaml.safe_load(text)
    elif source.suffix == ".json":
        data = json.loads(text)
    else:
        raise ValueError(f"configuration file must end in .json, .yaml or .yml, got {source.name}")
    if not isinstance(data, dict):
        raise ValueError(
            f"configuration file {source} must hold a mapping, got {type(data).__name__}"
        )
    return data


def architecture_mismatch(saved: dict[str, Any], current: PretrainConfig) -> list[str]:
    """Names and values of architecture fields that differ between two configurations."""
    mismatches = []
    for name in ARCHITECTURE_FIELDS:
        if saved.get(name) != getattr(current, name):
            mismatches.append(
                f"{name}: checkpoint {saved.get(name)!r} != run {getattr(current, name)!r}"
            )
    return mismatches
