"""``bgdebias evaluate``: the field's protocols on a pretrained checkpoint."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

# Spelled out, not imported: `bgdebias evaluate --help` must not import torch. A test holds
# them equal to bgdebias.experiments.PROTOCOLS and EVALUATION_DATASETS.
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
    from bgdebias.evaluation import format_results_table, save_results
    from bgdebias.experiments import evaluate_checkpoint
    from bgdebias.training import RunInterrupted
    from bgdebias.training.output_paths import check_writable_file

    for name in ("clips", "batch_size", "epochs", "k"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if args.output:
        check_writable_file(args.output, name="--output")

    def announce(protocol: str, dataset: str) -> None:
        print(f"evaluating {args.checkpoint}: protocol {protocol} on {dataset}", flush=True)

    try:
        evaluation = evaluate_checkpoint(
            args.checkpoint,
            protocol=args.protocol,
            dataset=args.dataset,
            root=args.root,
            annotations=args.annotations,
            fold=args.fold,
            missing_files=args.missing_files,
            clips=args.clips,
            batch_size=args.batch_size,
            epochs=args.epochs,
            k=args.k,
            num_workers=args.num_workers,
            device=args.device,
            on_start=announce,
        )
    except RunInterrupted as interruption:
        raise RunInterrupted(interruption.signum, saved="no results were written") from None
    print(format_results_table({evaluation.protocol: evaluation.result}))
    if args.output:
        print(f"results: {save_results(evaluation.result, Path(args.output))}")
    return 0
