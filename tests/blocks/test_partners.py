from __future__ import annotations

import re
from collections import Counter

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from bgdebias.blocks.functional import choose_partners, random_derangement


@settings(max_examples=50, deadline=None)
@given(n=st.integers(2, 64), seed=st.integers(0, 2**32 - 1))
def test_derangement_is_a_permutation_without_fixed_points(n: int, seed: int) -> None:
    partner = random_derangement(n, generator=torch.Generator().manual_seed(seed))
    assert sorted(partner.tolist()) == list(range(n))
    assert bool((partner != torch.arange(n)).all())
    again = random_derangement(n, generator=torch.Generator().manual_seed(seed))
    assert torch.equal(partner, again)


def test_derangements_of_three_are_uniform() -> None:
    # The two derangements of 3 elements are the two 3-cycles.
    generator = torch.Generator().manual_seed(0)
    counts = Counter(
        tuple(random_derangement(3, generator=generator).tolist()) for _ in range(2000)
    )
    assert set(counts) == {(1, 2, 0), (2, 0, 1)}
    assert abs(counts[(1, 2, 0)] - 1000) < 120


def test_roll_partners() -> None:
    assert choose_partners(4, "roll").tolist() == [1, 2, 3, 0]


def test_errors() -> None:
    with pytest.raises(ValueError, match=re.escape("`n` must be an int >= 2, got 1")):
        random_derangement(1)
    with pytest.raises(ValueError, match=re.escape("`partner` must be one of 'derangement'")):
        choose_partners(4, "nearest")  # type: ignore[arg-type]


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 64), seed=st.integers(0, 2**32 - 1))
def test_permutation_partners_are_fames_randperm(n: int, seed: int) -> None:
    """FAME draws partners with ``torch.randperm``: any permutation, fixed points allowed."""
    partner = choose_partners(n, "permutation", generator=torch.Generator().manual_seed(seed))
    expected = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    assert torch.equal(partner, expected)


def test_permutation_partners_sometimes_keep_a_clip() -> None:
    generator = torch.Generator().manual_seed(0)
    fixed = sum(
        int((choose_partners(8, "permutation", generator=generator) == torch.arange(8)).sum())
        for _ in range(500)
    )
    assert 350 < fixed < 650  # one fixed point per permutation on average
