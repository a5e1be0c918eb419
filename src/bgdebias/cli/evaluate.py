"""``bgdebias evaluate``: the field's protocols on a pretrained checkpoint."""

from __future__ import annotations

import argparse
import copy
from pathlib import Path
from typing import Any

PROTOCOLS = ("stress", "linear", "knn", "retrieval", "finetune")
DATASETS = ("synthetic", "ucf101", "hmdb51", "kinetics", "ssv2", "diving48", "folder")


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "evaluate",
        help="evaluate a checkpoint: bias stress test, linear probe, kNN, retrieval, fine-tune",
        description=(
            "Evaluate the query encoder of a pretraining checkpoint. 'stress' runs the "
            "background-bias stress test on the synthetic data (aligned / conflicting / "
            "static accuracy with a probe trained on the biased split and one trained on "
            "the independent split). The other protocols run on a video dataset's train and "
            "test split: linear probe on frozen features, kNN, retrieval R@1/5/10/20/50 "
            "(test queries against the train gallery, each centred by its own mean), or "
            "full fine-tuning; test videos are scored with --clips uniformly spaced clips "
            "(logits or features averaged)."
        ),
    )
    parser.add_argument("--checkpoint", required=True, help="checkpoint written by pretrain")
    parser.add_argument(
        "--protocol",
        choices=PROTOCOLS,
        default=None,
        help="default: stress for synthetic data, linear otherwise",
    )
    parser.add_argument(
        "--dataset",
        choices=DATASETS,
        default=None,
        help="default: the dataset the checkpoint was trained on",
    )
    parser.add_argument("--root", help="video folder of the dataset")
    parser.add_argument(
        "--annotations", help="folder of the split/annotation files (default: --root)"
    )
    parser.add_argument("--fold", type=int, default=1, help="official split (UCF101/HMDB51)")
    parser.add_argument(
        "--missing-files",
        choices=("raise", "skip"),
        default="raise",
        help="videos listed in the annotations but absent from --root: stop with an error "
        "naming them (raise) or leave them out with a warning (skip)",
    )
    parser.add_argument("--clips", type=int, default=10, help="test clips per video")
    parser.add_argument("--batch-size", type=int, default=16, help="videos per batch")
    parser.add_argument("--epochs", type=int, default=10, help="fine-tuning epochs")
    parser.add_argument("--k", type=int, default=20, help="neighbours of the kNN classifier")
    parser.add_argument("--num-workers", type=int, default=0, help="loader worker processes")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--output", help="JSON file for the results")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from bgdebias.evaluation import format_results_table, save_results
    from bgdebias.training import RunInterrupted
    from bgdebias.training.loading import load_pretrained_encoder
    from bgdebias.training.output_paths import check_writable_file

    for name in ("clips", "batch_size", "epochs", "k"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if args.output:
        check_writable_file(args.output, name="--output")
    encoder, config = load_pretrained_encoder(args.checkpoint)
    dataset = args.dataset or config.dataset
    protocol = args.protocol or ("stress" if dataset == "synthetic" else "linear")
    device = torch.device(
        "cuda"
        if args.device == "auto" and torch.cuda.is_available()
        else ("cpu" if args.device == "auto" else args.device)
    )
    if protocol != "stress":
        if dataset == "synthetic":
            raise ValueError(f"protocol {protocol!r} needs a video dataset (--dataset, --root)")
        if args.root is None:
            raise ValueError(f"--root is required for dataset {dataset!r}")
    try:
        print(f"evaluating {args.checkpoint}: protocol {protocol} on {dataset}", flush=True)
        if protocol == "stress":
            result: Any = _stress(encoder.backbone, config, dataset, args, device)
        else:
            result = _video_protocol(
                protocol, copy.deepcopy(encoder.backbone), config, dataset, args, device
            )
    except RunInterrupted as interruption:
        raise RunInterrupted(interruption.signum, saved="no results were written") from None
    print(format_results_table({protocol: result}))
    if args.output:
        print(f"results: {save_results(result, Path(args.output))}")
    return 0


def _stress(backbone: Any, config: Any, dataset: str, args: argparse.Namespace, device: Any) -> Any:
    from bgdebias.evaluation import background_bias_stress_test, make_stress_splits
    from bgdebias.experiments import NormalizedEncoder

    if dataset != "synthetic":
        raise ValueError(f"protocol 'stress' runs on the synthetic data, not {dataset!r}")
    splits = make_stress_splits(
        num_frames=config.num_frames, size=config.size, bias=config.synthetic_bias
    )
    return background_bias_stress_test(
        NormalizedEncoder(backbone.to(device)),
        splits,
        batch_size=args.batch_size,
        device=device,
        num_workers=args.num_workers,
        seed=config.seed,
    )


def _video_protocol(
    protocol: str, backbone: Any, config: Any, dataset: str, args: argparse.Namespace, device: Any
) -> Any:
    from bgdebias.data import UniformClipSampler, eval_clip_transform
    from bgdebias.data.datasets.registry import build_video_dataset
    from bgdebias.evaluation import (
        RETRIEVAL_KS,
        PooledFeatures,
        extract_features,
        fine_tune,
        knn_classify,
        linear_probe,
        retrieval_recall,
    )

    def split(name: str, clips: int) -> Any:
        sampler = UniformClipSampler(config.num_frames, stride=config.frame_stride, num_clips=clips)
        return build_video_dataset(
            dataset,
            args.root,
            split=name,  # type: ignore[arg-type]
            clip_sampler=sampler,
            annotations=args.annotations,
            fold=args.fold,
            transform=eval_clip_transform(config.size),
            missing_files=args.missing_files,
        )

    train, test = split("train", 1), split("test", args.clips)
    encoder = PooledFeatures(backbone.to(device))
    if protocol == "finetune":
        return fine_tune(
            encoder,
            train,
            test,
            num_classes=len(train.classes),
            epochs=args.epochs,
            batch_size=args.batch_size,
            device=device,
        )
    options = {"batch_size": args.batch_size, "device": device, "num_workers": args.num_workers}
    train_features = extract_features(encoder, train, **options)
    test_features = extract_features(encoder, test, **options)
    if protocol == "linear":
        return linear_probe(train_features, test_features)
    gallery, gallery_labels = train_features.video_mean(), train_features.video_labels()
    query, query_labels = test_features.video_mean(), test_features.video_labels()
    if protocol == "knn":
        return knn_classify(query, query_labels, gallery, gallery_labels, k=args.k)
    ks = tuple(k for k in RETRIEVAL_KS if k <= gallery.shape[0]) or (gallery.shape[0],)
    return retrieval_recall(query, query_labels, gallery, gallery_labels, ks=ks)
