"""Pictures of what the blocks do during pretraining: masks, mixed clips, salient maps."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor, nn
from torch.utils.data import Dataset

from bgdebias._inference import frozen_encoder
from bgdebias._validation import check_int, check_tensor
from bgdebias.blocks import MotionAwareDecomposition, SemiNegativePairMixer
from bgdebias.data.transforms import KINETICS_MEAN, KINETICS_STD, NormalizeClip
from bgdebias.training.callbacks import PretrainCallback, PretrainRun
from bgdebias.training.data import collate_videos
from bgdebias.training.encoder import DebiasEncoder
from bgdebias.viz import decoupler_panel, mixer_panel, saliency_panel

#: Receives each picture: ``sink(tag, image, step)``, ``image`` uint8 RGB ``(H, W, 3)``.
PictureSink = Callable[[str, npt.NDArray[np.uint8], int], None]

T = TypeVar("T")


def training_pictures(
    model: nn.Module, clips: Tensor, *, seed: int = 0
) -> dict[str, npt.NDArray[np.uint8]]:
    """Panels of what a recipe's blocks make of some clips, with its current weights.

    For each clip ``i``: ``decoupler/i`` (the clip, its foreground mask, static and dynamic
    factors) and ``mixer/i`` (the clip, its partner, the mixed clip, the background hard
    negative) when the recipe has a mixer; ``saliency/i`` (the salient map of the query
    encoder's features, and its per-step maps) always: an encoder without the micro branch
    gets a parameter-free :class:`~bgdebias.MotionAwareDecomposition`. The encoder runs in
    eval mode without gradients (its modes are restored after); the mixer draws from its own
    generator seeded with ``seed``, so the same clips give the same partners every time,
    and torch's global random state is left as it was.

    Args:
        model: A recipe (:class:`~bgdebias.training.DebiasedMoCo`,
            :class:`~bgdebias.training.FAMEMoCo`): its ``query_encoder`` and ``mixer`` are read.
        clips: At least two clips in [0, 1] (the mixer needs a partner), not normalised.
            Shape: ``(B, 3, T, H, W)``.
        seed: Seed of the mixer's random draws.

    Returns:
        The panels by name, uint8 RGB images. Shape: each ``(H_img, W_img, 3)``.

    Example:
        >>> import torch
        >>> from bgdebias.training import PretrainConfig, build_recipe, training_pictures
        >>> config = PretrainConfig(size=32, hidden_dim=16, embed_dim=8, queue_size=8)
        >>> recipe = build_recipe(config.resolved())
        >>> clips = torch.rand(2, 3, 8, 32, 32, generator=torch.Generator().manual_seed(0))
        >>> pictures = training_pictures(recipe, clips)
        >>> sorted(pictures)
        ['decoupler/0', 'decoupler/1', 'mixer/0', 'mixer/1', 'saliency/0', 'saliency/1']
        >>> pictures["mixer/0"].dtype, pictures["mixer/0"].shape[2], recipe.training
        (dtype('uint8'), 3, True)
    """
    check_tensor(clips, "clips")
    if clips.ndim != 5 or clips.shape[0] < 2 or clips.shape[1] != 3:
        raise ValueError(
            "`clips` must be (B, 3, T, H, W) with B >= 2 (the mixer needs a partner), got "
            f"shape {tuple(clips.shape)}"
        )
    encoder = getattr(model, "query_encoder", None)
    if not isinstance(encoder, DebiasEncoder):
        raise TypeError(
            f"`model` must be a recipe with a `query_encoder` (DebiasedMoCo, FAMEMoCo), got "
            f"{type(model).__name__}"
        )
    mixer = getattr(model, "mixer", None)
    device = next(encoder.parameters()).device
    clips = clips.to(device)
    pictures: dict[str, npt.NDArray[np.uint8]] = {}
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices), frozen_encoder(model):
        normalized = NormalizeClip().to(device)(clips)
        features = encoder.backbone(normalized).features
        decomposition = (encoder.decomposition or MotionAwareDecomposition())(features)
        if isinstance(mixer, SemiNegativePairMixer):
            generator = torch.Generator().manual_seed(seed)
            decoupled = mixer.decoupler(clips, generator=generator)
            mixed = _on_cpu(mixer(clips, decoupled=decoupled, generator=generator))
            decoupled = _on_cpu(decoupled)
            for i in range(clips.shape[0]):
                pictures[f"decoupler/{i}"] = decoupler_panel(clips, decoupled, index=i).image
                pictures[f"mixer/{i}"] = mixer_panel(clips, mixed, i).image
        decomposition = _on_cpu(decomposition)
        for i in range(clips.shape[0]):
            pictures[f"saliency/{i}"] = saliency_panel(
                normalized, decomposition, index=i, mean=KINETICS_MEAN, std=KINETICS_STD
            ).image
    return pictures


class PictureLogger(PretrainCallback):
    """Every ``every`` steps, send :func:`training_pictures` of a few training clips to a sink.

    The clips are the first ``num_clips`` videos of the run's dataset (their first
    ``num_frames`` frames, centre-cropped to ``size``), the same at every step, so the
    pictures show how masks and salient maps change as the encoder trains. With
    ``--log-images-every`` :func:`~bgdebias.training.pretrain` adds one that writes to
    TensorBoard (:func:`tensorboard_picture_sink`); for another logger, give a sink of your
    own.

    Args:
        sink: Called as ``sink(tag, image, step)`` for each picture; ``tag`` is
            ``"pictures/<panel>/<clip>"`` (panels: ``decoupler``, ``mixer``, ``saliency``),
            ``image`` uint8 RGB ``(H, W, 3)``.
        every: Steps between pictures, >= 1.
        num_clips: Clips shown, >= 2.
        seed: Seed of the mixer's draws (:func:`training_pictures`).

    Example:
        >>> import tempfile
        >>> from bgdebias.training import PictureLogger, PretrainConfig, pretrain
        >>> received = []
        >>> def sink(tag, image, step):  # e.g. wandb.log({tag: wandb.Image(image)}, step=step)
        ...     received.append((step, tag, image.shape[2]))
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     config = PretrainConfig(
        ...         steps=2, size=32, batch_size=4, synthetic_videos=8, queue_size=8,
        ...         hidden_dim=16, embed_dim=8, device="cpu", output_dir=folder,
        ...     )
        ...     _ = pretrain(config, progress=False, callbacks=[PictureLogger(sink, every=2)])
        >>> received[:2]
        [(2, 'pictures/decoupler/0', 3), (2, 'pictures/mixer/0', 3)]
    """

    def __init__(self, sink: PictureSink, *, every: int, num_clips: int = 2, seed: int = 0) -> None:
        if not callable(sink):
            raise TypeError(f"`sink` must be callable, got {type(sink).__name__}")
        self.sink = sink
        self.every = check_int(every, "every", minimum=1)
        self.num_clips = check_int(num_clips, "num_clips", minimum=2)
        self.seed = seed
        self._model: nn.Module | None = None
        self._clips: Tensor | None = None

    def on_train_start(self, run: PretrainRun) -> None:
        self._model = run.model
        frames = run.config.num_frames
        size = run.config.size
        # A real dataset draws its clip windows from the global generator: keep it as it was.
        with torch.random.fork_rng(devices=[]):
            self._clips = first_clips(run.dataset, self.num_clips, frames=frames, size=size)

    def on_step(self, step: int) -> None:
        if step % self.every != 0 or self._model is None or self._clips is None:
            return
        pictures = training_pictures(self._model, self._clips, seed=self.seed)
        for name, image in pictures.items():
            self.sink(f"pictures/{name}", image, step)


def tensorboard_picture_sink(writer: Any) -> PictureSink:
    """A :data:`PictureSink` writing to a TensorBoard ``SummaryWriter`` (``add_image``).

    Args:
        writer: A ``torch.utils.tensorboard.SummaryWriter`` (or anything with its
            ``add_image(tag, image, step, dataformats=...)``).

    Returns:
        The sink.

    Example:
        >>> import numpy as np
        >>> class Recorder:  # stands in for SummaryWriter(log_dir) here
        ...     def add_image(self, tag, image, step, dataformats):
        ...         print(tag, image.shape, step, dataformats)
        >>> sink = tensorboard_picture_sink(Recorder())
        >>> sink("pictures/mixer/0", np.zeros((4, 6, 3), np.uint8), 10)
        pictures/mixer/0 (4, 6, 3) 10 HWC
    """
    if not callable(getattr(writer, "add_image", None)):
        raise TypeError(
            f"`writer` must have an add_image method (a SummaryWriter), got {type(writer).__name__}"
        )

    def sink(tag: str, image: npt.NDArray[np.uint8], step: int) -> None:
        writer.add_image(tag, image, step, dataformats="HWC")

    return sink


def first_clips(dataset: Dataset[Any], count: int, *, frames: int, size: int) -> Tensor:
    """The first ``count`` videos of a pretraining dataset as clips in [0, 1].

    Each video's first ``frames`` frames, centre-cropped to ``size`` pixels.

    Returns:
        Shape: ``(count, C, frames, size, size)``, float.

    Example:
        >>> from bgdebias.data import MovingSpriteDataset
        >>> videos = MovingSpriteDataset(length=4, num_frames=12, size=40)
        >>> first_clips(videos, 2, frames=8, size=32).shape
        torch.Size([2, 3, 8, 32, 32])
    """
    length = len(dataset)  # type: ignore[arg-type]
    if length < count:
        raise ValueError(f"the dataset has {length} videos; the pictures need {count}")
    batch = collate_videos([dataset[index] for index in range(count)])
    height, width = batch.shape[-2:]
    if batch.shape[2] < frames or min(height, width) < size:
        raise ValueError(
            f"the dataset's videos, shape {tuple(batch.shape[1:])}, are smaller than the "
            f"clips of the run ({frames} frames of {size} x {size} pixels)"
        )
    top, left = (height - size) // 2, (width - size) // 2
    return batch[:, :, :frames, top : top + size, left : left + size].contiguous()


def _on_cpu(result: T) -> T:
    """A copy of a dataclass of tensors (a block's output) with every tensor on the CPU."""
    moved = {
        field.name: getattr(result, field.name).cpu()
        for field in dataclasses.fields(result)  # type: ignore[arg-type]
    }
    return dataclasses.replace(result, **moved)  # type: ignore[type-var]
