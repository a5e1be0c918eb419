"""Command-line options generated from a configuration dataclass's fields."""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from typing import Any, Literal, get_args, get_origin

_HELP: dict[str, str] = {
    "method": "which parts run: moco (baseline), fame (FAME's mask, merge and loss), "
    "merge (mixed positive only), "
    "semi_negative (+ background hard negative), semi_negative_micro / full (+ micro term)",
    "temperature": "InfoNCE temperature",
    "w_static": "weight of the appearance term (query vs. key view) [0.5; plain MoCo 1]",
    "w_wide": "weight of the wide-bias term (query vs. mixed clip, background negative)",
    "w_micro": "weight of the micro-bias term on saliency-pooled embeddings",
    "mask_mode": "decoupler mask: one per clip or one per frame",
    "threshold": "decoupler threshold: Otsu (adaptive to the actor's size), noise (above the "
    "clip's noise level) or top-beta fraction",
    "beta": "foreground fraction for threshold=fraction, in (0, 1)",
    "mix_prob": "probability that a clip is mixed",
    "mix_view": "view whose actor is mixed onto a partner's background (the wide positive)",
    "mix_colours": "mix raw clips, then colour-augment every encoded clip on its own (raw), "
    "or mix the colour-augmented views (augmented)",
    "hard_negative": "hard negatives of the wide and micro terms: the clip's background "
    "(actor removed), a frozen frame (actor kept, motion removed), both, the clip played "
    "backwards (reversed: motion reversed; measured worse) or all three",
    "static_hard_negatives": "give the appearance term the hard negatives too",
    "synthetic_backgrounds": "synthetic backgrounds: procedural textures or photographs",
    "synthetic_actor": (
        "synthetic actor: the white disc, a disc with its own moving texture, or a disc of "
        "its own colour"
    ),
    "temporal_padding": "small3d: pad time by repeating frames (replicate) or with zeros",
    "dataset": "training data",
    "root": "dataset folder (videos and annotation files); not needed for synthetic",
    "annotations": "folder of the split/annotation files (default: --root)",
    "fold": "official split number (UCF101/HMDB51: 1-3)",
    "missing_files": "videos listed in the annotations but absent from --root: stop with an "
    "error naming them (raise) or leave them out with a warning (skip)",
    "num_frames": "frames per clip [8 synthetic / 16 video]",
    "frame_stride": "temporal stride between sampled frames",
    "size": "crop size in pixels [64 synthetic / 112 video]",
    "synthetic_videos": "videos in the synthetic training split",
    "synthetic_bias": "probability that a synthetic video's background matches its class",
    "num_workers": "DataLoader worker processes",
    "jitter_p": "probability of colour jitter per view",
    "flip_p": "probability of a horizontal flip per video, shared by its views "
    "[0 synthetic: mirror-pair classes / 0.5]",
    "min_crop_scale": "smallest area fraction of a random resized crop [0.8 synthetic / 0.4]",
    "backbone": "small3d, r3d_18, mc3_18, r2plus1d_18 or s3d [small3d synthetic / r3d_18]",
    "stage": "backbone stage read by the motion-aware decomposition (needs T >= 2)",
    "embed_dim": "projection head output dimension",
    "hidden_dim": "projection head hidden width",
    "queue_size": "negative keys per queue [1024 synthetic / 16384]",
    "momentum": "base key-encoder momentum, raised to 1 on a cosine schedule [0.99 / 0.999]",
    "optimizer": "sgd (momentum 0.9) or adamw [adamw synthetic / sgd]",
    "lr": "peak learning rate, cosine decay [2e-3 synthetic / 0.03]",
    "weight_decay": "weight decay [1e-4]",
    "batch_size": "clips per process and step [32]",
    "steps": "optimisation steps",
    "warmup_steps": "linear learning-rate warm-up steps [20 synthetic / 0]",
    "seed": "random seed (model init, data order, augmentation, mixing)",
    "device": "auto, cpu, cuda or cuda:N",
    "amp": "bfloat16 autocast on CUDA",
    "output_dir": "run folder: config.json, log.csv, loss.png, checkpoints",
    "checkpoint_every": "steps between checkpoints",
    "keep_checkpoints": "how many recent checkpoints to keep",
    "log_every": "steps between log rows",
    "log_images_every": "steps between pictures of the masks, mixed clips and salient maps "
    "in TensorBoard (needs tensorboard; 0: none)",
    "knn_every": "steps between kNN accuracies of the encoder on small labelled splits, "
    "logged as knn_top1 (0: none)",
    "knn_k": "neighbours voting in the kNN accuracy",
    "knn_videos": "labelled videos in each split of the kNN accuracy",
    "batchnorm": "batch norm across processes: shuffle (MoCo's key shuffle, any device), "
    "sync (SyncBatchNorm, CUDA only) or local",
}


def add_dataclass_options(parser: argparse.ArgumentParser, cls: type[Any]) -> None:
    """Add one ``--name`` option per field, typed and documented from the field."""
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        hint = hints[field.name]
        option = "--" + field.name.replace("_", "-")
        default = field.default
        help_text = _HELP.get(field.name, field.name.replace("_", " "))
        if default is not None and default is not dataclasses.MISSING:
            help_text += f" (default: {default})"
        choices = _literal_choices(hint)
        if _base_type(hint) is bool:
            parser.add_argument(
                option,
                dest=field.name,
                action=argparse.BooleanOptionalAction,
                default=None,
                help=help_text,
            )
        elif choices:
            parser.add_argument(
                option, dest=field.name, choices=choices, default=None, help=help_text
            )
        else:
            parser.add_argument(
                option,
                dest=field.name,
                type=_base_type(hint),
                default=None,
                help=help_text,
                metavar=field.name.upper(),
            )


def overrides(namespace: argparse.Namespace, cls: type[Any]) -> dict[str, Any]:
    """The options given on the command line (those not left at ``None``)."""
    names = {field.name for field in dataclasses.fields(cls)}
    return {k: v for k, v in vars(namespace).items() if k in names and v is not None}


def _literal_choices(hint: Any) -> list[str] | None:
    for candidate in (hint, *get_args(hint)):
        if get_origin(candidate) is Literal:
            return [str(value) for value in get_args(candidate)]
    return None


def _base_type(hint: Any) -> type[Any]:
    origin = get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [arg for arg in get_args(hint) if arg is not type(None)]
        return _base_type(options[0])
    if origin is Literal:
        return str
    return hint if isinstance(hint, type) else str
