"""InfoNCE over L2-normalised embeddings, with a negative queue, in-batch negatives and
per-sample hard negatives."""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from bgdebias._validation import (
    check_all_finite,
    check_choice,
    check_floating,
    check_ndim,
    check_positive,
    check_tensor,
)

Reduction = Literal["mean", "sum", "none"]


def info_nce(
    query: Tensor,
    positive_key: Tensor,
    negatives: Tensor | None = None,
    *,
    temperature: float = 0.1,
    hard_negatives: Tensor | None = None,
    hard_negative_valid: Tensor | None = None,
    reduction: Reduction = "mean",
    check_finite: bool = True,
) -> Tensor:
    """InfoNCE loss ``-log(exp(q.k+ / t) / sum(exp(q.k / t)))`` over normalised embeddings.

    Negatives for row ``i`` are the rows of ``negatives`` (a queue shared by the batch) or,
    when ``negatives`` is ``None``, the other rows' positive keys (in-batch negatives, as in
    SimCLR/MoCo v3), plus row ``i``'s own ``hard_negatives``. All embeddings are L2-normalised
    here, and logits are computed in float32 whatever the input dtype, also inside
    ``torch.autocast`` (which is disabled locally), so the loss is stable under autocast.

    Args:
        query: Query embeddings. Shape: ``(B, D)``.
        positive_key: One positive key per query. Shape: ``(B, D)``.
        negatives: Shared negatives (e.g. a MoCo queue). Shape: ``(K, D)``; ``None`` uses the
            batch's other positive keys.
        temperature: Softmax temperature, > 0.
        hard_negatives: Per-query extra negatives. Shape: ``(B, D)`` or ``(B, M, D)``.
        hard_negative_valid: Which hard negatives count; the others are masked out.
            Shape: ``(B,)`` or ``(B, M)``, bool.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (per-query losses, Shape ``(B,)``).
        check_finite: Raise ``ValueError`` if an embedding holds NaN or Inf (one device
            synchronisation per call), as the blocks do; ``False`` lets them propagate
            into the loss. Skipped inside ``torch.compile`` and ``torch.export``.

    Returns:
        The loss: a scalar, or ``(B,)`` with ``reduction="none"``.

    Raises:
        ValueError: On mismatched shapes, or non-finite embeddings with ``check_finite``.

    Example:
        >>> import torch
        >>> q = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
        >>> round(info_nce(q, q, temperature=1.0).item(), 4)  # log(1 + e^-1)
        0.3133
    """
    temperature = check_positive(temperature, "temperature")
    check_choice(reduction, "reduction", ("mean", "sum", "none"))
    query, positive_key = _check_pair(query, positive_key)
    if check_finite:
        check_all_finite(
            {
                "query": query,
                "positive_key": positive_key,
                "negatives": negatives,
                "hard_negatives": hard_negatives,
            }
        )
    # Autocast would run the matmuls below in bf16/fp16 despite the float32 inputs.
    with torch.autocast(device_type=query.device.type, enabled=False):
        q = F.normalize(query.float(), dim=1)
        k = F.normalize(positive_key.float(), dim=1)
        if negatives is None:
            logits = q @ k.T
            target = torch.arange(q.shape[0], device=q.device)
        else:
            queue = _check_negatives(negatives, q.shape[1])
            positive = (q * k).sum(dim=1, keepdim=True)
            logits = torch.cat([positive, q @ F.normalize(queue.float(), dim=1).T], dim=1)
            target = torch.zeros(q.shape[0], dtype=torch.long, device=q.device)
        if hard_negatives is not None:
            hard = _hard_negative_logits(q, hard_negatives, hard_negative_valid)
            logits = torch.cat([logits, hard], dim=1)
        elif hard_negative_valid is not None:
            raise ValueError("`hard_negative_valid` was given without `hard_negatives`")
        return F.cross_entropy(logits / temperature, target, reduction=reduction)


class InfoNCELoss(nn.Module):
    """Module form of :func:`info_nce` with a fixed temperature.

    Args:
        temperature: Softmax temperature, > 0 (FAME uses 0.1; MoCo v2's official code
            uses 0.2, BE 0.07).
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.
        check_finite: Raise ``ValueError`` on NaN/Inf embeddings (see :func:`info_nce`).

    Shape:
        query, positive_key: ``(B, D)``; negatives: ``(K, D)``; output: scalar or ``(B,)``.

    Example:
        >>> import torch
        >>> from bgdebias import InfoNCELoss
        >>> loss = InfoNCELoss(temperature=1.0, reduction="none")
        >>> q = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
        >>> queue = torch.tensor([[0.0, 1.0], [-1.0, 0.0]])
        >>> [round(v, 4) for v in loss(q, q, queue).tolist()]  # log(1 + e^-1 + e^-2), log(2 + e^-1)
        [0.4076, 0.862]
    """

    def __init__(
        self, *, temperature: float = 0.1, reduction: Reduction = "mean", check_finite: bool = True
    ) -> None:
        super().__init__()
        self.check_finite = bool(check_finite)
        self.temperature = check_positive(temperature, "temperature")
        self.reduction: Reduction = check_choice(reduction, "reduction", ("mean", "sum", "none"))

    def forward(
        self,
        query: Tensor,
        positive_key: Tensor,
        negatives: Tensor | None = None,
        *,
        hard_negatives: Tensor | None = None,
        hard_negative_valid: Tensor | None = None,
    ) -> Tensor:
        """See :func:`info_nce`."""
        return info_nce(
            query,
            positive_key,
            negatives,
            temperature=self.temperature,
            hard_negatives=hard_negatives,
            hard_negative_valid=hard_negative_valid,
            reduction=self.reduction,
            check_finite=self.check_finite,
        )

    def extra_repr(self) -> str:
        return f"temperature={self.temperature}, reduction={self.reduction!r}"


def _check_embeddings(value: Tensor, name: str) -> Tensor:
    check_tensor(value, name)
    check_ndim(value, name, 2, "(B, D)")
    check_floating(value, name)
    return value


def _check_pair(query: Tensor, positive_key: Tensor) -> tuple[Tensor, Tensor]:
    _check_embeddings(query, "query")
    _check_embeddings(positive_key, "positive_key")
    if query.shape != positive_key.shape:
        raise ValueError(
            f"`query` and `positive_key` must have the same shape (B, D), got "
            f"{tuple(query.shape)} and {tuple(positive_key.shape)}"
        )
    if query.shape[0] == 0:
        raise ValueError("`query` must hold at least one embedding, got B=0")
    return query, positive_key


def _check_negatives(negatives: Tensor, dim: int) -> Tensor:
    check_tensor(negatives, "negatives")
    check_ndim(negatives, "negatives", 2, "(K, D)")
    check_floating(negatives, "negatives")
    if negatives.shape[1] != dim:
        raise ValueError(
            f"`negatives` has dimension D={negatives.shape[1]} but the embeddings have "
            f"D={dim}; build the queue with the projection head's output dimension"
        )
    return negatives


def _hard_negative_logits(q: Tensor, hard_negatives: Tensor, valid: Tensor | None) -> Tensor:
    """Cosine similarity of each query with its own hard negatives. Shape: ``(B, M)``."""
    check_tensor(hard_negatives, "hard_negatives")
    check_floating(hard_negatives, "hard_negatives")
    hard = hard_negatives.unsqueeze(1) if hard_negatives.ndim == 2 else hard_negatives
    if hard.ndim != 3 or hard.shape[0] != q.shape[0] or hard.shape[2] != q.shape[1]:
        raise ValueError(
            f"`hard_negatives` must have shape (B, D) or (B, M, D) with B={q.shape[0]} and "
            f"D={q.shape[1]}, got {tuple(hard_negatives.shape)}"
        )
    logits = torch.einsum("bd,bmd->bm", q, F.normalize(hard.float(), dim=2))
    if valid is None:
        return logits
    check_tensor(valid, "hard_negative_valid")
    mask = valid.unsqueeze(1) if valid.ndim == 1 else valid
    if valid.dtype != torch.bool or mask.shape != logits.shape:
        raise ValueError(
            "`hard_negative_valid` must be a bool tensor of shape (B,) or (B, M) matching "
            f"`hard_negatives` {tuple(logits.shape)}, got {valid.dtype} {tuple(valid.shape)}"
        )
    return logits.masked_fill(~mask, float("-inf"))
