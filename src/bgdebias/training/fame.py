"""FAME (Ding et al., CVPR 2022) as a baseline recipe: merged query, symmetric MoCo loss."""

from __future__ import annotations

import torch
from torch import Tensor

from bgdebias.blocks import SemiNegativePairMixer, StaticDynamicDecoupler
from bgdebias.losses import DualBackgroundLoss, DualBackgroundLossOutput, info_nce
from bgdebias.training.encoder import DebiasEncoder
from bgdebias.training.recipe import DebiasedMoCo, Photometric


def fame_mixer(*, beta: float = 0.5) -> SemiNegativePairMixer:
    """FAME's foreground-background merge: its exact mask, pasted on a partner's clip.

    The mask is FAME's (``StaticDynamicDecoupler(threshold="fame")``: blurred frame
    differences, colour-histogram refinement, top ``int(beta * H * W)`` pixels, one mask
    per clip); the foreground is pasted on the partner's whole clip (not its static
    scene), and partners come from ``torch.randperm`` as in FAME's code, so a clip
    sometimes draws itself.

    Args:
        beta: Foreground fraction, in (0, 1); FAME's default is 0.5.

    Returns:
        The mixer.

    Example:
        >>> mixer = fame_mixer()
        >>> mixer.background, mixer.partner, mixer.decoupler.threshold
        ('clip', 'permutation', 'fame')
    """
    decoupler = StaticDynamicDecoupler(
        beta=beta, threshold="fame", mask_mode="clip", check_finite=False
    )
    return SemiNegativePairMixer(decoupler, background="clip", partner="permutation")


class FAMEMoCo(DebiasedMoCo):
    """FAME's training step on the library's encoders, queue and views.

    As FAME's official code does it, for two views ``(v0, v1)`` of each video:

    1. ``merged = FAME(v0)``: ``v0``'s foreground on a random partner's clip (before the
       colour augmentation, which each clip then gets on its own);
    2. loss ``(NCE(f_q(merged), f_k(v1)) + NCE(f_q(v1), f_k(merged))) / 2``, each term
       MoCo's InfoNCE against the queue; the keys of ``v1`` enter the queue between the
       two terms and those of ``merged`` after them (so, as in FAME's code, the second
       term's queue already holds ``f_k(v1)``, the other view of its own query);
    3. no hard negative, no micro term.

    Args:
        encoder: The query encoder (built without the micro branch).
        mixer: FAME's merge (:func:`fame_mixer`).
        temperature: InfoNCE temperature (FAME: 0.1).
        queue_size: Negative keys in the queue.

    Example:
        >>> import torch
        >>> from bgdebias.models import Small3DCNN
        >>> _ = torch.manual_seed(0)
        >>> backbone = Small3DCNN(base_width=2)
        >>> encoder = DebiasEncoder(backbone, projection_dim=8, hidden_dim=16, micro=False)
        >>> recipe = FAMEMoCo(encoder, mixer=fame_mixer(), temperature=0.1, queue_size=16)
        >>> views = torch.rand(2, 4, 3, 8, 32, 32, generator=torch.Generator().manual_seed(0))
        >>> out = recipe(*views, generator=torch.Generator().manual_seed(0))
        >>> out.total.shape, int(recipe.queue.pointer)  # both key batches were queued
        (torch.Size([]), 8)
    """

    def __init__(
        self,
        encoder: DebiasEncoder,
        *,
        mixer: SemiNegativePairMixer,
        temperature: float = 0.1,
        queue_size: int,
    ) -> None:
        loss = DualBackgroundLoss(
            temperature=temperature, w_wide=0.0, w_micro=0.0, check_finite=False
        )
        super().__init__(encoder, mixer=mixer, loss=loss, queue_size=queue_size, hard_negatives=())

    def forward(
        self,
        query_view: Tensor,
        key_view: Tensor,
        *,
        generator: torch.Generator | None = None,
        shuffle_generator: torch.Generator | None = None,
        photometric: Photometric | None = None,
    ) -> DualBackgroundLossOutput:
        """FAME's loss of one step; also pushes both key batches into the queue.

        Args:
            query_view: The view that gets merged (FAME's ``video[0]``). Shape:
                ``(B, C, T, H, W)``.
            key_view: The other view. Shape: ``(B, C, T, H, W)``.
            generator: Random source of the merge.
            shuffle_generator: Shuffle-BN across ranks, as in :class:`DebiasedMoCo`.
            photometric: Colour augmentation applied to each clip after merging.

        Returns:
            ``total`` the symmetric loss, ``wide`` its merged-query term, ``static`` its
            plain-query term, ``micro`` zero.
        """

        def finish(clips: Tensor) -> Tensor:
            return clips if photometric is None else photometric(clips, generator)

        if self.mixer is None:  # pragma: no cover - set in __init__
            raise RuntimeError("FAMEMoCo needs its mixer")
        merged = finish(self.mixer(query_view, generator=generator).mixed)
        other = finish(key_view)
        temperature = self.loss.temperature
        with torch.no_grad():
            key_other = self._encode_keys(other, shuffle_generator)[0].embedding
            key_merged = self._encode_keys(merged, shuffle_generator)[0].embedding
        merged_term = info_nce(
            self._query_forward(merged).embedding,
            key_other,
            self.queue.negatives,
            temperature=temperature,
            check_finite=False,
        )
        self.queue.enqueue(key_other)
        plain_term = info_nce(
            self._query_forward(other).embedding,
            key_merged,
            self.queue.negatives,
            temperature=temperature,
            check_finite=False,
        )
        self.queue.enqueue(key_merged)
        total = 0.5 * (merged_term + plain_term)
        return DualBackgroundLossOutput(
            total=total, static=plain_term, wide=merged_term, micro=total.new_zeros(())
        )
