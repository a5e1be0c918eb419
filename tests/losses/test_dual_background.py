from __future__ import annotations

import re
from typing import Any

import pytest
import torch
from torch import nn

from bgdebias import (
    DualBackgroundLoss,
    MotionAwareDecomposition,
    SemiNegativePairMixer,
    info_nce,
)
from bgdebias.losses import DualBackgroundLossOutput
from scenes import moving_square_scene


def _embeddings(seed: int = 0, batch: int = 4, dim: int = 8) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    names = ["query", "key", "mixed_key", "background_key", "micro_query", "micro_key"]
    return {name: torch.randn(batch, dim, generator=generator) for name in names}


def test_total_is_the_weighted_sum_of_reference_terms() -> None:
    e = _embeddings()
    queue, micro_queue = torch.randn(2, 16, 8).unbind(0)
    loss = DualBackgroundLoss(temperature=0.2, w_static=0.5, w_wide=2.0, w_micro=0.25)
    out = loss(**e, queue=queue, micro_queue=micro_queue)
    static = info_nce(e["query"], e["key"], queue, temperature=0.2)
    wide = info_nce(
        e["query"], e["mixed_key"], queue, temperature=0.2, hard_negatives=e["background_key"]
    )
    micro = info_nce(e["micro_query"], e["micro_key"], micro_queue, temperature=0.2)
    torch.testing.assert_close(out.static, static)
    torch.testing.assert_close(out.wide, wide)
    torch.testing.assert_close(out.micro, micro)
    torch.testing.assert_close(out.total, 0.5 * static + 2.0 * wide + 0.25 * micro)


def test_plain_moco_configuration_needs_only_query_and_key() -> None:
    e = _embeddings()
    out = DualBackgroundLoss(w_wide=0.0, w_micro=0.0)(e["query"], e["key"])
    torch.testing.assert_close(out.total, info_nce(e["query"], e["key"]))
    assert out.wide.item() == 0.0
    assert out.micro.item() == 0.0


def test_background_valid_masks_motionless_clips() -> None:
    e = _embeddings()
    valid = torch.tensor([True, False, True, True])
    out = DualBackgroundLoss(w_static=0.0, w_micro=0.0)(**e, background_valid=valid)
    per_row_with = info_nce(
        e["query"], e["mixed_key"], hard_negatives=e["background_key"], reduction="none"
    )
    per_row_without = info_nce(e["query"], e["mixed_key"], reduction="none")
    expected = torch.where(valid, per_row_with, per_row_without).mean()
    torch.testing.assert_close(out.wide, expected)


def test_uninformative_embeddings_give_analytic_values() -> None:
    same = torch.ones(3, 4)
    queue = torch.ones(5, 4)
    out = DualBackgroundLoss()(
        same,
        same,
        mixed_key=same,
        background_key=same,
        micro_query=same,
        micro_key=same,
        queue=queue,
        micro_queue=queue,
    )
    import math

    assert out.static.item() == pytest.approx(math.log(6))
    assert out.wide.item() == pytest.approx(math.log(7))  # queue + one hard negative
    assert out.micro.item() == pytest.approx(math.log(6))


class _TinyEncoder(nn.Module):
    """Conv backbone + motion-aware decomposition + two heads, for gradient tests."""

    def __init__(self) -> None:
        super().__init__()
        self.backbone = nn.Conv3d(3, 8, kernel_size=3, padding=1, padding_mode="replicate")
        self.decomposition = MotionAwareDecomposition()
        self.head = nn.Linear(8, 6)
        self.micro_head = nn.Linear(8, 6)

    def forward(self, clip: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        parts = self.decomposition(self.backbone(clip))
        embedding: torch.Tensor = self.head(parts.pooled)
        micro: torch.Tensor = self.micro_head(parts.dynamic)
        return embedding, micro


def _run(encoder: _TinyEncoder, clips: torch.Tensor, loss: DualBackgroundLoss) -> torch.Tensor:
    mixed = SemiNegativePairMixer()(clips, generator=torch.Generator().manual_seed(0))
    query, micro_query = encoder(clips)
    key, _ = encoder(clips.flip(-1))
    mixed_key, micro_key = encoder(mixed.mixed)
    background_key, _ = encoder(mixed.background)
    out: DualBackgroundLossOutput = loss(
        query,
        key,
        mixed_key=mixed_key,
        background_key=background_key,
        micro_query=micro_query,
        micro_key=micro_key,
        background_valid=mixed.has_motion,
    )
    return out.total


@pytest.mark.parametrize(
    "weights", [(1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)], ids=["static", "wide", "micro"]
)
def test_gradients_reach_the_backbone_through_every_term(
    weights: tuple[float, float, float],
) -> None:
    torch.manual_seed(0)
    encoder = _TinyEncoder()
    clips = torch.rand(4, 3, 4, 12, 12)
    w_static, w_wide, w_micro = weights
    loss = DualBackgroundLoss(w_static=w_static, w_wide=w_wide, w_micro=w_micro)
    _run(encoder, clips, loss).backward()  # type: ignore[no-untyped-call]
    grad = encoder.backbone.weight.grad
    assert grad is not None
    assert grad.abs().sum() > 0
    assert torch.isfinite(grad).all()


def test_learnability_a_few_steps_lower_the_loss() -> None:
    torch.manual_seed(0)
    encoder = _TinyEncoder()
    clips = moving_square_scene(batch=6, size=16, side=4, speed=2, frames=4).clip
    loss = DualBackgroundLoss()
    optimiser = torch.optim.Adam(encoder.parameters(), lr=1e-2)
    values = []
    for _ in range(20):
        total = _run(encoder, clips, loss)
        optimiser.zero_grad()
        total.backward()  # type: ignore[no-untyped-call]
        optimiser.step()
        values.append(total.item())
    assert values[-1] < 0.75 * values[0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"temperature": 0.0}, "`temperature` must be a finite number > 0, got 0.0"),
        ({"w_wide": -1.0}, "`w_wide` must be a finite number >= 0, got -1.0"),
        ({"w_static": 0, "w_wide": 0, "w_micro": 0}, "at least one of `w_static`"),
    ],
)
def test_bad_options(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        DualBackgroundLoss(**kwargs)


def test_missing_and_mismatched_inputs() -> None:
    e = _embeddings()
    with pytest.raises(ValueError, match=re.escape("`mixed_key` is required when `w_wide` > 0")):
        DualBackgroundLoss()(e["query"], e["key"])
    with pytest.raises(ValueError, match=re.escape("`micro_query` is required when `w_micro`")):
        DualBackgroundLoss(w_wide=0.0)(e["query"], e["key"])
    with pytest.raises(ValueError, match=re.escape("`negatives` has dimension D=3")):
        DualBackgroundLoss(w_wide=0.0, w_micro=0.0)(e["query"], e["key"], queue=torch.ones(4, 3))
    with pytest.raises(ValueError, match=re.escape("must have the same shape (B, D)")):
        DualBackgroundLoss(w_wide=0.0, w_micro=0.0)(e["query"], e["key"][:2])


def test_wide_and_micro_terms_average_over_their_valid_rows() -> None:
    q, k, m, b, mq, mk, mb = torch.randn(7, 5, 8, generator=torch.Generator().manual_seed(3))
    valid = torch.tensor([True, False, True, True, False])
    out = DualBackgroundLoss()(
        q,
        k,
        mixed_key=m,
        background_key=b,
        micro_query=mq,
        micro_key=mk,
        micro_background_key=mb,
        wide_valid=valid,
        micro_valid=valid,
    )
    wide_rows = info_nce(q, m, hard_negatives=b, reduction="none")
    micro_rows = info_nce(mq, mk, hard_negatives=mb, reduction="none")
    torch.testing.assert_close(out.wide, wide_rows[valid].mean())
    torch.testing.assert_close(out.micro, micro_rows[valid].mean())
    torch.testing.assert_close(out.static, info_nce(q, k))  # no hard negative by default


def test_no_valid_row_gives_a_zero_term_that_still_backpropagates() -> None:
    q = torch.randn(4, 8, requires_grad=True)
    k, m = torch.randn(2, 4, 8).unbind(0)
    none = torch.zeros(4, dtype=torch.bool)
    out = DualBackgroundLoss(w_micro=0.0)(q, k, mixed_key=m, wide_valid=none)
    assert out.wide.item() == 0.0
    out.total.backward()
    assert q.grad is not None
    assert torch.isfinite(q.grad).all()


def test_hard_negatives_in_the_static_term() -> None:
    q, k, m = torch.randn(3, 4, 8, generator=torch.Generator().manual_seed(4)).unbind(0)
    negatives = torch.randn(4, 2, 8, generator=torch.Generator().manual_seed(5))
    valid = torch.tensor([[True, False], [True, True], [False, False], [True, True]])
    loss = DualBackgroundLoss(w_micro=0.0, hard_negatives_in_static=True)
    out = loss(q, k, mixed_key=m, background_key=negatives, background_valid=valid)
    expected = info_nce(q, k, hard_negatives=negatives, hard_negative_valid=valid)
    torch.testing.assert_close(out.static, expected)
    plain = DualBackgroundLoss(w_micro=0.0)(
        q, k, mixed_key=m, background_key=negatives, background_valid=valid
    )
    torch.testing.assert_close(plain.static, info_nce(q, k))
    torch.testing.assert_close(plain.wide, out.wide)


# --- non-finite input ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["query", "mixed_key", "micro_key", "queue"])
def test_non_finite_input_is_rejected_by_name(name: str) -> None:
    e = _embeddings()
    e["queue"] = torch.randn(16, 8)
    e[name][1, 2] = float("nan")
    message = f"`{name}` contains 1 non-finite values (NaN or Inf)"
    with pytest.raises(ValueError, match=re.escape(message)):
        DualBackgroundLoss()(**e)


def test_non_finite_input_propagates_with_check_finite_off() -> None:
    e = _embeddings()
    e["query"][0, 0] = float("inf")
    e["query"][1, 0] = float("nan")
    out = DualBackgroundLoss(check_finite=False)(**e)
    assert torch.isnan(out.total)


# --- torch.compile and torch.export -------------------------------------------------------


def _loss_inputs() -> tuple[tuple[torch.Tensor, ...], dict[str, torch.Tensor]]:
    e = _embeddings(seed=5)
    query, key = e.pop("query"), e.pop("key")
    e["queue"] = torch.randn(16, 8, generator=torch.Generator().manual_seed(6))
    return (query, key), e


def test_compiles_with_fullgraph_and_matches_eager() -> None:
    args, kwargs = _loss_inputs()
    loss = DualBackgroundLoss()
    compiled = torch.compile(loss, backend="eager", fullgraph=True)
    out, expected = compiled(*args, **kwargs), loss(*args, **kwargs)
    for name in ("total", "static", "wide", "micro"):
        torch.testing.assert_close(getattr(out, name), getattr(expected, name))


def test_exports_and_matches_eager() -> None:
    args, kwargs = _loss_inputs()
    loss = DualBackgroundLoss()
    exported = torch.export.export(loss, args, kwargs)
    out, expected = exported.module()(*args, **kwargs), loss(*args, **kwargs)
    for name in ("total", "static", "wide", "micro"):
        torch.testing.assert_close(getattr(out, name), getattr(expected, name))
