"""Is motion learnable at all? A supervised reference on the synthetic moving-sprite videos.

Trains the pretraining backbone (``small3d`` by default) plus a linear head with labels on
the ``independent`` split (background family drawn independently of the class; 12-frame
videos, indices disjoint from the test videos as in
:func:`~bgdebias.evaluation.make_stress_splits`), with the pretraining run's optimiser,
learning-rate schedule, batch size and augmentation (one view of
:class:`~bgdebias.training.views.ClipViewAugmentation`), as
:func:`~bgdebias.experiments.train_supervised` does. Every ``--eval-every`` steps it reports
the video-level accuracy of the model's own head on the 8-frame ``aligned``,
``conflicting`` and ``static`` test videos (whole videos, normalised, no augmentation).

The project's validity rule: >= 90 % on ``conflicting`` within the pretraining budget, and
about chance (12.5 % for 8 classes) on ``static``.

Run from the repository root::

    python benchmarks/learnability.py                    # 300 steps, seeds 0 1 2
    python benchmarks/learnability.py --seeds 0 --steps 100 --eval-every 50   # smoke run
    python benchmarks/learnability.py --backgrounds photo --actor colour --seeds 0
    python benchmarks/learnability.py --backgrounds photo --actor textured --no-frame-differences

``--backgrounds`` and ``--actor`` choose the benchmark family's data (see
:class:`~bgdebias.data.synthetic.MovingSpriteDataset`), so a new family can be checked for
learnability before any self-supervised method runs on it.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from bgdebias.data.transforms import NormalizeClip
from bgdebias.evaluation import make_stress_splits
from bgdebias.training import (
    SYNTHETIC_VIDEO_FRAMES,
    PretrainConfig,
    ResolvedPretrainConfig,
    TrainingState,
    build_backbone,
    train_step,
)
from bgdebias.training.views import view_augmentation

TEST_SPLITS = ("aligned", "conflicting", "static")


def _test_clips(
    config: ResolvedPretrainConfig, test_length: int
) -> dict[str, tuple[Tensor, Tensor]]:
    splits = make_stress_splits(
        num_frames=config.num_frames,
        size=config.size,
        test_length=test_length,
        backgrounds=config.synthetic_backgrounds,
        actor=config.synthetic_actor,
    )
    normalize = NormalizeClip()
    clips = {}
    for name in TEST_SPLITS:
        batch = getattr(splits, name).batch(range(test_length))
        clips[name] = (normalize(batch.clip), batch.label)
    return clips


@torch.no_grad()
def _accuracies(model: nn.ModuleDict, clips: dict[str, tuple[Tensor, Tensor]]) -> dict[str, float]:
    model.eval()
    result = {}
    for name, (videos, labels) in clips.items():
        predicted = torch.cat(
            [
                model["head"](model["backbone"](videos[i : i + 64]).pooled).argmax(dim=1)
                for i in range(0, len(videos), 64)
            ]
        )
        result[name] = float((predicted == labels).float().mean()) * 100
    model.train()
    return result


def run(
    config: PretrainConfig,
    *,
    train_videos: int,
    test_clips: dict[str, tuple[Tensor, Tensor]],
    eval_every: int,
) -> list[tuple[int, float, dict[str, float]]]:
    """One supervised run; returns ``(step, mean recent loss, accuracies)`` per evaluation."""
    config = config.resolved()
    torch.manual_seed(config.seed)
    backbone = build_backbone(config)
    model = nn.ModuleDict({"backbone": backbone, "head": nn.Linear(backbone.embed_dim, 8)})
    state = TrainingState.start(config, model)
    augment = view_augmentation(config, num_views=1)
    test_length = len(next(iter(test_clips.values()))[1])
    train = make_stress_splits(
        num_frames=SYNTHETIC_VIDEO_FRAMES,
        size=config.size,
        train_length=train_videos,
        test_length=test_length,
        backgrounds=config.synthetic_backgrounds,
        actor=config.synthetic_actor,
    ).independent_train
    order = torch.Generator().manual_seed(config.seed)
    batch_size = config.batch_size
    permutation, position = torch.randperm(train_videos, generator=order), 0
    losses: list[float] = []
    rows = []
    model.train()
    for step in range(1, config.steps + 1):
        if position + batch_size > train_videos:
            permutation, position = torch.randperm(train_videos, generator=order), 0
        indices = permutation[position : position + batch_size].tolist()
        position += batch_size
        batch = train.dataset.batch([train.indices[i] for i in indices])  # type: ignore[attr-defined]
        (clips,) = augment(batch.clip, state.generator)
        loss = F.cross_entropy(model["head"](backbone(clips).pooled), batch.label)
        train_step(state, loss)
        losses.append(float(loss.detach()))
        if step % eval_every == 0 or step == config.steps:
            recent = losses[-eval_every:]
            rows.append((step, sum(recent) / len(recent), _accuracies(model, test_clips)))
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--eval-every", type=int, default=50)
    parser.add_argument("--train-videos", type=int, default=2048)
    parser.add_argument("--test-videos", type=int, default=256)
    parser.add_argument("--lr", type=float, default=None, help="default: the config's")
    parser.add_argument("--warmup-steps", type=int, default=None, help="default: the config's")
    parser.add_argument("--flip-p", type=float, default=None, help="default: the config's")
    parser.add_argument("--min-crop-scale", type=float, default=None, help="default: the config's")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--frame-differences",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="small3d reads frame differences beside the frames (default: the config's, on)",
    )
    parser.add_argument(
        "--backgrounds", choices=("procedural", "photo"), default="procedural", help="scenes"
    )
    parser.add_argument(
        "--actor", choices=("disc", "textured", "colour"), default="disc", help="actor"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    config = PretrainConfig(
        steps=args.steps,
        lr=args.lr,
        warmup_steps=args.warmup_steps,
        flip_p=args.flip_p,
        min_crop_scale=args.min_crop_scale,
        synthetic_backgrounds=args.backgrounds,
        synthetic_actor=args.actor,
        frame_differences=args.frame_differences,
    ).resolved()
    print(
        f"backbone={config.backbone} lr={config.lr} warmup_steps={config.warmup_steps} "
        f"flip_p={config.flip_p} min_crop_scale={config.min_crop_scale} "
        f"batch_size={config.batch_size} steps={config.steps} clips={config.num_frames}x"
        f"{config.size}x{config.size} train_videos={args.train_videos} "
        f"test_videos={args.test_videos} backgrounds={args.backgrounds} actor={args.actor} "
        f"frame_differences={config.frame_differences}",
        flush=True,
    )
    test_clips = _test_clips(config, args.test_videos)
    print("| seed | step | train loss | aligned % | conflicting % | static % |")
    print("|---:|---:|---:|---:|---:|---:|")
    for seed in args.seeds:
        started = time.perf_counter()
        rows = run(
            dataclasses.replace(config, seed=seed),
            train_videos=args.train_videos,
            test_clips=test_clips,
            eval_every=args.eval_every,
        )
        for step, loss, accuracy in rows:
            print(
                f"| {seed} | {step} | {loss:.3f} | "
                + " | ".join(f"{accuracy[name]:.1f}" for name in TEST_SPLITS)
                + " |",
                flush=True,
            )
        print(f"seed {seed}: {time.perf_counter() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
