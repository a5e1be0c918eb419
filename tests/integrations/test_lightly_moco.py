"""The lightly guide: NTXentLoss's memory bank read as (K, D), before the loss enqueues.

These tests also pin the facts of lightly's API that the guide states (bank stored (K, D),
``memory_bank.forward()`` returning (D, K), the loss call enqueueing, temperature 0.5).
"""

from __future__ import annotations

import pytest

pytest.importorskip("lightly")

import torch
import torch.nn.functional as F
from lightly.loss import NTXentLoss
from lightly_moco import TEMPERATURE, bank_negatives, check_key_rows, moco_and_wide_losses, train

from bgdebias import DualBackgroundLoss, SemiNegativePairMixer, info_nce

B, D, K = 2, 8, 6


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)  # lightly draws the initial bank from the global generator


def _embeddings(seed: int = 0) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    names = ("query", "key", "mixed_key", "background_key")
    values = dict(zip(names, torch.randn(4, B, D, generator=generator).unbind(0), strict=True))
    values["query"].requires_grad_(True)  # the bank is only updated when it does
    return values


def test_lightly_bank_layout() -> None:
    ntxent = NTXentLoss(memory_bank_size=(K, D))
    assert ntxent.temperature == 0.5  # SimCLR's default, not MoCo's
    stored = ntxent.memory_bank.bank
    assert stored.shape == (K, D)
    _, handed_out = ntxent.memory_bank(torch.zeros(B, D), update=False)
    assert handed_out.shape == (D, K)
    assert torch.equal(handed_out, stored.T)
    assert torch.equal(bank_negatives(ntxent), stored)
    assert bank_negatives(ntxent).data_ptr() != stored.data_ptr()  # a copy


def test_negatives_are_read_before_the_loss_call_enqueues() -> None:
    ntxent = NTXentLoss(temperature=TEMPERATURE, memory_bank_size=(K, D))
    values = _embeddings()
    before = bank_negatives(ntxent)
    view = ntxent.memory_bank.bank  # no copy: the loss call changes it in place
    ntxent(values["query"], values["key"])
    after = bank_negatives(ntxent)
    assert torch.allclose(after[:B], F.normalize(values["key"], dim=1))  # the keys went in
    assert torch.equal(after[B:], before[B:])
    assert not torch.equal(view, before)
    assert torch.equal(view, after)


def test_both_terms_equal_the_library_losses_over_the_bank_before_the_call() -> None:
    ntxent = NTXentLoss(temperature=TEMPERATURE, memory_bank_size=(K, D))
    wide_loss = DualBackgroundLoss(temperature=TEMPERATURE, w_static=0.0, w_micro=0.0)
    values = _embeddings()
    clips = torch.rand(B, 3, 4, 16, 16, generator=torch.Generator().manual_seed(0))
    mixed = SemiNegativePairMixer(partner="roll")(clips)
    before = bank_negatives(ntxent)
    keys = (values["key"], values["mixed_key"], values["background_key"])
    losses = moco_and_wide_losses(ntxent, wide_loss, values["query"], keys, mixed)
    assert torch.equal(losses.negatives, before)
    moco_by_hand = info_nce(values["query"], values["key"], before, temperature=TEMPERATURE)
    assert torch.allclose(losses.moco, moco_by_hand, atol=1e-5)
    wide_by_hand = DualBackgroundLoss(temperature=TEMPERATURE, w_micro=0.0)(
        values["query"],
        values["key"],
        mixed_key=values["mixed_key"],
        background_key=values["background_key"],
        queue=before,
        background_valid=mixed.has_motion,
        wide_valid=mixed.applied,
    ).wide
    assert torch.allclose(losses.wide, wide_by_hand, atol=1e-6)
    # Read after the call, the bank would hold this step's keys among the negatives.
    after = bank_negatives(ntxent)
    assert not torch.allclose(info_nce(values["query"], values["key"], after), moco_by_hand)


def test_lightly_default_temperature_gives_another_loss() -> None:
    assert DualBackgroundLoss().temperature == TEMPERATURE  # the guide passes 0.1 to lightly
    values = _embeddings()
    default = NTXentLoss(memory_bank_size=(K, D))  # temperature 0.5
    negatives = bank_negatives(default)
    at_half = default(values["query"], values["key"])
    assert torch.allclose(
        at_half, info_nce(values["query"], values["key"], negatives, temperature=0.5)
    )
    assert not torch.allclose(at_half, info_nce(values["query"], values["key"], negatives))


def test_transposed_bank_is_refused() -> None:
    values = _embeddings()
    ntxent = NTXentLoss(temperature=TEMPERATURE, memory_bank_size=(K, D))
    _, handed_out = ntxent.memory_bank(values["key"], update=False)  # (D, K)
    with pytest.raises(ValueError, match=r"`negatives` has dimension D=6 but the embeddings"):
        DualBackgroundLoss(w_wide=0.0, w_micro=0.0)(
            values["query"], values["key"], queue=handed_out
        )


def test_square_transposed_bank_is_caught_by_the_row_check() -> None:
    values = _embeddings()
    square = NTXentLoss(temperature=TEMPERATURE, memory_bank_size=(D, D))
    _, handed_out = square.memory_bank(values["key"], update=False)  # (D, D), transposed
    loss = DualBackgroundLoss(w_wide=0.0, w_micro=0.0)
    silent = loss(values["query"], values["key"], queue=handed_out).total  # no error ...
    right = loss(values["query"], values["key"], queue=bank_negatives(square)).total
    assert not torch.allclose(silent, right)  # ... but another loss
    with pytest.raises(ValueError, match=r"rows of `negatives` \(8, 8\) are not unit vectors"):
        check_key_rows(handed_out)
    assert check_key_rows(bank_negatives(square)) is not None


def test_bank_negatives_needs_a_memory_bank() -> None:
    with pytest.raises(
        ValueError, match=r"`ntxent` has no memory bank \(memory_bank_size=\(0,\)\)"
    ):
        bank_negatives(NTXentLoss())


def test_training_loop_runs() -> None:
    model, ntxent, history = train(steps=3, batch_size=B)
    assert len(history) == 3
    for losses in history:
        assert torch.isfinite(losses.moco)
        assert torch.isfinite(losses.wide)
        assert bool(losses.wide > 0)
    # Each step read the bank before its own keys went in: the next step sees them.
    assert not torch.equal(history[0].negatives, history[1].negatives)
    assert torch.equal(history[1].negatives[B:], history[0].negatives[B:])
    assert int(ntxent.memory_bank.bank_ptr) == 3 * B
    assert ntxent.temperature == TEMPERATURE
    differs = [
        not torch.equal(p, p_m)
        for p, p_m in zip(
            model.encoder.parameters(), model.encoder_momentum.parameters(), strict=True
        )
    ]
    assert any(differs)
