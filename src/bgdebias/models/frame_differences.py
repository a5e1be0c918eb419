"""Frame differences as extra input channels: the actor's motion, whatever it looks like.

A small 3D CNN trained from scratch finds the motion of a uniform bright actor in a few
hundred steps but not that of a patterned one (stripes, two-tone halves, blobs): its
first convolution sees 3 x 3 pixels, far less than the actor's travel between frames,
and a patterned actor gives no response that stays coherent from frame to frame. The
difference between consecutive frames is large wherever the actor is or was, whatever
its pattern, and zero where nothing moves; giving it to the first convolution beside the
frames makes patterned actors learnable (measured in the learnability benchmark,
:doc:`/benchmarks/learnability`).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class FrameDifferences(nn.Module):
    """Append each frame's difference from the previous frame as channels.

    The first frame's difference is zero (its previous frame is itself, as with
    replicate temporal padding), so a clip in which nothing moves gets all-zero
    difference channels.

    Shape:
        ``(B, C, T, H, W)`` -> ``(B, 2 * C, T, H, W)``: the frames, then their differences.

    Example:
        >>> import torch
        >>> clip = torch.tensor([0.0, 1.0, 3.0]).view(1, 1, 3, 1, 1)
        >>> FrameDifferences()(clip).flatten(2).tolist()  # channel 0: frames; 1: differences
        [[[0.0, 1.0, 3.0], [0.0, 1.0, 2.0]]]
    """

    def forward(self, clip: Tensor) -> Tensor:
        previous = torch.cat([clip[:, :, :1], clip[:, :, :-1]], dim=2)
        return torch.cat([clip, clip - previous], dim=1)
