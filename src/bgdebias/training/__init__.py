"""Pretraining: the MoCo recipe with the debiasing blocks, its loop and checkpoints."""

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
