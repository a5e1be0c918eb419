"""``bgdebias heatmap``: what each block and the encoder see, as PNG strips and GIFs."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "heatmap",
        help="write heat maps (mask, mixed clip, salient map, activation map) for a checkpoint",
        description=(
            "For a checkpoint, write PNG strips and animated GIFs of the decoupler's mask "
            "and factors, the mixer's output, the salient map of the motion-aware "
            "decomposition and the backbone's activation map, on videos of your own "
            "(--video, two or more) or on synthetic test videos."
        ),
    )
    parser.add_argument("--checkpoint", required=True, help="checkpoint written by pretrain")
    parser.add_argument(
        "--video",
        action="append",
        default=[],
        help="a video file (repeat the option; the mixer needs two or more)",
    )
    parser.add_argument(
        "--num-videos",
        type=int,
        default=4,
        help="synthetic videos to show when no --video is given",
    )
    parser.add_argument("--output-dir", default="runs/heatmaps", help="where the images go")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from bgdebias.training import RunInterrupted
    from bgdebias.training.output_paths import check_writable_folder

    check_writable_folder(args.output_dir, name="--output-dir")
    try:
        out = _write(args)
    except RunInterrupted as interruption:
        saved = f"the heat maps in {args.output_dir} are incomplete"
        raise RunInterrupted(interruption.signum, saved=saved) from None
    print(f"heat maps: {out}")
    return 0


def _write(args: argparse.Namespace) -> Path:
    import torch

    from bgdebias.data import UniformClipSampler, VideoReader, eval_clip_transform
    from bgdebias.experiments.heatmaps import write_demo_heatmaps, write_heatmaps
    from bgdebias.training.loading import load_pretrained_encoder

    if not args.video:
        if args.num_videos < 2:
            raise ValueError(
                f"--num-videos must be >= 2 (the mixer needs a partner), got {args.num_videos}"
            )
        print(f"writing heat maps of {args.checkpoint} to {args.output_dir}", flush=True)
        return write_demo_heatmaps(args.checkpoint, args.output_dir, num_videos=args.num_videos)
    if len(args.video) < 2:
        raise ValueError("give at least two --video files (the mixer needs a partner)")
    encoder, config = load_pretrained_encoder(args.checkpoint)
    frames_per_clip = config.num_frames
    sampler = UniformClipSampler(frames_per_clip, stride=config.frame_stride, num_clips=1)
    size = config.size
    resize = eval_clip_transform(size, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
    clips = []
    for path in args.video:
        reader = VideoReader(path)
        try:
            frames = reader.get_frames(sampler(reader.num_frames)[0], short_video="loop")
        finally:
            reader.close()
        clips.append(resize(frames.permute(1, 0, 2, 3)))
    print(f"writing heat maps of {args.checkpoint} to {args.output_dir}", flush=True)
    return write_heatmaps(encoder, config, torch.stack(clips), args.output_dir)
