from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from bgdebias.moco import concat_all_gather, is_distributed


def test_gather_is_the_identity_outside_a_process_group_and_carries_no_gradient() -> None:
    assert not is_distributed()
    keys = torch.randn(3, 4, requires_grad=True)
    gathered = concat_all_gather(keys)
    assert torch.equal(gathered, keys)
    assert not gathered.requires_grad
    assert gathered.data_ptr() == keys.data_ptr()  # no copy


def test_gather_rejects_scalars() -> None:
    with pytest.raises(ValueError, match=re.escape("`tensor` must have at least 1 dimension")):
        concat_all_gather(torch.tensor(1.0))
    with pytest.raises(TypeError, match=re.escape("`tensor` must be a torch.Tensor, got list")):
        concat_all_gather([1.0])  # type: ignore[arg-type]


@pytest.mark.timeout(60)
@pytest.mark.skipif(not dist.is_available(), reason="torch.distributed is not available")
def test_two_gloo_ranks_share_one_queue_with_unequal_batches(tmp_path: Path) -> None:
    from moco._gloo_worker import BATCH_SIZES, QUEUE_SIZE, run, tagged_keys

    spawn: Any = mp.spawn  # type: ignore[attr-defined]  # untyped, not re-exported in the stubs
    spawn(run, args=(2, str(tmp_path / "init"), str(tmp_path)), nprocs=2, join=True)
    results = [torch.load(tmp_path / f"rank{rank}.pt") for rank in range(2)]

    # concat_all_gather: rank 0's single row, then rank 1's two rows, on both ranks.
    expected_gather = torch.cat([tagged_keys(0, 9, 1), tagged_keys(1, 9, 2)])
    for result in results:
        assert torch.equal(result["gathered"], expected_gather)

    # The queue: every key of both ranks, rank 0's batch first, identical on both ranks.
    initial = torch.nn.functional.normalize(
        torch.randn(QUEUE_SIZE, 3, generator=torch.Generator().manual_seed(0)), dim=1
    )
    rows = list(initial)
    pointer = 0
    for step, sizes in enumerate(BATCH_SIZES):
        for rank in range(2):
            for key in tagged_keys(rank, step, sizes[rank]):
                rows[pointer] = key
                pointer = (pointer + 1) % QUEUE_SIZE
        expected = torch.stack(rows)
        for result in results:
            negatives, written = result["snapshots"][step]
            assert torch.equal(negatives, expected)
            assert written == pointer
    # Second step wrapped around: 5 + 6 keys in 7 rows, pointer at 11 % 7.
    assert pointer == 4
    final = results[0]["snapshots"][1][0]
    assert final[:, :2].tolist()[4] == [1.0, 0.0]  # the oldest survivor: rank 1, step 0
