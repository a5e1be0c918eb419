"""The pretraining recipe: MoCo with the debiasing blocks, every block switchable."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

import torch
from torch import Tensor, nn

from bgdebias._choices import MaskMode, ThresholdMode
from bgdebias._random import draw_device
from bgdebias._scalar_checks import check_bool
from bgdebias._validation import check_choice
from bgdebias.blocks import SemiNegativePairMixer, StaticDynamicDecoupler
from bgdebias.losses import DualBackgroundLoss, DualBackgroundLossOutput
from bgdebias.moco import MemoryQueue, momentum_copy, update_momentum
from bgdebias.models import (
    VideoBackbone,
    normalise_with,
    one_frame_unsafe_layers,
    record_batch_statistics,
    replicate_temporal_padding,
    video_backbone,
)
from bgdebias.training.config import ResolvedPretrainConfig
from bgdebias.training.distributed import shuffle_across_ranks, unshuffle_across_ranks
from bgdebias.training.encoder import DebiasEncoder, EncodedClips

HardNegative = Literal["background", "frozen", "reversed"]
HARD_NEGATIVES: tuple[str, ...] = ("background", "frozen", "reversed")
#: The hard negatives in which nothing moves (each repeats one frame).
STILL_HARD_NEGATIVES: tuple[str, ...] = ("background", "frozen")
MixView = Literal["query", "key"]
MicroNegativeSaliency = Literal["own", "positive"]
Photometric = Callable[[Tensor, "torch.Generator | None"], Tensor]

#: The recipe's hard negatives for each value of ``PretrainConfig.hard_negative``.
HARD_NEGATIVE_SETS: dict[str, tuple[HardNegative, ...]] = {
    "background": ("background",),
    "frozen": ("frozen",),
    "both": ("background", "frozen"),
    "reversed": ("reversed",),
    "all": ("background", "frozen", "reversed"),
}


class DebiasedMoCo(nn.Module):
    """Query encoder, momentum key encoder, queues, mixer and dual loss, assembled.

    One step, for two views ``(q, k)`` of each video:

    1. the mixer builds ``mixed`` (the actor of the ``mix_view`` view on a partner's
       background) and the hard negatives: ``background`` (the view's own scene, actor
       removed), ``frozen`` (one frame of the view repeated: scene and actor, no
       motion) and/or ``reversed`` (the view played backwards: scene, actor and motion
       reversed);
    2. ``f_k`` encodes ``[k, mixed, negatives...]`` as ONE batch, so batch norm sees the
       motionless negatives among ordinary clips (a separate all-static batch would be
       recognisable by its batch statistics alone, and the hard negative would be free);
       with ``one_frame_still_keys`` the motionless negatives are encoded from one frame
       each after that batch, normalised with its statistics, for the same reason;
    3. ``query = f_q(q)`` (after the keys, so the key batch and the query's saved
       activations are not in memory together);
    4. :class:`~bgdebias.losses.DualBackgroundLoss`: static term ``query`` vs. ``f_k(k)``,
       wide term ``query`` vs. ``f_k(mixed)`` with the hard negatives, micro term the same
       contrast on the dynamic embeddings (hard negatives included); negatives from the
       queues. Clips that were not mixed (nothing moves, ``mix_prob < 1``) are no wide or
       micro positives: their rows are left out of those terms;
    5. the keys of ``k`` enter the queues.

    With ``photometric`` given to :meth:`forward`, the views are raw geometric views:
    mixing happens on raw colours and every encoded clip gets its own colour augmentation.

    With ``mixer=None`` and ``w_wide = w_micro = 0`` this is plain MoCo (v2 with an MLP
    head); switching parts off one by one gives the ablations.

    Args:
        encoder: The query encoder; the key encoder is its momentum copy.
        mixer: The semi-negative pair mixer, or ``None`` (no wide term).
        loss: The dual loss; its weights must be zero for the parts switched off.
        queue_size: Number of negative keys per queue.
        hard_negatives: Hard negatives of the wide and micro terms, any of
            ``"background"``, ``"frozen"`` and ``"reversed"``; ``()`` for none (FAME-like
            merge only).
        micro_on_mixed: The micro term's positive is the mixed clip's dynamic embedding
            (joint wide and micro debiasing); otherwise the key view's (plain MoCo on the
            dynamic embeddings).
        mix_view: Which view's actor is mixed: ``"query"`` (default; the positive then
            shares the query's crop and time window) or ``"key"`` (harder; measured worse
            in 300 steps, see the bias benchmark page).
        one_frame_still_keys: Encode the motionless hard negatives (``"background"``,
            ``"frozen"``) from one frame each (:meth:`DebiasEncoder.encode_still`), after
            the other keys and normalised with their batch statistics
            (:func:`~bgdebias.models.normalise_with`), instead of as whole clips in the
            key batch: the same features for a backbone with replicate temporal padding
            (normalised with the statistics of ``[k, mixed]`` alone), at a fraction of the
            negatives' cost. ``False`` (default) encodes them as whole clips in the key
            batch, where they share its batch statistics.
        micro_negative_saliency: Where the micro term's motionless hard negatives
            (``"background"``, ``"frozen"``) are pooled: ``"own"`` (default), with their
            own salient map, which is empty (nothing moves), so every such negative is one
            shared vector, the micro head's image of a zero feature; or ``"positive"``,
            with the mixed clip's salient map (where the clip's actor moves), so each
            negative is the clip's own scene around its actor's path, the micro
            background bias itself.

    Example:
        >>> import torch
        >>> from bgdebias.blocks import SemiNegativePairMixer
        >>> from bgdebias.losses import DualBackgroundLoss
        >>> from bgdebias.models import Small3DCNN
        >>> from bgdebias.training import DebiasEncoder
        >>> _ = torch.manual_seed(0)  # the initial weights
        >>> backbone = Small3DCNN(base_width=2)
        >>> encoder = DebiasEncoder(backbone, projection_dim=8, hidden_dim=16, micro=True)
        >>> recipe = DebiasedMoCo(
        ...     encoder, mixer=SemiNegativePairMixer(), hard_negatives=("background",),
        ...     loss=DualBackgroundLoss(), queue_size=16,
        ... )
        >>> query, key = torch.rand(2, 4, 3, 8, 32, 32, generator=torch.Generator().manual_seed(0))
        >>> queued = recipe.queue.negatives
        >>> out = recipe(query, key, generator=torch.Generator().manual_seed(0))
        >>> out.total.shape, bool(out.wide > 0), bool(out.micro > 0)  # all three terms
        (torch.Size([]), True, True)
        >>> out.total.backward()  # gradients reach the query encoder only
        >>> recipe.update_key_encoder(0.99)  # then the key encoder follows by EMA
        >>> changed = (recipe.queue.negatives != queued).any(dim=1)
        >>> recipe.queue.negatives.shape, int(changed.sum())  # this step's 4 keys are queued
        (torch.Size([16, 8]), 4)
    """

    def __init__(
        self,
        encoder: DebiasEncoder,
        *,
        mixer: SemiNegativePairMixer | None,
        loss: DualBackgroundLoss,
        queue_size: int,
        hard_negatives: Sequence[HardNegative] = ("background",),
        micro_on_mixed: bool = True,
        mix_view: MixView = "query",
        one_frame_still_keys: bool = False,
        micro_negative_saliency: MicroNegativeSaliency = "own",
    ) -> None:
        super().__init__()
        if loss.w_wide > 0 and mixer is None:
            raise ValueError("`loss.w_wide` > 0 needs a `mixer` (or set w_wide=0)")
        if loss.w_micro > 0 and encoder.micro_head is None:
            raise ValueError("`loss.w_micro` > 0 needs an encoder built with micro=True")
        unknown = sorted(set(hard_negatives) - set(HARD_NEGATIVES))
        if isinstance(hard_negatives, str) or unknown:
            raise ValueError(
                f"`hard_negatives` must be a sequence of {HARD_NEGATIVES}, got {hard_negatives!r}"
            )
        self.one_frame_still_keys = check_bool(one_frame_still_keys, "one_frame_still_keys")
        unsafe = one_frame_unsafe_layers(encoder.backbone) if self.one_frame_still_keys else []
        if unsafe:
            raise ValueError(
                f"`one_frame_still_keys=True` needs a backbone with replicate temporal padding, "
                f"but layers {unsafe[:3]} of {encoder.backbone.name!r} mix frames without it "
                "(use temporal_padding='replicate' or one_frame_still_keys=False)"
            )
        self.query_encoder = encoder
        self.key_encoder = momentum_copy(encoder)
        self.mixer = mixer
        self.hard_negatives: tuple[HardNegative, ...] = (
            tuple(dict.fromkeys(hard_negatives)) if mixer is not None else ()
        )
        self.micro_on_mixed = bool(micro_on_mixed) and mixer is not None
        self.mix_view: MixView = check_choice(mix_view, "mix_view", ("query", "key"))
        self.micro_negative_saliency: MicroNegativeSaliency = check_choice(
            micro_negative_saliency, "micro_negative_saliency", ("own", "positive")
        )
        self.loss = loss
        embed_dim = encoder.head.out_dim
        self.queue = MemoryQueue(embed_dim, queue_size)
        self.micro_queue = MemoryQueue(embed_dim, queue_size) if encoder.micro_head else None
        # An alias of `query_encoder` (or of its DDP wrapper), not a second submodule: as a
        # submodule it would list every query-encoder weight twice in `state_dict()`.
        self._query_forward: nn.Module
        object.__setattr__(self, "_query_forward", encoder)

    def wrap_query_encoder(self, wrapper: nn.Module) -> None:
        """Route query forwards through ``wrapper`` (e.g. DistributedDataParallel)."""
        object.__setattr__(self, "_query_forward", wrapper)

    def forward(
        self,
        query_view: Tensor,
        key_view: Tensor,
        *,
        generator: torch.Generator | None = None,
        shuffle_generator: torch.Generator | None = None,
        photometric: Photometric | None = None,
    ) -> DualBackgroundLossOutput:
        """Loss of one step; also pushes this step's keys into the queues.

        Args:
            query_view: First view of each video. Shape: ``(B, C, T, H, W)``.
            key_view: Second view of each video. Shape: ``(B, C, T, H, W)``.
            generator: Random source of the mixer and of the frozen frames.
            shuffle_generator: With a distributed run, shuffle the key encoder's batch
                across ranks (MoCo's shuffle-BN); must be seeded alike on every rank.
            photometric: Colour augmentation applied to every clip before it is encoded
                (``photometric(clips, generator)``, own draw per clip); with it the views
                are raw geometric views and mixing happens on raw colours. ``None``: the
                views are encoded as given.
        """
        batch = query_view.shape[0]

        def finish(clips: Tensor) -> Tensor:
            return clips if photometric is None else photometric(clips, generator)

        key_inputs = [finish(key_view)]
        still_frames: list[Tensor] = []
        # Where each hard negative's keys will be: the key batch's chunk, or a still frame.
        negative_chunks: list[tuple[bool, int]] = []
        applied = has_motion = None
        if self.mixer is not None:
            source = key_view if self.mix_view == "key" else query_view
            mixed = self.mixer(source, generator=generator)
            applied, has_motion = mixed.applied, mixed.has_motion
            key_inputs.append(finish(mixed.mixed))
            for kind in self.hard_negatives:
                if self.one_frame_still_keys and kind in STILL_HARD_NEGATIVES:
                    negative_chunks.append((True, len(still_frames)))
                    frame = _still_frame(kind, source, mixed.background, generator)
                    still_frames.append(finish(frame))
                else:
                    negative_chunks.append((False, len(key_inputs)))
                    clip = _hard_negative(kind, source, mixed.background, generator)
                    key_inputs.append(finish(clip))
        borrow = self._pools_still_negatives_on_positive()
        # Keys first: the key batch then never sits in memory beside the query encoder's
        # saved activations (measured: peak step memory of the full method over plain MoCo
        # 1.60x -> 1.13x with r3d_18).
        with torch.no_grad():
            clip_keys, still_keys = self._encode_keys(
                torch.cat(key_inputs),
                shuffle_generator,
                still=torch.cat(still_frames) if still_frames else None,
                keep_maps=borrow,
            )
            key_embedding, key_micro = _joined(clip_keys, still_keys)
        query = self._query_forward(finish(query_view))
        embeddings = torch.split(key_embedding, batch)
        micro = list(torch.split(key_micro, batch)) if key_micro is not None else None
        order = [len(key_inputs) + i if still else i for still, i in negative_chunks]
        if borrow and micro is not None:
            with torch.no_grad():
                self._pool_still_negatives_on_positive(
                    micro, clip_keys, still_keys, negative_chunks, batch
                )
        negatives = _stack_negatives([embeddings[i] for i in order])
        micro_negatives = None if micro is None else _stack_negatives([micro[i] for i in order])
        negative_valid = None
        if negatives is not None and has_motion is not None:
            negative_valid = has_motion.view(-1, 1).expand(-1, len(self.hard_negatives))
        out: DualBackgroundLossOutput = self.loss(
            query.embedding,
            embeddings[0],
            mixed_key=embeddings[1] if self.mixer is not None else None,
            background_key=negatives,
            micro_query=query.micro_embedding,
            micro_key=None if micro is None else micro[1 if self.micro_on_mixed else 0],
            micro_background_key=micro_negatives,
            queue=self.queue.negatives,
            micro_queue=None if self.micro_queue is None else self.micro_queue.negatives,
            background_valid=negative_valid,
            wide_valid=applied,
            micro_valid=applied if self.micro_on_mixed else None,
        )
        self.queue.enqueue(embeddings[0])
        if self.micro_queue is not None and micro is not None:
            self.micro_queue.enqueue(micro[0])
        return out

    def _pools_still_negatives_on_positive(self) -> bool:
        """Whether the micro term's still negatives borrow the mixed clip's salient map."""
        return (
            self.micro_negative_saliency == "positive"
            and self.key_encoder.micro_head is not None
            and any(kind in STILL_HARD_NEGATIVES for kind in self.hard_negatives)
        )

    def _pool_still_negatives_on_positive(
        self,
        micro: list[Tensor],
        clip_keys: EncodedClips,
        still_keys: EncodedClips | None,
        negative_chunks: Sequence[tuple[bool, int]],
        batch: int,
    ) -> None:
        """Replace, in ``micro``, each still negative's dynamic key by its features pooled
        with the mixed clip's (chunk 1's) salient map."""
        all_features, all_saliency = _kept_maps(clip_keys)
        clip_features = torch.split(all_features, batch)
        positive_saliency = torch.split(all_saliency, batch)[1]
        first_still = len(clip_features)
        for kind, (still, i) in zip(self.hard_negatives, negative_chunks, strict=True):
            if kind not in STILL_HARD_NEGATIVES:
                continue
            if still:
                features = torch.split(_kept_maps(still_keys)[0], batch)[i]
                position = first_still + i
            else:
                features, position = clip_features[i], i
            micro[position] = self.key_encoder.micro_embedding_where(features, positive_saliency)

    def _encode_keys(
        self,
        inputs: Tensor,
        shuffle_generator: torch.Generator | None,
        *,
        still: Tensor | None = None,
        keep_maps: bool = False,
    ) -> tuple[EncodedClips, EncodedClips | None]:
        """Keys of ``inputs`` ``(N, C, T, H, W)``, and of the one-frame ``still`` clips."""
        if still is None:
            return self._encode_clips(inputs, shuffle_generator, keep_maps=keep_maps), None
        with record_batch_statistics(self.key_encoder) as statistics:
            clip_keys = self._encode_clips(inputs, shuffle_generator, keep_maps=keep_maps)
        with normalise_with(self.key_encoder, statistics):
            still_keys = self.key_encoder.encode_still(still, keep_maps=keep_maps)
        return clip_keys, still_keys

    def _encode_clips(
        self,
        inputs: Tensor,
        shuffle_generator: torch.Generator | None,
        *,
        keep_maps: bool = False,
    ) -> EncodedClips:
        if shuffle_generator is None:
            return self.key_encoder(inputs, keep_maps=keep_maps)  # type: ignore[no-any-return]
        shard, permutation = shuffle_across_ranks(inputs, shuffle_generator)
        keys = self.key_encoder(shard, keep_maps=keep_maps)

        def unshuffle(value: Tensor | None) -> Tensor | None:
            return None if value is None else unshuffle_across_ranks(value, permutation)

        return EncodedClips(
            unshuffle_across_ranks(keys.embedding, permutation),
            unshuffle(keys.micro_embedding),
            unshuffle(keys.features),
            unshuffle(keys.saliency),
        )

    @torch.no_grad()
    def update_key_encoder(self, momentum: float) -> None:
        """EMA step of the key encoder towards the query encoder."""
        update_momentum(self.query_encoder, self.key_encoder, momentum)


def _kept_maps(keys: EncodedClips | None) -> tuple[Tensor, Tensor]:
    """The feature and salient maps that an encoding with ``keep_maps=True`` kept."""
    if keys is None or keys.features is None or keys.saliency is None:
        raise RuntimeError("the keys were encoded without keep_maps=True")  # a recipe bug
    return keys.features, keys.saliency


def _joined(
    clip_keys: EncodedClips, still_keys: EncodedClips | None
) -> tuple[Tensor, Tensor | None]:
    """The embeddings and dynamic embeddings of the clips, then of the still frames."""
    if still_keys is None:
        return clip_keys.embedding, clip_keys.micro_embedding
    embedding = torch.cat([clip_keys.embedding, still_keys.embedding])
    if clip_keys.micro_embedding is None or still_keys.micro_embedding is None:
        return embedding, None
    return embedding, torch.cat([clip_keys.micro_embedding, still_keys.micro_embedding])


def _hard_negative(
    kind: HardNegative, source: Tensor, background: Tensor, generator: torch.Generator | None
) -> Tensor:
    """The clip's hard negative of one kind. Shape: ``(B, C, T, H, W)``."""
    if kind == "background":
        return background.contiguous()
    if kind == "frozen":
        return freeze_random_frame(source, generator=generator)
    return source.flip(2)


def _still_frame(
    kind: HardNegative, source: Tensor, background: Tensor, generator: torch.Generator | None
) -> Tensor:
    """The one frame that a motionless hard negative repeats. Shape: ``(B, C, 1, H, W)``."""
    if kind == "background":
        return background[:, :, :1].contiguous()
    return random_frame(source, generator=generator)


def _stack_negatives(embeddings: Sequence[Tensor]) -> Tensor | None:
    """Per-clip hard negatives ``M x (B, D)`` -> ``(B, M, D)``; ``None`` for none."""
    return torch.stack(list(embeddings), dim=1) if embeddings else None


def freeze_random_frame(clip: Tensor, *, generator: torch.Generator | None = None) -> Tensor:
    """One random frame of each clip repeated over time: the scene and the actor, still.

    Shape:
        ``(B, C, T, H, W)`` -> ``(B, C, T, H, W)`` (a contiguous copy).

    Example:
        >>> import torch
        >>> clip = torch.arange(2 * 1 * 3 * 1 * 1, dtype=torch.float32).view(2, 1, 3, 1, 1)
        >>> frozen = freeze_random_frame(clip, generator=torch.Generator().manual_seed(0))
        >>> frozen.shape, bool((frozen == frozen[:, :, :1]).all())  # every frame the same
        (torch.Size([2, 1, 3, 1, 1]), True)
    """
    return random_frame(clip, generator=generator).expand_as(clip).contiguous()


def random_frame(clip: Tensor, *, generator: torch.Generator | None = None) -> Tensor:
    """One random frame of each clip (the frame :func:`freeze_random_frame` repeats).

    Shape:
        ``(B, C, T, H, W)`` -> ``(B, C, 1, H, W)``.

    Example:
        >>> import torch
        >>> clip = torch.arange(2 * 1 * 3 * 1 * 1, dtype=torch.float32).view(2, 1, 3, 1, 1)
        >>> random_frame(clip, generator=torch.Generator().manual_seed(0)).shape
        torch.Size([2, 1, 1, 1, 1])
    """
    batch, channels, _, height, width = clip.shape
    index = torch.randint(
        clip.shape[2], (batch,), generator=generator, device=draw_device(generator)
    )
    index = index.to(clip.device).view(batch, 1, 1, 1, 1)
    return clip.gather(2, index.expand(batch, channels, 1, height, width))


def build_mixer(
    *, mask_mode: MaskMode, threshold: ThresholdMode, beta: float, mix_prob: float
) -> SemiNegativePairMixer:
    """The recipe's mixer: a decoupler inside a :class:`SemiNegativePairMixer`.

    Args:
        mask_mode: ``"frame"`` (the recipe's default: one mask per frame) or ``"clip"``.
        threshold: How the decoupler thresholds its motion energy.
        beta: The decoupler's foreground fraction (``threshold="fraction"``).
        mix_prob: Probability that a clip with motion is mixed.

    Returns:
        The mixer (its decoupler skips the finite check: the loop checks the loss).

    Example:
        >>> from bgdebias.training import build_mixer
        >>> mixer = build_mixer(mask_mode="frame", threshold="noise", beta=0.5, mix_prob=1.0)
        >>> mixer.decoupler.mask_mode, mixer.mix_prob
        ('frame', 1.0)
    """
    decoupler = StaticDynamicDecoupler(
        beta=beta, threshold=threshold, mask_mode=mask_mode, check_finite=False
    )
    return SemiNegativePairMixer(decoupler, mix_prob=mix_prob)


def build_backbone(config: ResolvedPretrainConfig) -> VideoBackbone:
    """The backbone of a resolved configuration, with fresh weights.

    ``config.backbone`` at ``config.stage``, its time padded as ``config.temporal_padding``
    says (torchvision backbones converted by
    :func:`~bgdebias.models.replicate_temporal_padding`), ``small3d`` with
    ``config.frame_differences``: the backbone of pretraining, of the supervised
    reference and of the untrained one alike.

    Args:
        config: A resolved configuration (:meth:`PretrainConfig.resolved`).

    Returns:
        The backbone (initialised from the global random generator).

    Example:
        >>> from bgdebias.training import PretrainConfig, build_backbone
        >>> backbone = build_backbone(PretrainConfig().resolved())
        >>> backbone.name, backbone.stage, backbone.frame_differences
        ('small3d', 'layer3', True)
    """
    options: dict[str, Any] = {}
    if config.backbone == "small3d":
        options["temporal_padding"] = config.temporal_padding
        options["frame_differences"] = config.frame_differences
    backbone = video_backbone(config.backbone, stage=config.stage, **options)
    if config.temporal_padding == "replicate":
        replicate_temporal_padding(backbone)
    return backbone


def build_recipe(config: ResolvedPretrainConfig) -> DebiasedMoCo:
    """Assemble the model of a resolved configuration from the public blocks.

    Args:
        config: A resolved configuration (:meth:`PretrainConfig.resolved`).

    Returns:
        The recipe: query and key encoders, mixer (unless ``method="moco"``), loss, queues;
        a :class:`~bgdebias.training.FAMEMoCo` for ``method="fame"``.

    Example:
        >>> from bgdebias.training import PretrainConfig, build_recipe
        >>> recipe = build_recipe(PretrainConfig(method="moco").resolved())
        >>> recipe.mixer is None, recipe.query_encoder.backbone.name
        (True, 'small3d')
        >>> build_recipe(PretrainConfig().resolved()).mixer is not None  # method "full"
        True
    """
    # fame.py subclasses DebiasedMoCo, so it can only be imported once this module is.
    from bgdebias.training.fame import FAMEMoCo, fame_mixer

    parts = config.parts
    backbone = build_backbone(config)
    encoder = DebiasEncoder(
        backbone, projection_dim=config.embed_dim, hidden_dim=config.hidden_dim, micro=parts.micro
    )
    if config.method == "fame":
        return FAMEMoCo(
            encoder,
            mixer=fame_mixer(beta=config.beta),
            temperature=config.temperature,
            queue_size=config.queue_size,
        )
    loss = DualBackgroundLoss(
        temperature=config.temperature,
        w_static=config.w_static,
        w_wide=config.w_wide if parts.mixer else 0.0,
        w_micro=config.w_micro if parts.micro else 0.0,
        hard_negatives_in_static=config.static_hard_negatives,
        # The loop checks the loss itself (training/divergence.py) without a host sync per
        # step, and names the step and the last good checkpoint.
        check_finite=False,
    )
    mixer = None
    if parts.mixer:
        mixer = build_mixer(
            mask_mode=config.mask_mode,
            threshold=config.threshold,
            beta=config.beta,
            mix_prob=config.mix_prob,
        )
    kinds: tuple[HardNegative, ...] = ()
    if parts.hard_negative:
        kinds = HARD_NEGATIVE_SETS[config.hard_negative]
    return DebiasedMoCo(
        encoder,
        mixer=mixer,
        hard_negatives=kinds,
        micro_on_mixed=parts.micro_on_mixed,
        mix_view=config.mix_view,
        one_frame_still_keys=config.one_frame_still_keys,
        micro_negative_saliency=config.micro_negative_saliency,
        loss=loss,
        queue_size=config.queue_size,
    )
