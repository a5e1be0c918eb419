"""The ``fame`` baseline against a port of FAME's official training step."""

from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F

from bgdebias.training import PretrainConfig, build_recipe
from bgdebias.training.fame import FAMEMoCo, fame_mixer


def _views(batch: int = 4, size: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    base = torch.rand(batch, 3, 1, size, size, generator=generator).expand(-1, -1, 8, -1, -1)
    moving = base.clone()
    for t in range(8):
        moving[:, :, t, 10:16, 2 + 3 * t : 8 + 3 * t] = 1.0
    return moving, moving.flip(-1)


def _official_forward_once(
    q: torch.Tensor, k: torch.Tensor, queue_dk: torch.Tensor, temperature: float
) -> torch.Tensor:
    """FAME's (MoCo's) ``forward_once`` logits and loss; its queue is stored (D, K)."""
    q, k = F.normalize(q, dim=1), F.normalize(k, dim=1)
    l_pos = torch.einsum("nc,nc->n", q, k).unsqueeze(-1)
    l_neg = torch.einsum("nc,ck->nk", q, queue_dk)
    logits = torch.cat([l_pos, l_neg], dim=1) / temperature
    return F.cross_entropy(logits, torch.zeros(q.shape[0], dtype=torch.long))


def test_fame_step_matches_a_port_of_the_official_step(tiny_config: PretrainConfig) -> None:
    config = dataclasses.replace(tiny_config, method="fame").resolved()
    torch.manual_seed(0)
    recipe = build_recipe(config)
    assert isinstance(recipe, FAMEMoCo)
    assert recipe.query_encoder.micro_head is None
    view0, view1 = _views()

    # The reference, step by step as in FAME's train.py and moco/builder.py.
    reference = build_recipe(config)
    reference.load_state_dict(recipe.state_dict())
    merged = fame_mixer()(view0, generator=torch.Generator().manual_seed(3)).mixed
    queue = reference.queue.queue.clone().T  # (D, K)
    with torch.no_grad():
        k1 = F.normalize(reference.key_encoder(view1).embedding, dim=1)
        k2 = F.normalize(reference.key_encoder(merged).embedding, dim=1)
    loss_1 = _official_forward_once(reference.query_encoder(merged).embedding, k1, queue, 0.1)
    queue = torch.cat([k1.T, queue[:, 4:]], dim=1)  # k1 overwrites the oldest columns
    loss_2 = _official_forward_once(reference.query_encoder(view1).embedding, k2, queue, 0.1)

    out = recipe(view0, view1, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(out.wide, loss_1)
    torch.testing.assert_close(out.static, loss_2)
    torch.testing.assert_close(out.total, (loss_1 + loss_2) / 2)
    assert out.micro.item() == 0.0
    assert int(recipe.queue.pointer) == 8  # both key batches entered the queue
    torch.testing.assert_close(recipe.queue.queue[:4], k1)
    torch.testing.assert_close(recipe.queue.queue[4:8], k2)


def test_fame_merges_the_first_view_onto_a_partner_clip() -> None:
    view0, _ = _views()
    out = fame_mixer()(view0, generator=torch.Generator().manual_seed(3))
    mask = out.mask
    expected = mask * view0 + (1 - mask) * view0[out.partner]
    torch.testing.assert_close(out.mixed, expected)
    assert mask.shape == (4, 1, 8, 32, 32)
    assert torch.equal(mask, mask[:, :, :1].expand_as(mask))
    assert int(mask[:, 0, 0].sum(dim=(1, 2)).min()) == int(0.5 * 32 * 32)  # FAME's int count


def test_fame_trains_end_to_end(tiny_config: PretrainConfig) -> None:
    from bgdebias.training import pretrain

    result = pretrain(dataclasses.replace(tiny_config, method="fame", steps=2), progress=False)
    assert result.step == 2
    assert result.checkpoint.is_file()
