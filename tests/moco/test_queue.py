from __future__ import annotations

import io
import re

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from bgdebias.moco import MemoryQueue


def _keys(values: list[float], dim: int = 2) -> torch.Tensor:
    """One key per value: the value in column 0, zeros elsewhere."""
    keys = torch.zeros(len(values), dim)
    keys[:, 0] = torch.tensor(values)
    return keys


def _naive_fifo(size: int, initial: torch.Tensor, batches: list[torch.Tensor]) -> torch.Tensor:
    """Reference: write keys one at a time at a pointer that wraps around."""
    rows = [row.clone() for row in initial]
    pointer = 0
    for batch in batches:
        for key in batch:
            rows[pointer] = key.clone()
            pointer = (pointer + 1) % size
    return torch.stack(rows)


def test_initial_keys_are_random_unit_vectors_and_reproducible() -> None:
    queue = MemoryQueue(8, 16, generator=torch.Generator().manual_seed(0))
    again = MemoryQueue(8, 16, generator=torch.Generator().manual_seed(0))
    other = MemoryQueue(8, 16, generator=torch.Generator().manual_seed(1))
    assert queue.negatives.shape == (16, 8)
    torch.testing.assert_close(queue.negatives.norm(dim=1), torch.ones(16))
    assert torch.equal(queue.negatives, again.negatives)
    assert not torch.equal(queue.negatives, other.negatives)
    assert int(queue.pointer) == 0
    assert set(queue.state_dict()) == {"queue", "pointer"}


def test_fifo_writes_batches_in_order_at_known_positions() -> None:
    queue = MemoryQueue(2, 6, normalize=False)
    initial = queue.negatives
    queue.enqueue(_keys([1.0, 2.0]))
    queue.enqueue(_keys([3.0, 4.0]))
    rows = queue.negatives
    assert rows[:4, 0].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert torch.equal(rows[4:], initial[4:])
    assert int(queue.pointer) == 4
    queue.enqueue(_keys([5.0, 6.0]))
    queue.enqueue(_keys([7.0, 8.0]))  # overwrites the two oldest keys
    assert queue.negatives[:, 0].tolist() == [7.0, 8.0, 3.0, 4.0, 5.0, 6.0]
    assert int(queue.pointer) == 2


def test_size_not_divisible_by_batch_wraps_around_without_losing_keys() -> None:
    queue = MemoryQueue(2, 5, normalize=False)
    for start in (1.0, 4.0, 7.0):
        queue.enqueue(_keys([start, start + 1, start + 2]))
    # 9 keys into 5 rows: keys 5..9 survive, the write pointer is at 9 % 5 = 4.
    assert queue.negatives[:, 0].tolist() == [6.0, 7.0, 8.0, 9.0, 5.0]
    assert int(queue.pointer) == 4


def test_batch_larger_than_queue_keeps_the_newest_keys() -> None:
    queue = MemoryQueue(2, 3, normalize=False)
    queue.enqueue(_keys([1.0]))
    queue.enqueue(_keys([10.0, 11.0, 12.0, 13.0, 14.0]))
    # Key i of the batch goes to row (1 + i) % 3, i.e. rows 1, 2, 0, 1, 2: the last three
    # keys (12, 13, 14) land in rows 0, 1, 2.
    assert queue.negatives[:, 0].tolist() == [12.0, 13.0, 14.0]
    assert int(queue.pointer) == (1 + 5) % 3


@settings(max_examples=40, deadline=None)
@given(
    size=st.integers(1, 9),
    batch_sizes=st.lists(st.integers(0, 12), min_size=1, max_size=6),
)
def test_enqueue_matches_a_key_by_key_reference(size: int, batch_sizes: list[int]) -> None:
    queue = MemoryQueue(3, size, generator=torch.Generator().manual_seed(size), normalize=False)
    initial = queue.negatives
    batches = []
    counter = 0
    for count in batch_sizes:
        batch = torch.arange(counter, counter + 3 * count, dtype=torch.float32).view(count, 3)
        counter += 3 * count
        batches.append(batch)
        queue.enqueue(batch)
    assert torch.equal(queue.negatives, _naive_fifo(size, initial, batches))
    assert int(queue.pointer) == sum(batch_sizes) % size


def test_state_dict_round_trip_resumes_exactly() -> None:
    queue = MemoryQueue(4, 7, generator=torch.Generator().manual_seed(0))
    queue.enqueue(torch.randn(3, 4))
    queue.enqueue(torch.randn(3, 4))
    buffer = io.BytesIO()
    torch.save(queue.state_dict(), buffer)
    buffer.seek(0)
    resumed = MemoryQueue(4, 7, generator=torch.Generator().manual_seed(123))
    resumed.load_state_dict(torch.load(buffer))
    assert torch.equal(resumed.negatives, queue.negatives)
    assert int(resumed.pointer) == int(queue.pointer) == 6
    keys = torch.randn(3, 4)
    queue.enqueue(keys)
    resumed.enqueue(keys)
    assert torch.equal(resumed.negatives, queue.negatives)
    assert int(resumed.pointer) == int(queue.pointer) == 2


def test_negatives_is_a_snapshot_so_enqueue_before_backward_is_safe() -> None:
    queue = MemoryQueue(4, 8)
    query = torch.randn(2, 4, requires_grad=True)
    negatives = queue.negatives
    loss = (query @ negatives.T).sum()
    queue.enqueue(torch.randn(2, 4))
    # Would fail if the queue buffer itself had been saved by autograd.
    loss.backward()  # type: ignore[no-untyped-call]
    assert query.grad is not None
    torch.testing.assert_close(query.grad, negatives.sum(0).expand(2, 4))
    assert not torch.equal(negatives, queue.negatives)


def test_enqueue_detaches_and_casts_keys_to_the_queue_dtype() -> None:
    queue = MemoryQueue(3, 4, normalize=False).to(torch.float64)
    assert queue.queue.dtype == torch.float64
    assert queue.pointer.dtype == torch.long
    keys = torch.randn(2, 3, requires_grad=True)
    queue.enqueue(keys * 2)
    assert queue.negatives.dtype == torch.float64
    assert not queue.queue.requires_grad
    torch.testing.assert_close(queue.negatives[:2], (keys * 2).detach().double())


def test_enqueued_keys_are_l2_normalised_by_default() -> None:
    queue = MemoryQueue(5, 8, generator=torch.Generator().manual_seed(0))
    assert queue.normalize is True
    initial = queue.negatives
    keys = 3.0 * torch.randn(6, 5, generator=torch.Generator().manual_seed(1))
    queue.enqueue(keys)
    rows = queue.negatives
    torch.testing.assert_close(rows.norm(dim=1), torch.ones(8))
    torch.testing.assert_close(rows[:6], torch.nn.functional.normalize(keys, dim=1))
    assert torch.equal(rows[6:], initial[6:])
    assert int(queue.pointer) == 6
    queue.enqueue(keys[:4])  # wraps around: rows 6, 7, 0, 1, still unit vectors
    torch.testing.assert_close(queue.negatives.norm(dim=1), torch.ones(8))


def test_normalize_false_keeps_the_raw_keys() -> None:
    queue = MemoryQueue(5, 8, normalize=False)
    assert queue.normalize is False
    keys = 3.0 * torch.randn(6, 5, generator=torch.Generator().manual_seed(1))
    queue.enqueue(keys)
    assert torch.equal(queue.negatives[:6], keys)


def test_a_zero_key_is_stored_as_zero_not_nan() -> None:
    queue = MemoryQueue(3, 4)
    keys = torch.tensor([[0.0, 0.0, 0.0], [0.0, 2.0, 0.0]])
    queue.enqueue(keys)
    rows = queue.negatives
    assert not rows.isnan().any()
    assert torch.equal(rows[:2], torch.tensor([[0.0, 0.0, 0.0], [0.0, 1.0, 0.0]]))


def test_low_precision_keys_become_finite_unit_vectors() -> None:
    # The squared norm of these keys (3 * 300**2) lies beyond float16's maximum, 65504.
    queue = MemoryQueue(3, 4, dtype=torch.float16)
    queue.enqueue(torch.full((2, 3), 300.0, dtype=torch.float16))
    rows = queue.negatives
    assert rows.dtype == torch.float16
    assert rows.isfinite().all()
    torch.testing.assert_close(rows[:2], torch.full((2, 3), 3**-0.5, dtype=torch.float16))


def test_normalised_keys_are_cast_to_a_float64_queue() -> None:
    queue = MemoryQueue(3, 4).to(torch.float64)
    keys = torch.tensor([[3.0, 4.0, 0.0]], requires_grad=True)
    queue.enqueue(keys * 2)
    assert queue.negatives.dtype == torch.float64
    torch.testing.assert_close(
        queue.negatives[0], torch.tensor([0.6, 0.8, 0.0], dtype=torch.float64)
    )


def test_dtype_and_device_arguments() -> None:
    queue = MemoryQueue(3, 4, dtype=torch.float16, device="cpu")
    assert queue.queue.dtype == torch.float16
    assert queue.queue.device.type == "cpu"


def test_empty_batch_is_a_no_op() -> None:
    queue = MemoryQueue(3, 4)
    before = queue.negatives
    queue.enqueue(torch.empty(0, 3))
    assert torch.equal(queue.negatives, before)
    assert int(queue.pointer) == 0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_queue_on_cuda_follows_the_module_and_casts_cpu_float_keys() -> None:
    queue = MemoryQueue(3, 4).to("cuda", torch.float16)
    queue.enqueue(torch.ones(5, 3, device="cuda"))
    assert queue.negatives.device.type == "cuda"
    assert queue.negatives.dtype == torch.float16
    assert int(queue.pointer) == 1


def test_constructor_errors() -> None:
    with pytest.raises(ValueError, match=re.escape("`dim` must be an int >= 1, got 0")):
        MemoryQueue(0, 4)
    with pytest.raises(TypeError, match=re.escape("`size` must be an int, got float (4.0)")):
        MemoryQueue(3, 4.0)  # type: ignore[arg-type]
    with pytest.raises(
        TypeError, match=re.escape("`dtype` must be a floating-point dtype, got torch.int64")
    ):
        MemoryQueue(3, 4, dtype=torch.long)


def test_enqueue_errors() -> None:
    queue = MemoryQueue(3, 4)
    with pytest.raises(TypeError, match=re.escape("`keys` must be a torch.Tensor, got list")):
        queue.enqueue([[0.0, 0.0, 0.0]])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=re.escape("`keys` must be a 2D tensor of shape (B, dim)")):
        queue.enqueue(torch.zeros(3))
    with pytest.raises(TypeError, match="`keys` must have a floating-point dtype"):
        queue.enqueue(torch.zeros(2, 3, dtype=torch.long))
    with pytest.raises(
        ValueError,
        match=re.escape("`keys` must have shape (B, 3) to match the queue's dim=3, got (2, 5)"),
    ):
        queue.enqueue(torch.zeros(2, 5))


def test_loading_a_checkpoint_of_another_size_fails_clearly() -> None:
    with pytest.raises(RuntimeError, match="size mismatch for queue"):
        MemoryQueue(3, 4).load_state_dict(MemoryQueue(3, 5).state_dict())


def test_repr_names_dim_size_and_normalize() -> None:
    assert repr(MemoryQueue(3, 4)) == "MemoryQueue(dim=3, size=4, normalize=True)"
    assert repr(MemoryQueue(3, 4, normalize=False)) == "MemoryQueue(dim=3, size=4, normalize=False)"
