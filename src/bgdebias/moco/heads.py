"""Projection heads that map a backbone's pooled features to the contrastive space."""

from __future__ import annotations

from torch import Tensor, nn

from bgdebias._validation import check_floating, check_int, check_ndim, check_tensor


class ProjectionHead(nn.Module):
    """An MLP head; the default is MoCo v2's ``Linear-ReLU-Linear``.

    ``num_layers`` linear layers: each but the last is followed by (optional batch norm
    and) ReLU. With ``batch_norm=True`` the hidden linear layers drop their bias (batch
    norm has one), as SimCLR/MoCo v3 heads do. The output is not normalised: the
    contrastive loss normalises it.

    Args:
        in_dim: Input dimension (the backbone's ``embed_dim``).
        hidden_dim: Width of the hidden layers.
        out_dim: Output (embedding) dimension.
        num_layers: Number of linear layers (1 is a single linear projection).
        batch_norm: Add ``BatchNorm1d`` after every hidden linear layer.

    Shape:
        ``(B, in_dim)`` -> ``(B, out_dim)``.

    Example:
        >>> import torch
        >>> from bgdebias.moco import ProjectionHead
        >>> head = ProjectionHead(256, hidden_dim=64, out_dim=16)
        >>> head(torch.zeros(4, 256)).shape
        torch.Size([4, 16])
        >>> head = ProjectionHead(256, hidden_dim=64, out_dim=16, batch_norm=True)
        >>> [type(m).__name__ for m in head.layers]
        ['Linear', 'BatchNorm1d', 'ReLU', 'Linear']
    """

    def __init__(
        self,
        in_dim: int,
        *,
        hidden_dim: int = 2048,
        out_dim: int = 128,
        num_layers: int = 2,
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        self.in_dim = check_int(in_dim, "in_dim", minimum=1)
        self.hidden_dim = check_int(hidden_dim, "hidden_dim", minimum=1)
        self.out_dim = check_int(out_dim, "out_dim", minimum=1)
        self.num_layers = check_int(num_layers, "num_layers", minimum=1)
        self.batch_norm = bool(batch_norm)
        layers: list[nn.Module] = []
        width = in_dim
        for _ in range(num_layers - 1):
            layers.append(nn.Linear(width, hidden_dim, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm1d(hidden_dim))
            layers.append(nn.ReLU(inplace=True))
            width = hidden_dim
        layers.append(nn.Linear(width, out_dim))
        self.layers = nn.Sequential(*layers)

    def forward(self, features: Tensor) -> Tensor:
        """Project pooled features.

        Args:
            features: Pooled backbone features. Shape: ``(B, in_dim)``.

        Returns:
            Embeddings. Shape: ``(B, out_dim)``.
        """
        check_tensor(features, "features")
        check_ndim(features, "features", 2, "(B, in_dim)")
        check_floating(features, "features")
        if features.shape[1] != self.in_dim:
            raise ValueError(
                f"`features` must have shape (B, {self.in_dim}) to match in_dim={self.in_dim}, "
                f"got {tuple(features.shape)}"
            )
        out: Tensor = self.layers(features)
        return out
