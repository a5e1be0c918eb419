"""SemiNegativePairMixer: each clip's actor on another clip's background, and its own
motionless background as a hard negative."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor, nn

from bgdebias._random import draw_device
from bgdebias._validation import check_choice, check_unit
from bgdebias.blocks.decoupler import DecoupledClip, StaticDynamicDecoupler
from bgdebias.blocks.partners import PARTNER_MODES, PartnerMode, choose_partners

BackgroundSource = Literal["static", "clip"]


@dataclass(frozen=True)
class MixedBatch:
    """The semi-negative pair and the background hard negative of every clip.

    Attributes:
        mixed: ``mask * clip + (1 - mask) * background_of_partner``: the actor and its motion
            on a foreign background, the positive for what moves. Clips that were not mixed
            (see ``applied``) are returned unchanged. Shape: ``(B, C, T, H, W)``.
        background: The clip's own static scene repeated over time: shares the scene and
            nothing that moves, the hard negative. Shape: ``(B, C, T, H, W)`` (expanded view).
        mask: Foreground mask used for mixing. Shape: ``(B, 1, T, H, W)``.
        partner: Index of the clip whose background each clip received. Shape: ``(B,)``.
        applied: Whether each clip was mixed: drawn with ``mix_prob``, the clip moves, its
            mask holds some foreground, and its partner is another clip. Only these are
            positives for motion: pass ``applied`` as the loss's ``wide_valid``. A clip
            that moves but whose motion stays under the mask's threshold everywhere (e.g.
            sensor noise only) is not mixed: its "mixed" clip would be the partner's
            background alone, sharing nothing with the clip. Shape: ``(B,)``, bool.
        has_motion: Whether anything moves in each clip; without motion the background
            equals the clip, so it is no negative: pass ``has_motion`` as the loss's
            ``background_valid``. Shape: ``(B,)``, bool.

    Example:
        >>> import torch
        >>> from bgdebias import SemiNegativePairMixer
        >>> clips = torch.rand(3, 3, 4, 16, 16, generator=torch.Generator().manual_seed(0))
        >>> out = SemiNegativePairMixer(partner="roll")(clips)
        >>> out.partner.tolist(), out.applied.tolist(), out.background.shape
        ([1, 2, 0], [True, True, True], torch.Size([3, 3, 4, 16, 16]))
        >>> expected = out.mask * clips + (1 - out.mask) * out.background[out.partner]
        >>> bool(torch.allclose(out.mixed, expected))
        True
    """

    mixed: Tensor
    background: Tensor
    mask: Tensor
    partner: Tensor
    applied: Tensor
    has_motion: Tensor


# A pytree node, so that torch.export can return it (torch.compile needs nothing).
torch.export.register_dataclass(MixedBatch, serialized_type_name="bgdebias.blocks.MixedBatch")


class SemiNegativePairMixer(nn.Module):
    """Build semi-negative pairs (wide background bias) from a batch of clips.

    For clip ``i`` and partner ``j != i`` (a random derangement of the batch, reproducible
    from a ``torch.Generator``)::

        mixed_i      = M_i * x_i + (1 - M_i) * static_j     # static_j repeated over T
        background_i = static_i

    ``(x_i, mixed_i)`` share the foreground and differ in background: a positive for motion.
    ``(x_i, background_i)`` share the scene and nothing that moves: a hard negative, so the
    scene stops paying as a cue. FAME merges onto the partner's full clip
    (``background="clip"``) and has no hard negative; BE adds a static frame as a distractor.

    Normalisation: mixing is a per-pixel convex combination and the static factor is a
    per-pixel order statistic, so both commute with a per-channel affine normalisation
    ``(x - mean) / std``; the motion energy is min-max normalised, so the mask does not
    change either when ``std`` is the same for all channels (and barely for the Kinetics
    statistics). Mixing before or after normalisation therefore gives the same result;
    we apply it to raw [0, 1] clips in the examples, where masks are easiest to inspect.

    ``torch.compile(fullgraph=True)`` and ``torch.export`` trace every option without a
    ``generator`` (Dynamo cannot trace one: seed with ``torch.manual_seed``). Inside them
    the derangement is drawn in the graph (see
    :func:`~bgdebias.blocks.functional.random_derangement`):
    still uniform and without fixed points, but not the eager draw of the same seed.
    :class:`MixedBatch` is registered as a pytree, so an exported mixer returns it.

    Clips are checked by the decoupler: layout ``(B, C, T, H, W)`` with its ``channels``
    (3 by default; mix other clips with ``SemiNegativePairMixer(StaticDynamicDecoupler(
    channels=C))``), ``T >= 2`` and frames of at least ``MIN_FRAME_SIDE`` (4) pixels.

    Args:
        decoupler: Supplies masks and static factors; default ``StaticDynamicDecoupler()``.
            Soft masks, Otsu thresholds and per-frame masks are its options.
        background: Partner's ``"static"`` factor (default) or its full ``"clip"`` (FAME).
        mix_prob: Probability that a clip is mixed, in [0, 1]; unmixed clips pass through.
        partner: ``"derangement"`` (random, no clip is its own partner; default), ``"roll"``
            (clip ``i + 1``) or ``"permutation"`` (FAME's ``randperm``: fixed points allowed).

    Example:
        >>> import torch
        >>> from bgdebias import SemiNegativePairMixer
        >>> clips = torch.rand(4, 3, 8, 32, 32)
        >>> out = SemiNegativePairMixer()(clips, generator=torch.Generator().manual_seed(0))
        >>> out.mixed.shape, bool((out.partner != torch.arange(4)).all())
        (torch.Size([4, 3, 8, 32, 32]), True)
    """

    def __init__(
        self,
        decoupler: StaticDynamicDecoupler | None = None,
        *,
        background: BackgroundSource = "static",
        mix_prob: float = 1.0,
        partner: PartnerMode = "derangement",
    ) -> None:
        super().__init__()
        if decoupler is not None and not isinstance(decoupler, StaticDynamicDecoupler):
            raise TypeError(
                "`decoupler` must be a StaticDynamicDecoupler or None, "
                f"got {type(decoupler).__name__}"
            )
        self.decoupler = decoupler if decoupler is not None else StaticDynamicDecoupler()
        self.background: BackgroundSource = check_choice(
            background, "background", ("static", "clip")
        )
        self.mix_prob = check_unit(mix_prob, "mix_prob")
        self.partner: PartnerMode = check_choice(partner, "partner", PARTNER_MODES)

    def forward(
        self,
        clip: Tensor,
        *,
        decoupled: DecoupledClip | None = None,
        generator: torch.Generator | None = None,
    ) -> MixedBatch:
        """Mix every clip with a partner's background.

        Args:
            clip: Float video batch with at least two clips. Shape: ``(B, C, T, H, W)``,
                checked by the decoupler: ``C == decoupler.channels`` (3 by default),
                ``T >= 2``, ``H, W >= MIN_FRAME_SIDE`` (4).
            decoupled: The decoupler's output for ``clip``, if already computed.
            generator: Random source for partners, mixing coins and the decoupler.

        Returns:
            A :class:`MixedBatch`.
        """
        self.decoupler.check_input(clip, "clip", min_batch=2)
        if decoupled is None:
            decoupled = self.decoupler(clip, generator=generator)
        elif decoupled.mask.shape[0] != clip.shape[0]:
            raise ValueError(
                f"`decoupled` holds {decoupled.mask.shape[0]} clips but `clip` has "
                f"{clip.shape[0]}; pass the decoupler's output for this very batch"
            )
        batch = clip.shape[0]
        partner = choose_partners(batch, self.partner, generator=generator, device=clip.device)
        source = decoupled.static if self.background == "static" else clip
        merged = torch.lerp(source[partner], clip, decoupled.mask)
        foreign = partner != torch.arange(batch, device=clip.device)
        has_foreground = decoupled.mask.amax(dim=(1, 2, 3, 4)) > 0
        applied = (
            decoupled.has_motion
            & has_foreground
            & foreign
            & self._coins(batch, generator, clip.device)
        )
        mixed = torch.where(applied.view(-1, 1, 1, 1, 1), merged, clip)
        return MixedBatch(
            mixed=mixed,
            background=decoupled.static,
            mask=decoupled.mask,
            partner=partner,
            applied=applied,
            has_motion=decoupled.has_motion,
        )

    def _coins(self, batch: int, generator: torch.Generator | None, device: torch.device) -> Tensor:
        if self.mix_prob >= 1.0:
            return torch.ones(batch, dtype=torch.bool, device=device)
        coins = (
            torch.rand(batch, generator=generator, device=draw_device(generator)) < self.mix_prob
        )
        return coins.to(device)

    def extra_repr(self) -> str:
        return f"background={self.background!r}, mix_prob={self.mix_prob}, partner={self.partner!r}"
