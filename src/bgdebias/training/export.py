"""Write a checkpoint's backbone alone, as a plain state dict for torchvision or Small3DCNN."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

import torch
from torch import Tensor, nn
from torchvision.models import video as tv_video

from bgdebias._version import __version__
from bgdebias.data.transforms import KINETICS_MEAN, KINETICS_STD
from bgdebias.models.small3d import Small3DCNN
from bgdebias.training.checkpoint import CheckpointError, load_checkpoint, model_state
from bgdebias.training.loading import checkpoint_config
from bgdebias.training.output_paths import check_writable_file

#: The classifier of each torchvision model: the attribute to set to ``nn.Identity()``
#: before loading an exported backbone (the export holds no classifier weights).
TORCHVISION_HEADS: Mapping[str, str] = {
    "r3d_18": "fc",
    "mc3_18": "fc",
    "r2plus1d_18": "fc",
    "s3d": "classifier",
}

_TORCHVISION_BUILDERS: Mapping[str, Callable[..., nn.Module]] = {
    "r3d_18": tv_video.r3d_18,
    "mc3_18": tv_video.mc3_18,
    "r2plus1d_18": tv_video.r2plus1d_18,
    "s3d": tv_video.s3d,
}


@dataclass(frozen=True)
class ExportedBackbone:
    """What :func:`export_backbone` wrote, and the model its weights load into.

    Attributes:
        path: The state dict (``torch.load(path, weights_only=True)`` reads it).
        metadata_path: The same facts as JSON, next to it (``<path>.json``).
        checkpoint: The checkpoint it came from.
        step: The checkpoint's training step.
        encoder: ``"query"`` or ``"key"`` (the momentum encoder).
        backbone: ``"r3d_18"``, ``"mc3_18"``, ``"r2plus1d_18"``, ``"s3d"`` or ``"small3d"``.
        stage: The stage the run's blocks read (``features`` of a
            :class:`~bgdebias.models.VideoBackbone`; no effect on the weights).
        temporal_padding: How the run's convolutions padded time, ``"zeros"`` or
            ``"replicate"``. A plain torchvision model pads with zeros; after
            ``bgdebias.models.replicate_temporal_padding(model)`` it computes what the
            encoder computed in training (parameter names are unchanged).
        head: The torchvision model's classifier attribute to set to ``nn.Identity()``
            before loading (``None`` for ``small3d``, which has no classifier).
        excluded_keys: The keys of that classifier, which the export does not hold.
        model_options: Keyword arguments of :class:`~bgdebias.models.Small3DCNN` for
            ``small3d`` (empty for torchvision models: ``weights=None`` is all they need).
        num_frames: Frames per clip in training (``T``).
        size: Crop size in training (``H = W``). Training clips were ``(B, 3, T, H, W)``
            with values in [0, 1] normalised with the Kinetics mean and standard
            deviation (:data:`~bgdebias.data.KINETICS_MEAN`, ``KINETICS_STD``), as
            torchvision's video models expect.

    Example:
        See :func:`export_backbone`.
    """

    path: Path
    metadata_path: Path
    checkpoint: Path
    step: int
    encoder: Literal["query", "key"]
    backbone: str
    stage: str | None
    temporal_padding: str
    head: str | None
    excluded_keys: tuple[str, ...]
    model_options: Mapping[str, Any] = field(default_factory=dict)
    num_frames: int | None = None
    size: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (the content of :attr:`metadata_path`)."""
        return {
            "format": "bgdebias-backbone",
            "format_version": 1,
            "bgdebias_version": __version__,
            "checkpoint": str(self.checkpoint),
            "step": self.step,
            "encoder": self.encoder,
            "backbone": self.backbone,
            "stage": self.stage,
            "temporal_padding": self.temporal_padding,
            "head": self.head,
            "excluded_keys": list(self.excluded_keys),
            "model_options": dict(self.model_options),
            "input": {
                "layout": "(B, 3, T, H, W), values in [0, 1], then normalised",
                "num_frames": self.num_frames,
                "size": self.size,
                "mean": list(KINETICS_MEAN),
                "std": list(KINETICS_STD),
            },
        }


def backbone_metadata_path(output: str | os.PathLike[str]) -> Path:
    """The JSON file :func:`export_backbone` writes next to ``output``: ``<output>.json``.

    Example:
        >>> backbone_metadata_path("exports/backbone.pt").as_posix()
        'exports/backbone.pt.json'
    """
    target = Path(output)
    return target.with_name(target.name + ".json")


def export_backbone(
    checkpoint: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    key_encoder: bool = False,
    overwrite: bool = False,
) -> ExportedBackbone:
    """Write the backbone of a pretraining checkpoint alone, as a plain state dict.

    The checkpoint holds both encoders (backbone, projection heads, decomposition), the
    queues and the optimiser's state; the export holds only the backbone's weights and
    batch-norm statistics, under the parameter names of the plain model:

    - ``r3d_18``, ``mc3_18``, ``r2plus1d_18``, ``s3d``: the torchvision model built with
      ``weights=None``, whose classifier (``fc``; ``classifier`` for ``s3d``, see
      ``TORCHVISION_HEADS``) is **not** in the export: set it to ``torch.nn.Identity()``
      and the export loads with ``strict=True``;
    - ``small3d``: :class:`~bgdebias.models.Small3DCNN` built with
      :attr:`ExportedBackbone.model_options`.

    Before anything is read, ``output`` and ``<output>.json`` are checked (writable, not
    the checkpoint, not there unless ``overwrite``). The export is verified by loading it
    with ``strict=True`` into the plain model. Both files are written atomically
    (temporary file in the same folder, then renamed): a crash leaves the old file or the
    new one, never a torn one.

    Args:
        checkpoint: A checkpoint written by :func:`~bgdebias.training.pretrain` (read with
            :func:`~bgdebias.training.load_checkpoint`, ``weights_only=True``).
        output: The state dict to write (e.g. ``backbone.pt``); the facts needed to use
            it (backbone, temporal padding, step, ...) go to ``<output>.json``.
        key_encoder: Export the momentum key encoder's backbone instead of the query
            encoder's.
        overwrite: Replace ``output`` and ``<output>.json`` if they exist.

    Returns:
        What was written.

    Raises:
        CheckpointError: The checkpoint is missing or damaged, holds no configuration or
            no backbone weights, or its weights do not fit the plain model.
        ValueError: ``output`` is a folder, cannot be written, is the checkpoint, or
            exists without ``overwrite``.
        TypeError: ``key_encoder`` or ``overwrite`` is not a bool.

    Example:
        >>> import tempfile
        >>> import torch
        >>> from bgdebias.models import Small3DCNN
        >>> from bgdebias.training import PretrainConfig, build_recipe, save_checkpoint
        >>> config = PretrainConfig(method="moco", hidden_dim=16, embed_dim=8).resolved()
        >>> recipe = build_recipe(config)  # a small3d recipe, as pretrain() trains it
        >>> state = {"step": 3, "config": config.to_dict(), "model": recipe.state_dict()}
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = save_checkpoint(state, folder, 3)
        ...     exported = export_backbone(path, f"{folder}/backbone.pt")
        ...     weights = torch.load(exported.path, weights_only=True)
        ...     metadata_written = exported.metadata_path.is_file()
        >>> model = Small3DCNN(**exported.model_options)
        >>> model.load_state_dict(weights)  # strict=True
        <All keys matched successfully>
        >>> exported.backbone, exported.step, exported.temporal_padding, metadata_written
        ('small3d', 3, 'replicate', True)
    """
    for value, option in ((key_encoder, "key_encoder"), (overwrite, "overwrite")):
        if not isinstance(value, bool):
            raise TypeError(f"`{option}` must be True or False, got {value!r}")
    source = Path(checkpoint)
    target = Path(output)
    metadata_path = backbone_metadata_path(target)
    _check_outputs(source, target, metadata_path, overwrite=overwrite)

    state = load_checkpoint(source)
    config = checkpoint_config(state, source)
    encoder: Literal["query", "key"] = "key" if key_encoder else "query"
    prefix = f"{encoder}_encoder.backbone."
    weights = {
        key[len(prefix) :]: value
        for key, value in model_state(state, source).items()
        if key.startswith(prefix)
    }
    if not weights:
        raise CheckpointError(f"{source} holds no {encoder} encoder backbone (no '{prefix}*' keys)")
    name = config.backbone or ""
    if name != "small3d" and name not in _TORCHVISION_BUILDERS:
        supported = ", ".join(["small3d", *_TORCHVISION_BUILDERS])
        raise CheckpointError(
            f"{source}: backbone {config.backbone!r} cannot be exported (supported: {supported})"
        )
    model: nn.Module
    options: dict[str, Any] = {}
    head: str | None = None
    excluded: tuple[str, ...] = ()
    if name == "small3d":
        options = _small3d_options(
            weights,
            stage=config.stage,
            padding=config.temporal_padding,
            differences=config.resolved().frame_differences,
        )
        model = Small3DCNN(**options)
        plain_weights = weights
    else:
        model = _TORCHVISION_BUILDERS[name](weights=None)
        head = TORCHVISION_HEADS[name]
        excluded = tuple(f"{head}.{key}" for key in model.get_submodule(head).state_dict())
        setattr(model, head, nn.Identity())
        plain_weights = _torchvision_names(name, weights)
    try:
        model.load_state_dict(plain_weights, strict=True)
    except RuntimeError as error:  # torch lists every key on lines of their own
        first_line = str(error).strip().splitlines()[0]
        raise CheckpointError(
            f"{source}: its {encoder} encoder's backbone does not fit a plain {name}: {first_line}"
        ) from error

    exported = ExportedBackbone(
        path=target,
        metadata_path=metadata_path,
        checkpoint=source,
        step=int(state["step"]),
        encoder=encoder,
        backbone=name,
        stage=config.stage,
        temporal_padding=config.temporal_padding,
        head=head,
        excluded_keys=excluded,
        model_options=options,
        num_frames=config.num_frames,
        size=config.size,
    )
    _write_atomically(target, lambda handle: torch.save(model.state_dict(), handle))
    text = json.dumps(exported.to_dict(), indent=2) + "\n"
    _write_atomically(metadata_path, lambda handle: handle.write(text.encode()))
    return exported


def _check_outputs(source: Path, target: Path, metadata_path: Path, *, overwrite: bool) -> None:
    if target.resolve() == source.resolve():
        raise ValueError(f"`output` {target} is the checkpoint itself; give another file name")
    for path in (target, metadata_path):
        check_writable_file(path, name="`output`", example="backbone.pt")
    existing = [str(path) for path in (target, metadata_path) if path.exists()]
    if existing and not overwrite:
        raise ValueError(
            f"`output` {' and '.join(existing)} already exist(s); pass overwrite=True "
            "to replace them"
        )


def _small3d_options(
    weights: Mapping[str, Tensor], *, stage: str | None, padding: str, differences: bool
) -> dict[str, Any]:
    """Options of the Small3DCNN the weights come from (its widths are read off them)."""
    # With frame differences, layer1 starts with them: its convolution is layer1.1 and
    # reads the frames and their differences.
    first = weights.get("layer1.1.weight" if differences else "layer1.0.weight")
    width, channels = (first.shape[0], first.shape[1]) if first is not None else (32, 3)
    return {
        "stage": stage,
        "base_width": int(width),
        "in_channels": int(channels) // 2 if differences else int(channels),
        "pool": "max",  # pretrain's small3d pools the maximum (Small3DCNN's default)
        "temporal_padding": padding,
        "frame_differences": differences,
    }


def _torchvision_names(name: str, weights: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """The ResNets already use torchvision's names; s3d's stages are slices of ``features``
    that keep their indices (``layer2.5.x`` is ``features.5.x``)."""
    if name != "s3d":
        return dict(weights)
    return {"features." + key.split(".", 1)[1]: value for key, value in weights.items()}


def _write_atomically(target: Path, write: Callable[[IO[bytes]], object]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        with open(temporary, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
