"""Pretraining: the MoCo recipe with the debiasing blocks, its loop, checkpoints and
monitoring (callbacks, pictures, loss curve, online kNN accuracy)."""

from typing import TYPE_CHECKING

from bgdebias._lazy import lazy_exports

if TYPE_CHECKING:
    from bgdebias.training.callbacks import PretrainCallback, PretrainRun
    from bgdebias.training.checkpoint import (
        CheckpointError,
        ReadableCheckpoint,
        latest_checkpoint,
        list_checkpoints,
        load_checkpoint,
        save_checkpoint,
    )
    from bgdebias.training.config import (
        ARCHITECTURE_FIELDS,
        METHODS,
        MethodParts,
        PretrainConfig,
        ResolvedPretrainConfig,
        read_mapping,
    )
    from bgdebias.training.data import (
        SYNTHETIC_VIDEO_FRAMES,
        build_pretrain_dataset,
        collate_videos,
    )
    from bgdebias.training.device import pick_device
    from bgdebias.training.distributed import DistributedContext
    from bgdebias.training.divergence import TrainingDivergedError
    from bgdebias.training.encoder import DebiasEncoder, EncodedClips
    from bgdebias.training.export import ExportedBackbone, export_backbone
    from bgdebias.training.fame import FAMEMoCo, fame_mixer
    from bgdebias.training.interruption import RunInterrupted
    from bgdebias.training.knn_monitor import KNNMonitor, knn_monitor_for, knn_top1
    from bgdebias.training.loop import pretrain
    from bgdebias.training.loss_curve import LOSS_COLUMNS, LossCurvePlot, plot_loss_curve
    from bgdebias.training.memory_format import convolutions_to_channels_last
    from bgdebias.training.optim import build_optimizer, cosine_schedule
    from bgdebias.training.pictures import (
        PictureLogger,
        PictureSink,
        tensorboard_picture_sink,
        training_pictures,
    )
    from bgdebias.training.progress import format_significant
    from bgdebias.training.recipe import (
        DebiasedMoCo,
        build_backbone,
        build_mixer,
        build_recipe,
        freeze_random_frame,
    )
    from bgdebias.training.result import PretrainResult
    from bgdebias.training.sampler import StepBatchSampler
    from bgdebias.training.state import TrainingState
    from bgdebias.training.step import PretrainStep, train_step
    from bgdebias.training.supervised import train_supervised

__all__ = [
    "ARCHITECTURE_FIELDS",
    "LOSS_COLUMNS",
    "METHODS",
    "SYNTHETIC_VIDEO_FRAMES",
    "CheckpointError",
    "DebiasEncoder",
    "DebiasedMoCo",
    "DistributedContext",
    "EncodedClips",
    "ExportedBackbone",
    "FAMEMoCo",
    "KNNMonitor",
    "LossCurvePlot",
    "MethodParts",
    "PictureLogger",
    "PictureSink",
    "PretrainCallback",
    "PretrainConfig",
    "PretrainResult",
    "PretrainRun",
    "PretrainStep",
    "ReadableCheckpoint",
    "ResolvedPretrainConfig",
    "RunInterrupted",
    "StepBatchSampler",
    "TrainingDivergedError",
    "TrainingState",
    "build_backbone",
    "build_mixer",
    "build_optimizer",
    "build_pretrain_dataset",
    "build_recipe",
    "collate_videos",
    "convolutions_to_channels_last",
    "cosine_schedule",
    "export_backbone",
    "fame_mixer",
    "format_significant",
    "freeze_random_frame",
    "knn_monitor_for",
    "knn_top1",
    "latest_checkpoint",
    "list_checkpoints",
    "load_checkpoint",
    "pick_device",
    "plot_loss_curve",
    "pretrain",
    "read_mapping",
    "save_checkpoint",
    "tensorboard_picture_sink",
    "train_step",
    "train_supervised",
    "training_pictures",
]

# Imported on first use: the command line reads PretrainConfig for its options without torch.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        **dict.fromkeys(
            [
                "CheckpointError",
                "ReadableCheckpoint",
                "latest_checkpoint",
                "list_checkpoints",
                "load_checkpoint",
                "save_checkpoint",
            ],
            "bgdebias.training.checkpoint",
        ),
        **dict.fromkeys(
            [
                "ARCHITECTURE_FIELDS",
                "METHODS",
                "MethodParts",
                "PretrainConfig",
                "ResolvedPretrainConfig",
                "read_mapping",
            ],
            "bgdebias.training.config",
        ),
        **dict.fromkeys(
            ["SYNTHETIC_VIDEO_FRAMES", "build_pretrain_dataset", "collate_videos"],
            "bgdebias.training.data",
        ),
        **dict.fromkeys(["pick_device"], "bgdebias.training.device"),
        **dict.fromkeys(["DistributedContext"], "bgdebias.training.distributed"),
        **dict.fromkeys(["build_optimizer", "cosine_schedule"], "bgdebias.training.optim"),
        **dict.fromkeys(["StepBatchSampler"], "bgdebias.training.sampler"),
        **dict.fromkeys(["TrainingState"], "bgdebias.training.state"),
        **dict.fromkeys(["PretrainStep", "train_step"], "bgdebias.training.step"),
        **dict.fromkeys(["train_supervised"], "bgdebias.training.supervised"),
        **dict.fromkeys(["TrainingDivergedError"], "bgdebias.training.divergence"),
        **dict.fromkeys(["ExportedBackbone", "export_backbone"], "bgdebias.training.export"),
        **dict.fromkeys(["DebiasEncoder", "EncodedClips"], "bgdebias.training.encoder"),
        **dict.fromkeys(["FAMEMoCo", "fame_mixer"], "bgdebias.training.fame"),
        **dict.fromkeys(["RunInterrupted"], "bgdebias.training.interruption"),
        **dict.fromkeys(["PretrainCallback", "PretrainRun"], "bgdebias.training.callbacks"),
        **dict.fromkeys(
            ["KNNMonitor", "knn_monitor_for", "knn_top1"], "bgdebias.training.knn_monitor"
        ),
        **dict.fromkeys(["pretrain"], "bgdebias.training.loop"),
        **dict.fromkeys(["convolutions_to_channels_last"], "bgdebias.training.memory_format"),
        **dict.fromkeys(
            ["LOSS_COLUMNS", "LossCurvePlot", "plot_loss_curve"], "bgdebias.training.loss_curve"
        ),
        **dict.fromkeys(
            ["PictureLogger", "PictureSink", "tensorboard_picture_sink", "training_pictures"],
            "bgdebias.training.pictures",
        ),
        **dict.fromkeys(["format_significant"], "bgdebias.training.progress"),
        **dict.fromkeys(["PretrainResult"], "bgdebias.training.result"),
        **dict.fromkeys(
            [
                "DebiasedMoCo",
                "build_backbone",
                "build_mixer",
                "build_recipe",
                "freeze_random_frame",
            ],
            "bgdebias.training.recipe",
        ),
    },
)
