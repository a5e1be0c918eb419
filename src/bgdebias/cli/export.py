"""``bgdebias export``: a checkpoint's backbone alone, as a plain torchvision state dict."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "export",
        help="write a checkpoint's backbone alone, loadable into the plain torchvision model",
        description=(
            "Write the query encoder's backbone of a pretraining checkpoint as a plain state "
            "dict: it loads with strict=True into torchvision's model (weights=None) once "
            "its classifier (fc; classifier for s3d) is set to torch.nn.Identity(), or into "
            "bgdebias.models.Small3DCNN for small3d. The facts needed to use it (backbone, "
            "temporal padding, step, Small3DCNN options) go to OUTPUT.json."
        ),
    )
    parser.add_argument("checkpoint", metavar="CHECKPOINT", help="checkpoint written by pretrain")
    parser.add_argument("output", metavar="OUTPUT", help="state dict to write (e.g. backbone.pt)")
    parser.add_argument(
        "--key-encoder",
        action="store_true",
        help="export the momentum key encoder's backbone instead of the query encoder's",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace OUTPUT and OUTPUT.json if they exist"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from bgdebias.training.export import backbone_metadata_path, export_backbone

    files = (Path(args.output), backbone_metadata_path(args.output))
    existing = [path for path in files if path.is_file()]
    if existing and not args.overwrite:
        names = " and ".join(str(path) for path in existing)
        raise ValueError(f"{names} already exist(s); pass --overwrite to replace them")
    exported = export_backbone(
        args.checkpoint, args.output, key_encoder=args.key_encoder, overwrite=args.overwrite
    )
    print(
        f"wrote the {exported.encoder} encoder's {exported.backbone} backbone "
        f"(step {exported.step}) to {exported.path}; facts in {exported.metadata_path}"
    )
    if exported.head is not None:
        print(
            f"load it into torchvision.models.video.{exported.backbone}(weights=None) after "
            f"model.{exported.head} = torch.nn.Identity() (the export holds no classifier)"
        )
        if exported.temporal_padding == "replicate":
            print(
                "trained with replicate temporal padding: apply "
                "bgdebias.models.replicate_temporal_padding(model) for the same features"
            )
    else:
        options = ", ".join(f"{key}={value!r}" for key, value in exported.model_options.items())
        print(f"load it into bgdebias.models.Small3DCNN({options})")
    return 0
