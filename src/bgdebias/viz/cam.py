"""Where a video backbone looks: class-activation, activation-norm and Grad-CAM maps.

All three take a backbone feature map ``F`` of shape ``(B, C, T', H', W')`` (the last
convolutional stage, before global pooling) and return one map per clip,
``(B, T', H', W')``, detached from the graph. With ``normalize=True`` each clip's map is
divided by its maximum (so it lies in [0, 1] with 1 at the hottest place and 0 meaning no
evidence); a map that is zero everywhere stays zero. Overlay them on the input clip with
:func:`~bgdebias.viz.overlay`, which resizes them in space and time.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from bgdebias._validation import check_floating, check_ndim, check_tensor

_LAYOUT = "(B, C, T', H', W')"


def class_activation_map(
    features: Tensor,
    weight: Tensor,
    class_index: int | Tensor,
    *,
    normalize: bool = True,
) -> Tensor:
    """Class-activation map (CAM, Zhou et al., CVPR 2016) of a linear classifier.

    For a classifier ``logits = W @ mean_{t,h,w} F`` the map of class ``k`` is
    ``ReLU(sum_c W[k, c] * F[:, c])``: how much each place adds to that logit. The
    classifier's bias is constant over places and left out, as in the paper.

    Args:
        features: Backbone feature map. Shape: ``(B, C, T', H', W')``.
        weight: The linear classifier's weight. Shape: ``(K, C)``.
        class_index: The class to explain: one int for all clips, or one per clip (e.g. the
            predicted classes). Shape: ``()`` or ``(B,)``, integer.
        normalize: Divide each clip's map by its maximum.

    Returns:
        The maps, detached. Shape: ``(B, T', H', W')``.

    Raises:
        TypeError: non-tensor or non-float ``features``/``weight``, non-integer
            ``class_index``.
        ValueError: wrong shapes, ``C`` mismatch or ``class_index`` outside ``[0, K)``.

    Example:
        >>> import torch
        >>> from bgdebias.viz import class_activation_map
        >>> features = torch.zeros(1, 2, 1, 2, 2)  # (B, C, T', H', W')
        >>> features[0, 0, 0, 0, 0] = 1.0  # channel 0 fires top left
        >>> features[0, 1, 0, 1, 1] = 2.0  # channel 1 fires bottom right
        >>> weight = torch.tensor([[1.0, -1.0], [0.0, 1.0]])  # class 0: ch0 - ch1; class 1: ch1
        >>> class_activation_map(features, weight, 0, normalize=False)[0, 0].tolist()  # ReLU
        [[1.0, 0.0], [0.0, 0.0]]
        >>> class_activation_map(features, weight, 1)[0, 0].tolist()  # 2 / 2 after normalising
        [[0.0, 0.0], [0.0, 1.0]]
    """
    _check_features(features)
    check_tensor(weight, "weight")
    check_ndim(weight, "weight", 2, "(K, C)")
    check_floating(weight, "weight")
    if weight.shape[1] != features.shape[1]:
        raise ValueError(
            f"`weight` has C={weight.shape[1]} input channels but `features` has "
            f"C={features.shape[1]} channels; pass the classifier that reads these features"
        )
    classes = _check_class_index(class_index, features.shape[0], weight.shape[0])
    with torch.no_grad():
        rows = weight[classes.to(weight.device)].to(device=features.device, dtype=features.dtype)
        cam = torch.einsum("bcthw,bc->bthw", features, rows).clamp_min(0.0)
    return _normalize_per_clip(cam) if normalize else cam


def activation_norm_map(features: Tensor, *, normalize: bool = True) -> Tensor:
    """Label-free map: the L2 norm over channels of the feature map (activation energy).

    Needs no classifier, so it works for self-supervised encoders: it shows where the
    features are strong, not what they mean.

    Args:
        features: Backbone feature map. Shape: ``(B, C, T', H', W')``.
        normalize: Divide each clip's map by its maximum.

    Returns:
        ``sqrt(sum_c F[:, c] ** 2)``, detached. Shape: ``(B, T', H', W')``.

    Raises:
        TypeError: ``features`` is not a float tensor.
        ValueError: ``features`` is not 5D.

    Example:
        >>> import torch
        >>> from bgdebias.viz import activation_norm_map
        >>> features = torch.zeros(1, 2, 1, 1, 2)  # (B, C, T', H', W'): two places
        >>> features[0, :, 0, 0, 0] = torch.tensor([3.0, 4.0])  # norm 5
        >>> features[0, :, 0, 0, 1] = torch.tensor([0.0, 2.5])  # norm 2.5
        >>> activation_norm_map(features, normalize=False).shape
        torch.Size([1, 1, 1, 2])
        >>> activation_norm_map(features)[0, 0, 0].tolist()  # divided by the maximum, 5
        [1.0, 0.5]
    """
    _check_features(features)
    with torch.no_grad():
        energy = features.pow(2).sum(dim=1).sqrt()
    return _normalize_per_clip(energy) if normalize else energy


def grad_cam(
    features: Tensor,
    score: Tensor,
    *,
    normalize: bool = True,
    retain_graph: bool = False,
) -> Tensor:
    """Grad-CAM (Selvaraju et al., ICCV 2017) for any differentiable scalar per clip.

    Channel weights are the gradients of ``score`` with respect to ``features``, averaged
    over ``(T', H', W')``; the map is ``ReLU(sum_c weight[:, c] * F[:, c])``. Without a
    classifier, use e.g. the cosine similarity of the query embedding to its key as
    ``score``. For a linear classifier on globally pooled features and ``score`` its logit,
    this equals :func:`class_activation_map` up to a positive factor. Clips must not
    interact (no batch norm in training mode between ``features`` and ``score``), since the
    gradient of the summed scores is taken.

    Args:
        features: Feature map that ``score`` was computed from (``requires_grad``).
            Shape: ``(B, C, T', H', W')``.
        score: One scalar per clip, or one scalar in all. Shape: ``(B,)`` or ``()``.
        normalize: Divide each clip's map by its maximum.
        retain_graph: Keep the graph for further backward passes.

    Returns:
        The maps, detached. Shape: ``(B, T', H', W')``.

    Raises:
        TypeError: non-tensor or non-float ``features``, non-tensor ``score``.
        ValueError: wrong shapes, or ``score`` does not depend on ``features``.

    Example:
        >>> import torch
        >>> from bgdebias.viz import class_activation_map, grad_cam
        >>> g = torch.Generator().manual_seed(0)
        >>> features = torch.rand(2, 8, 2, 4, 4, generator=g).requires_grad_()
        >>> weight = torch.randn(3, 8, generator=g)  # a linear classifier on pooled features
        >>> logits = features.mean(dim=(2, 3, 4)) @ weight.T
        >>> maps = grad_cam(features, logits[:, 1])
        >>> maps.shape, bool(torch.allclose(maps, class_activation_map(features, weight, 1)))
        (torch.Size([2, 2, 4, 4]), True)
    """
    _check_features(features)
    check_tensor(score, "score")
    if score.shape not in ((), (features.shape[0],)):
        raise ValueError(
            f"`score` must hold one scalar per clip, shape ({features.shape[0]},) or (), got "
            f"shape {tuple(score.shape)}"
        )
    if not (features.requires_grad and score.requires_grad):
        raise ValueError(
            "`score` must be computed from `features` with gradients enabled "
            "(features.requires_grad and score.requires_grad must both be True)"
        )
    (gradient,) = torch.autograd.grad(
        score.sum(), features, retain_graph=retain_graph, allow_unused=True
    )
    if gradient is None:
        raise ValueError("`score` does not depend on `features`; pass the map it came from")
    channel_weights = gradient.mean(dim=(2, 3, 4))
    with torch.no_grad():
        cam = torch.einsum("bcthw,bc->bthw", features, channel_weights).clamp_min(0.0)
    return _normalize_per_clip(cam) if normalize else cam


def _check_features(features: Any) -> None:
    check_tensor(features, "features")
    check_ndim(features, "features", 5, _LAYOUT)
    check_floating(features, "features")


def _check_class_index(class_index: Any, batch: int, classes: int) -> Tensor:
    if isinstance(class_index, bool):
        raise TypeError("`class_index` must be an int or an integer tensor, got bool")
    if isinstance(class_index, int):
        index = torch.full((batch,), class_index, dtype=torch.long)
    elif isinstance(class_index, Tensor) and not class_index.is_floating_point():
        if class_index.dtype == torch.bool or class_index.is_complex():
            raise TypeError(f"`class_index` must have an integer dtype, got {class_index.dtype}")
        if class_index.shape not in ((), (batch,)):
            raise ValueError(
                f"`class_index` must be one class for all clips or one per clip, shape () or "
                f"({batch},), got shape {tuple(class_index.shape)}"
            )
        index = class_index.detach().to(torch.long).cpu().expand(batch)
    else:
        kind = class_index.dtype if isinstance(class_index, Tensor) else type(class_index).__name__
        raise TypeError(f"`class_index` must be an int or an integer tensor, got {kind}")
    if bool(((index < 0) | (index >= classes)).any()):
        raise ValueError(
            f"`class_index` must be in [0, {classes - 1}] for a classifier with K={classes} "
            f"classes, got {index.tolist() if isinstance(class_index, Tensor) else class_index}"
        )
    return index


def _normalize_per_clip(maps: Tensor) -> Tensor:
    peak = maps.flatten(1).amax(dim=1).view(-1, 1, 1, 1)
    return torch.where(peak > 0, maps / torch.where(peak > 0, peak, 1.0), 0.0)
