"""Partner assignment within a batch: which clip lends its background to which."""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from bgdebias._random import draw_device
from bgdebias._validation import check_choice, check_int

PartnerMode = Literal["derangement", "roll", "permutation"]
PARTNER_MODES: tuple[PartnerMode, ...] = ("derangement", "roll", "permutation")

_MAX_REJECTIONS = 100
# Candidates drawn at once inside a compiled graph; all fail with probability
# (1 - 1/e) ** 64 < 1e-12 (then a random n-cycle is used).
_GRAPH_CANDIDATES = 64
_SORT_KEY_HIGH = 2**62  # random int64 sort keys: ties (a biased order) are negligible


def random_derangement(
    n: int, *, generator: torch.Generator | None = None, device: torch.device | None = None
) -> Tensor:
    """A permutation of ``range(n)`` with no fixed point, uniform over all derangements.

    Drawn by rejection (on average e ~ 2.7 permutations); reproducible from ``generator``.
    The loop asks the host whether a draw is valid, which ``torch.compile`` and
    ``torch.export`` cannot trace; while they trace, the same rejection runs in the graph
    instead: 64 candidate permutations at once, the first without a fixed point kept
    (still uniform; a random ``n``-cycle in the ~1e-12 case that none is). That is a
    different random draw from the eager one for the same seed.

    Args:
        n: Number of elements, at least 2.
        generator: Random source; its device is used for drawing.
        device: Device of the returned tensor (default: the generator's device, or CPU).

    Returns:
        ``partner`` with ``partner[i] != i`` for every ``i``. Shape: ``(n,)``, int64.

    Example:
        >>> import torch
        >>> p = random_derangement(5, generator=torch.Generator().manual_seed(0))
        >>> bool((p != torch.arange(5)).all())
        True
    """
    check_int(n, "n", minimum=2)
    drawn_on = draw_device(generator)
    if torch.compiler.is_compiling():
        return _derangement_in_graph(n, generator, drawn_on).to(device or drawn_on)
    identity = torch.arange(n, device=drawn_on)
    for _ in range(_MAX_REJECTIONS):
        permutation = torch.randperm(n, generator=generator, device=drawn_on)
        if bool((permutation != identity).all()):
            return permutation.to(device or drawn_on)
    # Unreachable in practice (probability ~ 0.63 ** 100); a random n-cycle is a derangement.
    order = torch.randperm(n, generator=generator, device=drawn_on)
    permutation = torch.empty_like(order)
    permutation[order] = order.roll(1)
    return permutation.to(device or drawn_on)


def _derangement_in_graph(
    n: int, generator: torch.Generator | None, device: torch.device
) -> Tensor:
    """Rejection sampling without a host synchronisation (for compiled graphs)."""
    keys = torch.randint(
        _SORT_KEY_HIGH, (_GRAPH_CANDIDATES + 1, n), generator=generator, device=device
    )
    candidates = keys.argsort(dim=1)
    valid = (candidates[:-1] != torch.arange(n, device=device)).all(dim=1)
    index = valid.int().argmax().view(1)  # the first valid one (0 if none)
    first = candidates.index_select(0, index).squeeze(0)
    order = candidates[-1]
    cycle = torch.empty_like(order).scatter_(0, order, order.roll(1))
    return torch.where(valid.any(), first, cycle)


def choose_partners(
    n: int,
    mode: PartnerMode,
    *,
    generator: torch.Generator | None = None,
    device: torch.device | None = None,
) -> Tensor:
    """Partner indices for a batch of ``n``: a random derangement, a roll by one, or any
    random permutation (FAME's ``torch.randperm``: a clip may draw itself, about once per
    batch on average, and is then merged with its own clip).

    Shape:
        Returns ``(n,)``, int64; with no fixed point except for ``"permutation"``.

    Example:
        >>> import torch
        >>> choose_partners(4, "roll").tolist()  # clip i borrows from clip i + 1
        [1, 2, 3, 0]
        >>> p = choose_partners(4, "derangement", generator=torch.Generator().manual_seed(0))
        >>> sorted(p.tolist()), bool((p != torch.arange(4)).all())
        ([0, 1, 2, 3], True)
        >>> sorted(choose_partners(4, "permutation", generator=torch.Generator()).tolist())
        [0, 1, 2, 3]
    """
    check_choice(mode, "partner", PARTNER_MODES)
    if mode == "permutation":
        check_int(n, "n", minimum=1)
        drawn_on = draw_device(generator)
        permutation = torch.randperm(n, generator=generator, device=drawn_on)
        return permutation.to(device or drawn_on)
    if mode == "roll":
        check_int(n, "n", minimum=2)
        return torch.arange(n, device=device).roll(-1)
    return random_derangement(n, generator=generator, device=device)
