"""Partner assignment within a batch: which clip lends its background to which."""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from bgdebias._validation import check_choice, check_int

PartnerMode = Literal["derangement", "roll", "permutation"]
PARTNER_MODES: tuple[str, ...] = ("derangement", "roll", "permutation")

_MAX_REJECTIONS = 100


def random_derangement(
    n: int, *, generator: torch.Generator | None = None, device: torch.device | None = None
) -> Tensor:
    """A permutation of ``range(n)`` with no fixed point, uniform over all derangements.

    Drawn by rejection (on average e ~ 2.7 permutations); reproducible from ``generator``.

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
    draw_device = generator.device if generator is not None else torch.device("cpu")
    identity = torch.arange(n, device=draw_device)
    for _ in range(_MAX_REJECTIONS):
        permutation = torch.randperm(n, generator=generator, device=draw_device)
        if bool((permutation != identity).all()):
            return permutation.to(device or draw_device)
    # Unreachable in practice (probability ~ 0.63 ** 100); a random n-cycle is a derangement.
    order = torch.randperm(n, generator=generator, device=draw_device)
    permutation = torch.empty_like(order)
    permutation[order] = order.roll(1)
    return permutation.to(device or draw_device)


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
        draw_device = generator.device if generator is not None else torch.device("cpu")
        permutation = torch.randperm(n, generator=generator, device=draw_device)
        return permutation.to(device or draw_device)
    if mode == "roll":
        check_int(n, "n", minimum=2)
        return torch.arange(n, device=device).roll(-1)
    return random_derangement(n, generator=generator, device=device)
