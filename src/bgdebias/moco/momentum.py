"""The momentum (EMA) key encoder: copy, update, and the cosine momentum schedule."""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from typing import Literal, TypeVar

import torch
from torch import nn

from bgdebias._validation import check_choice, check_int, check_unit

ModuleT = TypeVar("ModuleT", bound=nn.Module)

BUFFER_MODES = ("keep", "copy")


def momentum_copy(module: ModuleT) -> ModuleT:
    """A deep copy of ``module`` with every parameter frozen, the start of a key encoder.

    The copy keeps the original's train/eval mode: MoCo runs its key encoder in train mode,
    so batch norm normalises keys with their own batch statistics.

    Args:
        module: The online (query) encoder.

    Returns:
        An independent copy whose parameters have ``requires_grad=False``.

    Example:
        >>> import torch
        >>> from bgdebias.moco import momentum_copy
        >>> online = torch.nn.Linear(4, 2)
        >>> target = momentum_copy(online)
        >>> bool(torch.equal(target.weight, online.weight)), target.weight is online.weight
        (True, False)
        >>> any(p.requires_grad for p in target.parameters()), target.training  # frozen, train
        (False, True)
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"`module` must be an nn.Module, got {type(module).__name__}")
    target = copy.deepcopy(module)
    target.requires_grad_(False)
    return target


@torch.no_grad()
def update_momentum(
    online: nn.Module,
    target: nn.Module,
    momentum: float,
    *,
    buffers: Literal["keep", "copy"] = "keep",
) -> None:
    """EMA step of ``target``'s parameters: ``target = m * target + (1 - m) * online``.

    Parameters are matched by name; both modules must have the same parameter names and
    shapes (a :func:`momentum_copy` of ``online`` does; with DistributedDataParallel pass
    the wrapped ``.module``, whose names lack the ``module.`` prefix). ``online`` is cast to
    the dtype of ``target`` where they differ.

    Buffers (batch-norm running statistics, ``num_batches_tracked``) are left alone by
    default (``buffers="keep"``), as in MoCo: the key encoder runs in train mode and keeps
    running statistics of its own key batches. ``buffers="copy"`` copies ``online``'s
    buffers into ``target`` instead (for a target used in eval mode that should share the
    online running statistics).

    Args:
        online: The encoder trained by gradient descent (the query encoder).
        target: The momentum encoder (the key encoder), updated in place.
        momentum: ``m`` in [0, 1]; 1 leaves ``target`` unchanged, 0 copies ``online``.
        buffers: What happens to ``target``'s buffers: ``"keep"`` or ``"copy"``.

    Example:
        >>> import torch
        >>> from bgdebias.moco import momentum_copy, update_momentum
        >>> online = torch.nn.Linear(3, 2)
        >>> target = momentum_copy(online)
        >>> with torch.no_grad():
        ...     _ = online.weight.add_(1.0)  # a training step moves the online weights by 1
        >>> update_momentum(online, target, momentum=0.9)
        >>> round((online.weight - target.weight).mean().item(), 4)  # target moved 1 - 0.9 of it
        0.9
    """
    for name, value in (("online", online), ("target", target)):
        if not isinstance(value, nn.Module):
            raise TypeError(f"`{name}` must be an nn.Module, got {type(value).__name__}")
    weight = 1.0 - check_unit(momentum, "momentum")
    check_choice(buffers, "buffers", BUFFER_MODES)
    online_params = dict(online.named_parameters())
    target_params = dict(target.named_parameters())
    _check_same_tensors(online_params, target_params, "parameters")
    for name, param in target_params.items():
        param.lerp_(online_params[name].to(param.dtype), weight)
    if buffers == "copy":
        online_buffers = dict(online.named_buffers())
        target_buffers = dict(target.named_buffers())
        _check_same_tensors(online_buffers, target_buffers, "buffers")
        for name, buffer in target_buffers.items():
            buffer.copy_(online_buffers[name])


def cosine_momentum(
    step: int, total_steps: int, *, base: float = 0.999, final: float = 1.0
) -> float:
    """BYOL's cosine momentum schedule, from ``base`` at step 0 to ``final`` at the end.

    ``m(step) = final - (final - base) * (cos(pi * step / total_steps) + 1) / 2``; steps
    beyond ``total_steps`` return ``final``.

    Args:
        step: Current step, from 0.
        total_steps: Number of steps of the schedule (>= 1).
        base: Momentum at step 0, in [0, 1].
        final: Momentum at ``total_steps``, in [0, 1].

    Returns:
        The momentum for this step.

    Example:
        >>> from bgdebias.moco import cosine_momentum
        >>> [round(cosine_momentum(step, 100), 6) for step in (0, 50, 100, 200)]
        [0.999, 0.9995, 1.0, 1.0]
    """
    step = check_int(step, "step", minimum=0)
    total_steps = check_int(total_steps, "total_steps", minimum=1)
    base = check_unit(base, "base")
    final = check_unit(final, "final")
    progress = min(step, total_steps) / total_steps
    return final - (final - base) * (math.cos(math.pi * progress) + 1.0) / 2.0


def _check_same_tensors(
    online: Mapping[str, torch.Tensor], target: Mapping[str, torch.Tensor], kind: str
) -> None:
    missing = sorted(set(online) - set(target))
    extra = sorted(set(target) - set(online))
    if missing or extra:
        raise ValueError(
            f"`online` and `target` must have the same {kind}; only in online: {missing}, "
            f"only in target: {extra} (build target with momentum_copy(online))"
        )
    for name, tensor in online.items():
        if tensor.shape != target[name].shape:
            raise ValueError(
                f"{kind[:-1]} {name!r} has shape {tuple(tensor.shape)} in `online` but "
                f"{tuple(target[name].shape)} in `target`"
            )
