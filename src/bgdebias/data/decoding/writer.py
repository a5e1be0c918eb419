"""Encode frames to a video file with PyAV (used for synthetic datasets and tests)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from bgdebias._validation import check_choice, check_int

#: Codecs known to round-trip through both torchcodec and PyAV.
SUPPORTED_CODECS = ("libx264", "mpeg4", "libvpx-vp9")


def write_video(
    path: str | os.PathLike[str],
    frames: Tensor | np.ndarray,
    *,
    fps: int = 25,
    codec: str = "libx264",
    crf: int = 18,
) -> Path:
    """Encode ``frames`` as a video file.

    Args:
        path: Output file; the container follows the suffix (``.mp4``, ``.avi``, ``.webm``).
        frames: ``uint8`` frames, channels last. Shape: ``(T, H, W, 3)``. H and W must be even
            (yuv420p chroma subsampling).
        fps: Frame rate written into the container.
        codec: One of :data:`SUPPORTED_CODECS`.
        crf: Constant rate factor for ``libx264``/``libvpx-vp9`` (lower is closer to lossless).

    Returns:
        The path written.

    Raises:
        ValueError: If the frames have the wrong shape, dtype or odd spatial size.
        ImportError: If PyAV is not installed (``pip install bgdebias[video]``).

    Example:
        >>> import tempfile
        >>> import torch
        >>> from bgdebias.data import decode_frames
        >>> frames = torch.zeros(4, 32, 48, 3, dtype=torch.uint8)  # (T, H, W, 3)
        >>> frames[..., 0] = torch.tensor([0, 80, 160, 240]).view(4, 1, 1)  # red = 80 * t
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = write_video(f"{folder}/clip.mp4", frames, fps=4)
        ...     decoded = decode_frames(path, [0, 1, 2, 3])
        >>> path.name, decoded.shape  # read back channels first: (T, 3, H, W)
        ('clip.mp4', torch.Size([4, 3, 32, 48]))
        >>> (decoded[:, 0].float().mean(dim=(1, 2)) / 80).round().tolist()  # crf 18: near lossless
        [0.0, 1.0, 2.0, 3.0]
    """
    try:
        import av
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("write_video needs PyAV: pip install 'bgdebias[video]'") from error
    check_choice(codec, "codec", SUPPORTED_CODECS)
    check_int(fps, "fps", minimum=1)
    array = frames.cpu().numpy() if isinstance(frames, torch.Tensor) else np.asarray(frames)
    if array.ndim != 4 or array.shape[-1] != 3 or array.dtype != np.uint8:
        raise ValueError(
            "`frames` must be uint8 of shape (T, H, W, 3), "
            f"got dtype {array.dtype} and shape {tuple(array.shape)}"
        )
    _, height, width, _ = array.shape
    if height % 2 or width % 2 or array.shape[0] == 0:
        raise ValueError(
            f"`frames` needs T >= 1 and even H and W for yuv420p, got shape {tuple(array.shape)}"
        )
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(out), mode="w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        if codec in ("libx264", "libvpx-vp9"):
            stream.options = {"crf": str(crf)}
        else:
            stream.options = {"qscale": "2"}
        for frame in array:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out
