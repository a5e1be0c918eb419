"""The MoCo v2 guide: a (dim, K) queue as in the official code, transposed for the dual loss."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from integration_stand_ins import ClipEncoder, two_views
from moco_v2_queue import MoCo, MoCoWithBlocks, train

from bgdebias import DualBackgroundLoss, info_nce
from bgdebias.data.synthetic import MovingSpriteDataset

B, DIM, K = 2, 8, 6


def _clips() -> tuple[torch.Tensor, torch.Tensor]:
    clips = MovingSpriteDataset(length=B, num_frames=4, size=32).batch(range(B)).clip
    return two_views(clips, torch.Generator().manual_seed(0))


def _models() -> tuple[MoCo, MoCoWithBlocks]:
    torch.manual_seed(0)
    plain = MoCo(ClipEncoder(embed_dim=DIM), dim=DIM, queue_size=K, momentum=0.9)
    with_blocks = MoCoWithBlocks(ClipEncoder(embed_dim=DIM), dim=DIM, queue_size=K, momentum=0.9)
    with_blocks.load_state_dict(plain.state_dict())
    return plain, with_blocks


def test_static_term_is_the_original_moco_loss() -> None:
    plain, with_blocks = _models()
    # Eval mode: batch norm uses running statistics, so a key does not depend on the other
    # clips of its key batch (MoCoWithBlocks adds the mixed clips and the backgrounds).
    plain.eval()
    with_blocks.eval()
    im_q, im_k = _clips()
    logits, labels = plain(im_q, im_k)
    out = with_blocks(im_q, im_k, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(out.static, F.cross_entropy(logits, labels), atol=1e-5)
    assert torch.allclose(plain.queue, with_blocks.queue, atol=1e-5)  # the same keys enqueued
    assert bool(out.wide > 0)
    assert out.micro.item() == 0.0


def test_dual_loss_takes_the_queue_transposed() -> None:
    generator = torch.Generator().manual_seed(1)
    q, k = torch.randn(2, B, DIM, generator=generator).unbind(0)
    queue = F.normalize(torch.randn(DIM, K, generator=generator), dim=0)  # (dim, K)
    q_n, k_n = F.normalize(q, dim=1), F.normalize(k, dim=1)
    logits = torch.cat([(q_n * k_n).sum(1, keepdim=True), q_n @ queue], dim=1) / 0.2
    by_hand = F.cross_entropy(logits, torch.zeros(B, dtype=torch.long))
    loss = DualBackgroundLoss(temperature=0.2, w_wide=0.0, w_micro=0.0)
    assert torch.allclose(loss(q, k, queue=queue.T).total, by_hand, atol=1e-6)
    assert torch.allclose(info_nce(q, k, queue.T, temperature=0.2), by_hand, atol=1e-6)
    with pytest.raises(ValueError, match=r"`negatives` has dimension D=6 but the embeddings have"):
        loss(q, k, queue=queue)  # (dim, K) as it is stored


def test_square_queue_in_the_stored_layout_is_not_caught_by_shape() -> None:
    # Why the guide transposes explicitly: with dim == K nothing raises, the loss is wrong.
    generator = torch.Generator().manual_seed(2)
    q, k = torch.randn(2, B, DIM, generator=generator).unbind(0)
    queue = F.normalize(torch.randn(DIM, DIM, generator=generator), dim=0)
    right = info_nce(q, k, queue.T)
    wrong = info_nce(q, k, queue)
    assert torch.isfinite(wrong)
    assert not torch.allclose(right, wrong)


def test_forward_updates_the_key_encoder_and_the_queue_columns() -> None:
    _, model = _models()
    model.eval()
    before = {name: p.clone() for name, p in model.encoder_k.named_parameters()}
    old_queue = model.queue.clone()
    im_q, im_k = _clips()
    model(im_q, im_k, generator=torch.Generator().manual_seed(0))
    for name, param_q in model.encoder_q.named_parameters():
        expected = 0.9 * before[name] + 0.1 * param_q
        assert torch.allclose(model.encoder_k.get_parameter(name), expected, atol=1e-6), name
    with torch.no_grad():
        k = F.normalize(model.encoder_k(im_k), dim=1)
    assert torch.allclose(model.queue[:, :B], k.T, atol=1e-5)  # one key per column
    assert torch.equal(model.queue[:, B:], old_queue[:, B:])
    assert int(model.queue_ptr) == B


def test_enqueue_refuses_a_batch_that_does_not_divide_the_queue() -> None:
    model = MoCo(ClipEncoder(embed_dim=DIM), dim=DIM, queue_size=K)
    with pytest.raises(ValueError, match="queue size 6 must be a multiple of the batch size 4"):
        model.dequeue_and_enqueue(torch.zeros(4, DIM))


def test_training_loop_runs() -> None:
    model, history = train(steps=3, batch_size=B)
    assert len(history) == 3
    for out in history:
        assert torch.isfinite(out.total)
        assert bool(out.static > 0)
        assert bool(out.wide > 0)
    assert int(model.queue_ptr) == (3 * B) % model.queue.shape[1]
    differs = [
        not torch.equal(p_q, p_k)
        for p_q, p_k in zip(model.encoder_q.parameters(), model.encoder_k.parameters(), strict=True)
    ]
    assert any(differs)  # the key encoder lags behind the query encoder
