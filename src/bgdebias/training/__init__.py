"""Pretraining: the MoCo recipe with the debiasing blocks, its loop, checkpoints and
monitoring (callbacks, pictures, loss curve, online kNN accuracy)."""

from bgdebias.training.callbacks import PretrainCallback, PretrainRun
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
from bgdebias.training.fame import FAMEMoCo, fame_mixer
from bgdebias.training.interruption import RunInterrupted
from bgdebias.training.knn_monitor import KNNMonitor, knn_monitor_for, knn_top1
from bgdebias.training.loop import build_recipe, pretrain
from bgdebias.training.loss_curve import LOSS_COLUMNS, LossCurvePlot, plot_loss_curve
from bgdebias.training.pictures import (
    PictureLogger,
    PictureSink,
    tensorboard_picture_sink,
    training_pictures,
)
from bgdebias.training.progress import format_significant
from bgdebias.training.recipe import DebiasedMoCo, freeze_random_frame
from bgdebias.training.result import PretrainResult

__all__ = [
    "LOSS_COLUMNS",
    "METHODS",
    "CheckpointError",
    "DebiasEncoder",
    "DebiasedMoCo",
    "EncodedClips",
    "FAMEMoCo",
    "KNNMonitor",
    "LossCurvePlot",
    "PictureLogger",
    "PictureSink",
    "PretrainCallback",
    "PretrainConfig",
    "PretrainResult",
    "PretrainRun",
    "RunInterrupted",
    "TrainingDivergedError",
    "build_recipe",
    "fame_mixer",
    "format_significant",
    "freeze_random_frame",
    "knn_monitor_for",
    "knn_top1",
    "latest_checkpoint",
    "list_checkpoints",
    "load_checkpoint",
    "plot_loss_curve",
    "pretrain",
    "read_mapping",
    "save_checkpoint",
    "tensorboard_picture_sink",
    "training_pictures",
]
