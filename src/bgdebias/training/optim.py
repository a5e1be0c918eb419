"""The optimiser and learning-rate schedule every training run of the package uses."""

from __future__ import annotations

import math

import torch
from torch import nn

from bgdebias.training.config import ResolvedPretrainConfig


def build_optimizer(config: ResolvedPretrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    """SGD (momentum 0.9) or AdamW over the trainable parameters of ``model``.

    Args:
        config: A resolved configuration; ``optimizer``, ``lr`` and ``weight_decay`` are read.
        model: The module to train (parameters with ``requires_grad=False`` are left out).

    Returns:
        The optimiser.

    Example:
        >>> from torch import nn
        >>> from bgdebias.training import PretrainConfig, build_optimizer
        >>> optimizer = build_optimizer(PretrainConfig().resolved(), nn.Linear(4, 2))
        >>> type(optimizer).__name__, optimizer.defaults["lr"]  # synthetic defaults
        ('AdamW', 0.002)
    """
    parameters = [p for p in model.parameters() if p.requires_grad]
    if config.optimizer == "sgd":
        return torch.optim.SGD(
            parameters, lr=config.lr, momentum=0.9, weight_decay=config.weight_decay
        )
    return torch.optim.AdamW(parameters, lr=config.lr, weight_decay=config.weight_decay)


def cosine_schedule(
    optimizer: torch.optim.Optimizer, *, steps: int, warmup_steps: int
) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up over ``warmup_steps``, then cosine decay to zero at ``steps``.

    Args:
        optimizer: The optimiser whose learning rate to schedule.
        steps: Length of the run; the factor is 0 from there on.
        warmup_steps: Steps of linear warm-up (0: none).

    Returns:
        A scheduler to step once per optimiser step.

    Example:
        >>> import torch
        >>> from bgdebias.training import cosine_schedule
        >>> optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
        >>> schedule = cosine_schedule(optimizer, steps=4, warmup_steps=2)
        >>> factors = []
        >>> for _ in range(4):
        ...     factors.append(round(schedule.get_last_lr()[0], 3))
        ...     optimizer.step()
        ...     schedule.step()
        >>> factors
        [0.5, 1.0, 1.0, 0.5]
    """

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = (step - warmup_steps) / max(1, steps - warmup_steps)
        return 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
