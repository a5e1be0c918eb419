"""Pretraining: the MoCo recipe with the debiasing blocks, its loop and checkpoints."""

from typing import TYPE_CHECKING

from bgdebias._lazy import lazy_exports

if TYPE_CHECKING:
    from bgdebias.training.checkpoint import (
        CheckpointError,
        latest_checkpoint,
        list_checkpoints,
        load_checkpoint,
        save_checkpoint,
    )
    from bgdebias.training.config import METHODS, PretrainConfig, read_mapping
    from bgdebias.training.divergence import TrainingDivergedError
    from bgdebias.training.encoder import DebiasEncoder, EncodedClips
    from bgdebias.training.export import ExportedBackbone, export_backbone
    from bgdebias.training.fame import FAMEMoCo, fame_mixer
    from bgdebias.training.interruption import RunInterrupted
    from bgdebias.training.loop import PretrainResult, build_recipe, pretrain
    from bgdebias.training.recipe import DebiasedMoCo, freeze_random_frame

__all__ = [
    "METHODS",
    "CheckpointError",
    "DebiasEncoder",
    "DebiasedMoCo",
    "EncodedClips",
    "ExportedBackbone",
    "FAMEMoCo",
    "PretrainConfig",
    "PretrainResult",
    "RunInterrupted",
    "TrainingDivergedError",
    "build_recipe",
    "export_backbone",
    "fame_mixer",
    "freeze_random_frame",
    "latest_checkpoint",
    "list_checkpoints",
    "load_checkpoint",
    "pretrain",
    "read_mapping",
    "save_checkpoint",
]

# Imported on first use: the command line reads PretrainConfig for its options without torch.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        **dict.fromkeys(
            [
                "CheckpointError",
                "latest_checkpoint",
                "list_checkpoints",
                "load_checkpoint",
                "save_checkpoint",
            ],
            "bgdebias.training.checkpoint",
        ),
        **dict.fromkeys(["METHODS", "PretrainConfig", "read_mapping"], "bgdebias.training.config"),
        **dict.fromkeys(["TrainingDivergedError"], "bgdebias.training.divergence"),
        **dict.fromkeys(["ExportedBackbone", "export_backbone"], "bgdebias.training.export"),
        **dict.fromkeys(["DebiasEncoder", "EncodedClips"], "bgdebias.training.encoder"),
        **dict.fromkeys(["FAMEMoCo", "fame_mixer"], "bgdebias.training.fame"),
        **dict.fromkeys(["RunInterrupted"], "bgdebias.training.interruption"),
        **dict.fromkeys(["PretrainResult", "build_recipe", "pretrain"], "bgdebias.training.loop"),
        **dict.fromkeys(["DebiasedMoCo", "freeze_random_frame"], "bgdebias.training.recipe"),
    },
)
