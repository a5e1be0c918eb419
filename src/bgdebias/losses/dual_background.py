"""DualBackgroundLoss: the joint contrastive objective over wide and micro background bias."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from bgdebias._validation import check_all_finite, check_non_negative, check_positive
from bgdebias.losses.info_nce_loss import info_nce


@dataclass(frozen=True)
class DualBackgroundLossOutput:
    """The total loss and each weighted-sum term, for logging.

    Attributes:
        total: ``w_static * static + w_wide * wide + w_micro * micro``; backpropagate this.
        static: Appearance term (query view vs. key view). Scalar.
        wide: Wide-bias term (query vs. mixed key, background hard negative). Scalar.
        micro: Micro-bias term on the saliency-pooled embeddings. Scalar.

    Terms whose weight is zero are not computed and reported as zero.

    Example:
        >>> import torch
        >>> from bgdebias import DualBackgroundLoss
        >>> q, k, m = torch.randn(3, 4, 16, generator=torch.Generator().manual_seed(0)).unbind(0)
        >>> out = DualBackgroundLoss(w_wide=0.5, w_micro=0.0)(q, k, mixed_key=m)
        >>> out.total.shape, out.micro.item()  # a scalar; the switched-off term is zero
        (torch.Size([]), 0.0)
        >>> bool(torch.isclose(out.total, out.static + 0.5 * out.wide))
        True
    """

    total: Tensor
    static: Tensor
    wide: Tensor
    micro: Tensor


# A pytree node, so that torch.export can return it (torch.compile needs nothing).
torch.export.register_dataclass(
    DualBackgroundLossOutput, serialized_type_name="bgdebias.losses.DualBackgroundLossOutput"
)


class DualBackgroundLoss(nn.Module):
    """Joint InfoNCE objective over appearance, wide and micro background bias.

    Three InfoNCE terms over L2-normalised embeddings with a shared temperature:

    * static (appearance): ``query`` vs. ``key`` of another view of the same video, negatives
      ``queue`` (plain MoCo), so useful appearance is kept;
    * wide: ``query`` vs. ``mixed_key`` (the clip's actor on a foreign background, from
      :class:`~bgdebias.blocks.SemiNegativePairMixer`), negatives ``queue`` plus
      ``background_key`` (the clip's own motionless scene), the semi-negative hard negative;
    * micro: the same contrast on the dynamic (saliency-pooled) embeddings from
      :class:`~bgdebias.blocks.MotionAwareDecomposition`: ``micro_query`` vs.
      ``micro_key``, negatives ``micro_queue`` plus ``micro_background_key`` when given.

    ``L = w_static * L_static + w_wide * L_wide + w_micro * L_micro``. Without a queue each
    term uses in-batch negatives. Setting a weight to 0 switches its term off (and its
    inputs become optional), so the same loss runs plain MoCo (``w_wide = w_micro = 0``)
    and every ablation. How the abstract's "dual loss" weighs its parts is not published:
    equal weights are our default.

    Args:
        temperature: Softmax temperature, > 0.
        w_static: Weight of the appearance term, >= 0.
        w_wide: Weight of the wide-bias term, >= 0.
        w_micro: Weight of the micro-bias term, >= 0.
        hard_negatives_in_static: Give the appearance term the background hard negatives
            too, so that even the plain two-view contrast cannot be won by the scene alone
            (our reading of "the same contrast"; off reproduces the earlier objective).
        check_finite: Raise ``ValueError`` if an embedding or queue holds NaN or Inf,
            naming it (one device synchronisation per call), as the blocks do; ``False``
            lets non-finite values propagate into the loss. Skipped inside
            ``torch.compile`` and ``torch.export`` (the loss compiles without graph breaks
            and exports; :class:`DualBackgroundLossOutput` is registered as a pytree).

    Shape:
        Embeddings ``(B, D)`` (micro ones may have their own ``D'``); hard negatives
        ``(B, D)`` or ``(B, M, D)``; queues ``(K, D)`` and ``(K', D')``;
        ``background_valid`` ``(B,)`` or ``(B, M)`` bool; ``wide_valid`` ``(B,)`` bool.

    Example:
        >>> import torch
        >>> from bgdebias import DualBackgroundLoss
        >>> q, k, m, b = torch.randn(4, 4, 16).unbind(0)
        >>> out = DualBackgroundLoss(w_micro=0.0)(q, k, mixed_key=m, background_key=b)
        >>> bool(torch.isclose(out.total, out.static + out.wide))
        True
    """

    def __init__(
        self,
        *,
        temperature: float = 0.1,
        w_static: float = 1.0,
        w_wide: float = 1.0,
        w_micro: float = 1.0,
        hard_negatives_in_static: bool = False,
        check_finite: bool = True,
    ) -> None:
        super().__init__()
        self.check_finite = bool(check_finite)
        self.hard_negatives_in_static = bool(hard_negatives_in_static)
        self.temperature = check_positive(temperature, "temperature")
        self.w_static = check_non_negative(w_static, "w_static")
        self.w_wide = check_non_negative(w_wide, "w_wide")
        self.w_micro = check_non_negative(w_micro, "w_micro")
        if self.w_static + self.w_wide + self.w_micro == 0.0:
            raise ValueError("at least one of `w_static`, `w_wide`, `w_micro` must be > 0")

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        *,
        mixed_key: Tensor | None = None,
        background_key: Tensor | None = None,
        micro_query: Tensor | None = None,
        micro_key: Tensor | None = None,
        micro_background_key: Tensor | None = None,
        queue: Tensor | None = None,
        micro_queue: Tensor | None = None,
        background_valid: Tensor | None = None,
        wide_valid: Tensor | None = None,
        micro_valid: Tensor | None = None,
    ) -> DualBackgroundLossOutput:
        """Compute the three terms and their weighted sum.

        Args:
            query: Query-encoder embedding of the clip. Shape: ``(B, D)``.
            key: Key-encoder embedding of another view of the same video. Shape: ``(B, D)``.
            mixed_key: Key embedding of the mixed clip; required if ``w_wide > 0``.
                Shape: ``(B, D)``.
            background_key: Key embedding of the clip's own background; optional (without
                it the wide term is FAME's merge-only positive). Shape: ``(B, D)``.
            micro_query: Dynamic embedding of the query clip; required if ``w_micro > 0``.
                Shape: ``(B, D')``.
            micro_key: Dynamic embedding of the positive key clip; required if
                ``w_micro > 0``. Shape: ``(B, D')``.
            micro_background_key: Dynamic embedding of the background clip (optional hard
                negative of the micro term). Shape: ``(B, D')``.
            queue: Negatives of the static and wide terms. Shape: ``(K, D)``.
            micro_queue: Negatives of the micro term. Shape: ``(K', D')``.
            background_valid: Which background negatives count (``MixedBatch.has_motion``:
                a motionless clip's background is the clip itself). Shape: ``(B,)`` or
                ``(B, M)``, bool.
            wide_valid: Which rows of the wide term count: ``MixedBatch.applied``, since a clip that
                was not mixed is no positive across backgrounds. The term is the mean over
                the valid rows (zero when none is valid). Shape: ``(B,)``, bool.
            micro_valid: The same for the micro term (pass ``wide_valid`` when its
                positive is the mixed clip). Shape: ``(B,)``, bool.

        Returns:
            A :class:`DualBackgroundLossOutput`.

        Raises:
            ValueError: If an input required by a non-zero weight is missing, shapes do not
                match, or (with ``check_finite``) an embedding or queue holds NaN or Inf.
        """
        if self.check_finite:
            check_all_finite(
                {
                    "query": query,
                    "key": key,
                    "mixed_key": mixed_key,
                    "background_key": background_key,
                    "micro_query": micro_query,
                    "micro_key": micro_key,
                    "micro_background_key": micro_background_key,
                    "queue": queue,
                    "micro_queue": micro_queue,
                }
            )
        zero = query.new_zeros((), dtype=torch.float32)
        static = wide = micro = zero
        if self.w_static > 0:
            in_static = self.hard_negatives_in_static
            static = self._contrast(
                query,
                key,
                queue,
                background_key if in_static else None,
                background_valid if in_static else None,
                rows=None,
            )
        if self.w_wide > 0:
            wide = self._contrast(
                query,
                _required(mixed_key, "mixed_key", "w_wide"),
                queue,
                background_key,
                background_valid,
                rows=wide_valid,
            )
        if self.w_micro > 0:
            micro = self._contrast(
                _required(micro_query, "micro_query", "w_micro"),
                _required(micro_key, "micro_key", "w_micro"),
                micro_queue,
                micro_background_key,
                background_valid,
                rows=micro_valid,
            )
        total = self.w_static * static + self.w_wide * wide + self.w_micro * micro
        return DualBackgroundLossOutput(total=total, static=static, wide=wide, micro=micro)

    def _contrast(
        self,
        query: Tensor,
        positive: Tensor,
        queue: Tensor | None,
        hard_negatives: Tensor | None,
        hard_negative_valid: Tensor | None,
        *,
        rows: Tensor | None,
    ) -> Tensor:
        """One InfoNCE term, averaged over the valid ``rows`` (all rows when ``None``)."""
        losses = info_nce(
            query,
            positive,
            queue,
            temperature=self.temperature,
            hard_negatives=hard_negatives,
            hard_negative_valid=hard_negative_valid if hard_negatives is not None else None,
            reduction="none",
            check_finite=False,  # checked once, by name, in forward
        )
        return _masked_mean(losses, rows)

    def extra_repr(self) -> str:
        return (
            f"temperature={self.temperature}, w_static={self.w_static}, "
            f"w_wide={self.w_wide}, w_micro={self.w_micro}"
        )


def _masked_mean(losses: Tensor, valid: Tensor | None) -> Tensor:
    """Mean of per-row losses over the valid rows; zero (with a gradient path) if none."""
    if valid is None:
        return losses.mean()
    weights = valid.to(losses.dtype)
    return (losses * weights).sum() / weights.sum().clamp_min(1.0)


def _required(value: Tensor | None, name: str, weight: str) -> Tensor:
    if value is None:
        raise ValueError(f"`{name}` is required when `{weight}` > 0 (pass it, or set {weight}=0)")
    return value
