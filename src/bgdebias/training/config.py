"""Typed configuration of a pretraining run, from the command line or a YAML/JSON file."""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, get_args

from bgdebias._choices import MASK_MODES, MaskMode, VideoDatasetName
from bgdebias._scalar_checks import (
    check_bool,
    check_choice,
    check_int,
    check_non_negative,
    check_open_unit,
    check_positive,
    check_unit,
)

Method = Literal[
    "moco", "fame", "merge", "semi_negative", "merge_micro", "semi_negative_micro", "full"
]
DatasetName = Literal["synthetic", VideoDatasetName]
OptimizerName = Literal["sgd", "adamw"]
#: The decoupler's thresholds (:data:`~bgdebias._choices.ThresholdMode`) except ``"fame"``:
#: FAME's mask comes with ``method="fame"``.
MixerThreshold = Literal["fraction", "otsu", "noise"]

METHODS: tuple[Method, ...] = get_args(Method)
DATASETS: tuple[DatasetName, ...] = get_args(DatasetName)


@dataclass(frozen=True)
class MethodParts:
    """The parts of the recipe a method switches on.

    Attributes:
        mixer: Mix each clip's actor onto a partner's background (the wide term's positive).
        hard_negative: Contrast against the clip's own background (and other hard negatives).
        micro: Add the micro term on saliency-pooled dynamic embeddings.
        micro_on_mixed: The micro term's positive is the mixed clip (else the key view).

    Example:
        >>> from bgdebias.training.config import METHOD_PARTS
        >>> METHOD_PARTS["semi_negative"]
        MethodParts(mixer=True, hard_negative=True, micro=False, micro_on_mixed=False)
    """

    mixer: bool
    hard_negative: bool
    micro: bool
    micro_on_mixed: bool


#: Which parts each method switches on. ``semi_negative_micro`` adds the micro term as
#: plain MoCo on the dynamic embeddings (query view vs. key view); ``full`` joins the two
#: biases: the micro term's positive is the mixed clip's dynamic embedding, so the actor
#: must match across backgrounds in the saliency-pooled features too.
METHOD_PARTS: dict[str, MethodParts] = {
    "moco": MethodParts(mixer=False, hard_negative=False, micro=False, micro_on_mixed=False),
    # FAME's own recipe (merged query, symmetric loss) is built by ``build_recipe``.
    "fame": MethodParts(mixer=True, hard_negative=False, micro=False, micro_on_mixed=False),
    "merge": MethodParts(mixer=True, hard_negative=False, micro=False, micro_on_mixed=False),
    "semi_negative": MethodParts(mixer=True, hard_negative=True, micro=False, micro_on_mixed=False),
    # ``full`` without the hard negatives (the ablation of the own-background negative).
    "merge_micro": MethodParts(mixer=True, hard_negative=False, micro=True, micro_on_mixed=True),
    "semi_negative_micro": MethodParts(
        mixer=True, hard_negative=True, micro=True, micro_on_mixed=False
    ),
    "full": MethodParts(mixer=True, hard_negative=True, micro=True, micro_on_mixed=True),
}


def _help(text: str) -> dict[str, str]:
    """Field metadata holding the option's help text (read by ``bgdebias pretrain``)."""
    return {"help": text}


#: Fields that shape the model or its state: a checkpoint only resumes under equal values.
ARCHITECTURE_FIELDS = (
    "method",
    "backbone",
    "stage",
    "temporal_padding",
    "frame_differences",
    "embed_dim",
    "hidden_dim",
    "queue_size",
    "optimizer",
    "dataset",
    "num_frames",
    "size",
)


@dataclass(frozen=True)
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
    method: Method = field(
        default="full",
        metadata=_help(
            "which parts run: moco (baseline), fame (FAME's mask, merge and loss), merge "
            "(mixed positive only), semi_negative (+ background hard negative), "
            "semi_negative_micro / full (+ micro term)"
        ),
    )
    temperature: float = field(default=0.1, metadata=_help("InfoNCE temperature"))
    w_static: float | None = field(
        default=None,
        metadata=_help("weight of the appearance term (query vs. key view) [0.5; plain MoCo 1]"),
    )
    w_wide: float = field(
        default=1.0,
        metadata=_help("weight of the wide-bias term (query vs. mixed clip, background negative)"),
    )
    w_micro: float = field(
        default=1.0,
        metadata=_help("weight of the micro-bias term on saliency-pooled embeddings"),
    )
    mask_mode: MaskMode = field(
        default="frame",
        metadata=_help("decoupler mask: one per clip or one per frame"),
    )
    threshold: MixerThreshold = field(
        default="noise",
        metadata=_help(
            "decoupler threshold: Otsu (adaptive to the actor's size), noise (above the "
            "clip's noise level) or top-beta fraction"
        ),
    )
    beta: float = field(
        default=0.5,
        metadata=_help("foreground fraction for threshold=fraction, in (0, 1)"),
    )
    mix_prob: float = field(default=1.0, metadata=_help("probability that a clip is mixed"))
    mix_view: Literal["query", "key"] = field(
        default="query",
        metadata=_help("view whose actor is mixed onto a partner's background (the wide positive)"),
    )
    mix_colours: Literal["raw", "augmented"] = field(
        default="augmented",
        metadata=_help(
            "mix raw clips, then colour-augment every encoded clip on its own (raw), or mix "
            "the colour-augmented views (augmented)"
        ),
    )
    hard_negative: Literal["background", "frozen", "both", "reversed", "all"] = field(
        default="both",
        metadata=_help(
            "hard negatives of the wide and micro terms: the clip's background (actor "
            "removed), a frozen frame (actor kept, motion removed), both, the clip played "
            "backwards (reversed: motion reversed; measured worse) or all three"
        ),
    )
    one_frame_still_keys: bool | None = field(
        default=None,
        metadata=_help(
            "encode the motionless hard negatives (background, frozen frame) from one frame "
            "each, normalised with the other keys' batch statistics: a cheaper key pass "
            "(needs replicate temporal padding) [off]"
        ),
    )
    static_hard_negatives: bool = field(
        default=False,
        metadata=_help("give the appearance term the hard negatives too"),
    )
    micro_negative_saliency: Literal["own", "positive"] = field(
        default="own",
        metadata=_help(
            "where the micro term's motionless hard negatives are pooled: their own (empty) "
            "salient map (own: one shared vector) or the mixed clip's, where the actor "
            "moves (positive: the scene around the actor's path)"
        ),
    )
    # Data.
    dataset: DatasetName = field(default="synthetic", metadata=_help("training data"))
    root: str | None = field(
        default=None,
        metadata=_help("dataset folder (videos and annotation files); not needed for synthetic"),
    )
    annotations: str | None = field(
        default=None,
        metadata=_help("folder of the split/annotation files (default: --root)"),
    )
    fold: int = field(default=1, metadata=_help("official split number (UCF101/HMDB51: 1-3)"))
    missing_files: Literal["raise", "skip"] = field(
        default="raise",
        metadata=_help(
            "videos listed in the annotations but absent from --root: stop with an error "
            "naming them (raise) or leave them out with a warning (skip)"
        ),
    )
    num_frames: int | None = field(
        default=None,
        metadata=_help("frames per clip [8 synthetic / 16 video]"),
    )
    frame_stride: int = field(default=1, metadata=_help("temporal stride between sampled frames"))
    size: int | None = field(
        default=None,
        metadata=_help("crop size in pixels [64 synthetic / 112 video]"),
    )
    synthetic_videos: int = field(
        default=2048,
        metadata=_help("videos in the synthetic training split"),
    )
    synthetic_bias: float = field(
        default=0.9,
        metadata=_help("probability that a synthetic video's background matches its class"),
    )
    synthetic_backgrounds: Literal["procedural", "photo"] = field(
        default="procedural",
        metadata=_help("synthetic backgrounds: procedural textures or photographs"),
    )
    synthetic_actor: Literal["disc", "textured", "colour"] = field(
        default="disc",
        metadata=_help(
            "synthetic actor: the white disc, a disc with its own moving texture, or a disc "
            "of its own colour"
        ),
    )
    num_workers: int = field(default=0, metadata=_help("DataLoader worker processes"))
    jitter_p: float = field(default=0.8, metadata=_help("probability of colour jitter per view"))
    flip_p: float | None = field(
        default=None,
        metadata=_help(
            "probability of a horizontal flip per video, shared by its views [0 synthetic: "
            "mirror-pair classes / 0.5]"
        ),
    )
    min_crop_scale: float | None = field(
        default=None,
        metadata=_help("smallest area fraction of a random resized crop [0.8 synthetic / 0.4]"),
    )
    # Model.
    backbone: str | None = field(
        default=None,
        metadata=_help("small3d, r3d_18, mc3_18, r2plus1d_18 or s3d [small3d synthetic / r3d_18]"),
    )
    stage: str | None = field(
        default=None,
        metadata=_help("backbone stage read by the motion-aware decomposition (needs T >= 2)"),
    )
    temporal_padding: Literal["zeros", "replicate"] = field(
        default="replicate",
        metadata=_help("small3d: pad time by repeating frames (replicate) or with zeros"),
    )
    frame_differences: bool | None = field(
        default=None,
        metadata=_help(
            "small3d: give the first convolution each frame's difference from the previous "
            "one as extra channels, so that patterned actors become learnable [on for small3d]"
        ),
    )
    embed_dim: int = field(
        default=128,
        metadata=_help(
            "output size of the projection heads (DebiasEncoder's projection_dim), not the "
            "backbone's width"
        ),
    )
    hidden_dim: int = field(default=512, metadata=_help("projection head hidden width"))
    queue_size: int | None = field(
        default=None,
        metadata=_help("negative keys per queue [1024 synthetic / 16384]"),
    )
    momentum: float | None = field(
        default=None,
        metadata=_help(
            "base key-encoder momentum, raised to 1 on a cosine schedule [0.99 / 0.999]"
        ),
    )
    # Optimisation.
    optimizer: OptimizerName | None = field(
        default=None,
        metadata=_help("sgd (momentum 0.9) or adamw [adamw synthetic / sgd]"),
    )
    lr: float | None = field(
        default=None,
        metadata=_help("peak learning rate, cosine decay [2e-3 synthetic / 0.03]"),
    )
    weight_decay: float | None = field(default=None, metadata=_help("weight decay [1e-4]"))
    batch_size: int | None = field(default=None, metadata=_help("clips per process and step [32]"))
    steps: int = field(default=300, metadata=_help("optimisation steps"))
    warmup_steps: int | None = field(
        default=None,
        metadata=_help("linear learning-rate warm-up steps [20 synthetic / 0]"),
    )
    # Run.
    seed: int = field(
        default=0,
        metadata=_help("random seed (model init, data order, augmentation, mixing)"),
    )
    device: str = field(default="auto", metadata=_help("auto, cpu, cuda or cuda:N"))
    amp: bool = field(default=True, metadata=_help("bfloat16 autocast on CUDA"))
    channels_last: bool = field(
        default=True,
        metadata=_help(
            "store the 3D convolutions' weights channels-last (torch.channels_last_3d): a "
            "faster training step on CPUs (oneDNN), same results up to rounding"
        ),
    )
    output_dir: str = field(
        default="runs/pretrain",
        metadata=_help("run folder: config.json, log.csv, loss.png, checkpoints"),
    )
    checkpoint_every: int = field(default=100, metadata=_help("steps between checkpoints"))
    keep_checkpoints: int = field(default=2, metadata=_help("how many recent checkpoints to keep"))
    log_every: int = field(default=10, metadata=_help("steps between log rows"))
    log_images_every: int = field(
        default=0,
        metadata=_help(
            "steps between pictures of the masks, mixed clips and salient maps in "
            "TensorBoard (needs tensorboard; 0: none)"
        ),
    )
    knn_every: int = field(
        default=0,
        metadata=_help(
            "steps between kNN accuracies of the encoder on small labelled splits, logged as "
            "knn_top1 (0: none)"
        ),
    )
    knn_k: int = field(default=20, metadata=_help("neighbours voting in the kNN accuracy"))
    knn_videos: int = field(
        default=256,
        metadata=_help("labelled videos in each split of the kNN accuracy"),
    )
    batchnorm: Literal["shuffle", "sync", "local"] = field(
        default="shuffle",
        metadata=_help(
            "batch norm across processes: shuffle (MoCo's key shuffle, any device), sync "
            "(SyncBatchNorm, CUDA only) or local"
        ),
    )

    def __post_init__(self) -> None:
        check_choice(self.method, "method", METHODS)
        check_choice(self.dataset, "dataset", DATASETS)
        check_choice(self.mask_mode, "mask_mode", MASK_MODES)
        check_choice(self.threshold, "threshold", get_args(MixerThreshold))
        check_choice(self.batchnorm, "batchnorm", ("shuffle", "sync", "local"))
        check_choice(self.mix_view, "mix_view", ("query", "key"))
        check_choice(self.mix_colours, "mix_colours", ("raw", "augmented"))
        check_choice(self.micro_negative_saliency, "micro_negative_saliency", ("own", "positive"))
        check_choice(
            self.hard_negative, "hard_negative", ("background", "frozen", "both", "reversed", "all")
        )
        check_choice(self.synthetic_backgrounds, "synthetic_backgrounds", ("procedural", "photo"))
        check_choice(self.synthetic_actor, "synthetic_actor", ("disc", "textured", "colour"))
        check_choice(self.temporal_padding, "temporal_padding", ("zeros", "replicate"))
        for name in ("frame_differences", "one_frame_still_keys"):
            if getattr(self, name) is not None:
                check_bool(getattr(self, name), name)
        check_bool(self.channels_last, "channels_last")
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
    def parts(self) -> MethodParts:
        """The parts of the recipe that ``method`` switches on."""
        return METHOD_PARTS[self.method]

    def resolved(self) -> ResolvedPretrainConfig:
        """A frozen copy with every ``None`` replaced by its dataset-dependent default."""
        synthetic = self.dataset == "synthetic"
        defaults: dict[str, Any] = {
            # Half weight for the appearance term (plain MoCo's loss) beside the debiasing
            # terms: on the bias benchmark's three families it cut the bias gap by 5 to 23
            # points per run (docs/benchmarks/bias.md). Plain MoCo keeps 1: with no other
            # term, the weight would only rescale its gradients.
            "w_static": 1.0 if not self.parts.mixer else 0.5,
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
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        for name, default in defaults.items():
            if values[name] is None:
                values[name] = default
        if values["frame_differences"] is None:
            # A small 3D CNN learns the motion of patterned actors only with them
            # (docs/benchmarks/learnability.md); the torchvision backbones take RGB only.
            values["frame_differences"] = values["backbone"] == "small3d"
        if values["frame_differences"] and values["backbone"] != "small3d":
            raise ValueError(
                f"`frame_differences` needs backbone 'small3d', got backbone {values['backbone']!r}"
            )
        # One frame stands for a still clip only where time is padded by replicating
        # frames; SyncBatchNorm's statistics span processes and cannot be reused locally;
        # S3D pools over several frames.
        one_frame_possible = (
            values["temporal_padding"] == "replicate"
            and values["batchnorm"] != "sync"
            and values["backbone"] != "s3d"
        )
        if values["one_frame_still_keys"] is None:
            # Off by default: faster, but on three paired runs of the bias benchmark the
            # gap moved by -3.1, +12.1 and +5.1 points (docs/benchmarks/speed.md).
            values["one_frame_still_keys"] = False
        if values["one_frame_still_keys"] and not one_frame_possible:
            raise ValueError(
                "`one_frame_still_keys` needs temporal_padding='replicate', batchnorm other "
                f"than 'sync' and a backbone other than 's3d', got temporal_padding="
                f"{values['temporal_padding']!r}, batchnorm={values['batchnorm']!r}, "
                f"backbone={values['backbone']!r}"
            )
        return ResolvedPretrainConfig(**values)

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
    def smoke(cls, **changes: Any) -> PretrainConfig:
        """The smallest run that exercises every part: a smoke test, not an experiment.

        Synthetic videos of 32 px, batch 4, 16 videos, queue 16, projection 32 -> 16, no
        colour jitter, on the CPU; ``changes`` set any other field (``steps``,
        ``output_dir``, ...). The unit tests and the benchmarks' ``--quick`` modes use it.

        Example:
            >>> config = PretrainConfig.smoke(steps=3, method="moco")
            >>> config.size, config.batch_size, config.steps, config.method
            (32, 4, 3, 'moco')
        """
        tiny: dict[str, Any] = {
            "size": 32,
            "batch_size": 4,
            "synthetic_videos": 16,
            "queue_size": 16,
            "hidden_dim": 32,
            "embed_dim": 16,
            "device": "cpu",
            "jitter_p": 0.0,
        }
        return cls.from_dict({**tiny, **changes})

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


@dataclass(frozen=True, kw_only=True)
class ResolvedPretrainConfig(PretrainConfig):
    """A :class:`PretrainConfig` whose dataset-dependent defaults are filled in.

    Made by :meth:`PretrainConfig.resolved`; the fields that may be ``None`` there hold
    values here (only ``root`` and ``annotations`` stay optional), so code that runs a
    configuration reads them without checks.

    Example:
        >>> from bgdebias.training import PretrainConfig
        >>> resolved = PretrainConfig(method="moco").resolved()
        >>> type(resolved).__name__, resolved.batch_size, resolved.lr
        ('ResolvedPretrainConfig', 32, 0.002)
        >>> resolved.resolved() == resolved
        True
    """

    # `field()` drops the inherited default (None): each value must be given.
    w_static: float = field()
    num_frames: int = field()
    size: int = field()
    flip_p: float = field()
    min_crop_scale: float = field()
    backbone: str = field()
    frame_differences: bool = field()
    one_frame_still_keys: bool = field()
    stage: str = field()
    queue_size: int = field()
    momentum: float = field()
    optimizer: OptimizerName = field()
    lr: float = field()
    weight_decay: float = field()
    batch_size: int = field()
    warmup_steps: int = field()

    @property
    def dataset_root(self) -> str:
        """``root``, which every dataset but the synthetic one needs.

        Raises:
            ValueError: For ``dataset="synthetic"``, which has no folder.
        """
        if self.root is None:
            raise ValueError(f"dataset {self.dataset!r} has no `root` folder")
        return self.root


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
