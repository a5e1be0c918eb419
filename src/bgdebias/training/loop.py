"""The pretraining loop: data, steps, logging, checkpoints, resume, signals."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset

from bgdebias.training.callbacks import CallbackList, PretrainCallback, PretrainRun
from bgdebias.training.checkpoint import (
    CheckpointError,
    ReadableCheckpoint,
    load_checkpoint,
    newest_readable_checkpoint,
    remove_unfinished_writes,
    set_aside_damaged,
)
from bgdebias.training.config import PretrainConfig
from bgdebias.training.data import build_pretrain_dataset, collate_videos
from bgdebias.training.device import pick_device
from bgdebias.training.distributed import init_distributed
from bgdebias.training.divergence import NonFiniteWatch, check_finite_weights
from bgdebias.training.interruption import RunInterrupted, deferred_signals
from bgdebias.training.knn_monitor import KNNMonitor, knn_monitor_for
from bgdebias.training.loss_curve import LossCurvePlot
from bgdebias.training.metrics_log import MetricsLog
from bgdebias.training.output_paths import check_writable_folder
from bgdebias.training.pictures import PictureLogger, tensorboard_picture_sink
from bgdebias.training.progress import format_significant, progress_bar
from bgdebias.training.result import PretrainResult
from bgdebias.training.run_folder import check_run_folder, clear_run
from bgdebias.training.sampler import StepBatchSampler
from bgdebias.training.step import PretrainStep

#: The columns of ``log.csv`` (a kNN monitor adds ``knn_top1``).
LOG_COLUMNS = ("step", "loss", "static", "wide", "micro", "lr", "momentum", "clips_per_s")


def pretrain(
    config: PretrainConfig,
    *,
    resume: bool | str = False,
    overwrite: bool = False,
    progress: bool = True,
    dataset: Dataset[Any] | None = None,
    stop_at_step: int | None = None,
    callbacks: Sequence[PretrainCallback] = (),
    knn_monitor: KNNMonitor | None = None,
) -> PretrainResult:
    """Run (or resume) a pretraining run described by ``config``.

    Args:
        config: The run's configuration; ``None`` fields take their defaults.
        resume: ``True`` continues from the newest readable checkpoint in
            ``config.output_dir``; a path continues from that checkpoint (into an empty
            ``output_dir``, or its own folder if it is the newest there). The architecture
            must match.
        overwrite: Start a new run in an ``output_dir`` that holds one, deleting that run's
            config, log and checkpoints once everything is checked. Without it (or
            ``resume``) a folder holding a run is refused.
        progress: Show a progress bar (main process only).
        dataset: Use this dataset of videos instead of building one from ``config``.
        stop_at_step: Stop (with a checkpoint) after this step, as an interruption would:
            schedules still run to ``config.steps``, so a later ``resume`` continues the
            same run.
        callbacks: :class:`~bgdebias.training.PretrainCallback` objects told of every
            step, log row and checkpoint (main process only), after the run's own: a
            :class:`~bgdebias.training.LossCurvePlot` (``loss.png``) and, with
            ``config.log_images_every``, a :class:`~bgdebias.training.PictureLogger`
            writing to TensorBoard.
        knn_monitor: Measure the kNN accuracy on labelled videos of your own during the run
            (:class:`~bgdebias.training.KNNMonitor`); it replaces the one that
            ``config.knn_every`` builds (:func:`~bgdebias.training.knn_monitor_for`).

    Returns:
        A :class:`~bgdebias.training.PretrainResult`.

    Raises:
        RunInterrupted: After SIGINT or SIGTERM: the run finishes its step, writes a
            checkpoint, then raises (a second signal ends the process at once).
        TrainingDivergedError: When the loss (checked at every log and checkpoint step) or a
            weight or batch-norm statistic (checked before each checkpoint) is inf or NaN;
            the checkpoints written before stay, none is written after.
        ValueError: For an ``output_dir`` that cannot be written or that holds a run
            (without ``resume`` or ``overwrite``), or for ``config.log_images_every``
            without TensorBoard installed, before anything is written.

    Example:
        A two-step run on tiny synthetic clips, then one more step resumed from its
        checkpoint:

        >>> import tempfile
        >>> from bgdebias.training import PretrainConfig, pretrain
        >>> folder = tempfile.TemporaryDirectory()
        >>> config = PretrainConfig(
        ...     steps=3, size=32, batch_size=4, synthetic_videos=8, queue_size=8,
        ...     hidden_dim=16, embed_dim=8, device="cpu", output_dir=folder.name,
        ... )
        >>> first = pretrain(config, progress=False, stop_at_step=2)
        >>> first.step, first.interrupted, first.checkpoint.name
        (2, True, 'checkpoint-00000002.pt')
        >>> pretrain(config, progress=False, resume=True).step
        3
        >>> folder.cleanup()
    """
    config = config.resolved()
    device = pick_device(config.device)
    context = init_distributed(device)
    if device.type == "cuda":
        device = torch.device("cuda", context.local_rank)
    output_dir = check_writable_folder(config.output_dir, name="`output_dir`")
    check_run_folder(output_dir, resume=resume, overwrite=overwrite)
    CallbackList(callbacks, enabled=False)  # checks them before anything is written
    if config.log_images_every and context.is_main:
        _require_tensorboard(config.log_images_every)
    monitor = knn_monitor
    if monitor is None and config.knn_every and context.is_main:
        monitor = knn_monitor_for(config)
    if not context.is_main:
        monitor = None

    train = PretrainStep.build(
        config,
        device,
        rank=context.rank,
        shuffle_keys=context.is_distributed and config.batchnorm == "shuffle",
    )
    state, recipe = train.state, train.recipe
    resumed = _resume_point(resume, output_dir) if resume else None
    if resumed is not None:
        state.restore(resumed, config)
    start_step = state.step
    if context.is_distributed and config.batchnorm == "sync":
        if device.type != "cuda":
            raise ValueError("`batchnorm='sync'` needs CUDA devices; use 'shuffle' on CPUs")
        nn.SyncBatchNorm.convert_sync_batchnorm(recipe)  # type: ignore[no-untyped-call]
    if context.is_distributed:
        ddp = DistributedDataParallel(
            recipe.query_encoder, device_ids=[device.index] if device.type == "cuda" else None
        )
        recipe.wrap_query_encoder(ddp)

    videos = dataset if dataset is not None else build_pretrain_dataset(config)
    sampler = StepBatchSampler(
        len(videos),  # type: ignore[arg-type]
        config.batch_size,
        seed=config.seed,
        start_step=start_step,
        steps=config.steps,
        context=context,
    )
    loader = DataLoader(
        videos,
        batch_sampler=sampler,
        num_workers=config.num_workers,
        collate_fn=collate_videos,
        pin_memory=device.type == "cuda",
        persistent_workers=False,
    )
    last_checkpoint = resumed.path if resumed is not None else None
    watch = NonFiniteWatch(device, distributed=context.is_distributed)
    recipe.train()
    if context.is_distributed:  # every process has checked the folder before it changes
        torch.distributed.barrier()
    # From the first write on, a signal stops the run with a checkpoint.
    with deferred_signals() as stop:
        if context.is_main:
            if overwrite:
                clear_run(output_dir)
            remove_unfinished_writes(output_dir)  # torn by a killed run
            if resumed is not None:
                set_aside_damaged(resumed.skipped)
            config.save(output_dir / "config.json")
        columns = [*LOG_COLUMNS, KNNMonitor.name] if monitor is not None else LOG_COLUMNS
        log = MetricsLog(
            output_dir, enabled=context.is_main, start_step=start_step, columns=columns
        )
        bar = progress_bar(progress and context.is_main, start_step, config.steps)
        own: list[PretrainCallback] = [LossCurvePlot()]
        if config.log_images_every and context.is_main:
            sink = tensorboard_picture_sink(log.tensorboard)
            own.append(PictureLogger(sink, every=config.log_images_every))
        hooks = CallbackList([*own, *callbacks], enabled=context.is_main)
        try:
            hooks.on_train_start(
                PretrainRun(config, output_dir, recipe, videos, device, start_step)
            )
            started = time.perf_counter()
            for batch in loader:
                out = train(batch)
                step = state.step
                watch.observe(out.total, step)
                measure = monitor is not None and monitor.due(step, last_step=config.steps)
                if step % config.log_every == 0 or step == config.steps or measure:
                    elapsed = time.perf_counter() - started
                    row = {
                        "step": step,
                        "loss": out.total.item(),
                        "static": out.static.item(),
                        "wide": out.wide.item(),
                        "micro": out.micro.item(),
                        "lr": float(state.scheduler.get_last_lr()[0]),
                        "momentum": train.momentum,
                        "clips_per_s": config.batch_size
                        * context.world_size
                        * (step - start_step)
                        / max(elapsed, 1e-9),
                    }
                    if monitor is not None and measure and math.isfinite(row["loss"]):
                        measuring = time.perf_counter()
                        row.update(monitor.measure(recipe.query_encoder.backbone))
                        started += time.perf_counter() - measuring  # not training time
                    log.write(row)
                    hooks.on_log(row)
                    bar.set_postfix(
                        loss=f"{row['loss']:.3f}", clips_s=format_significant(row["clips_per_s"])
                    )
                    watch.check(checkpoint=last_checkpoint, lr=config.lr)
                hooks.on_step(step)
                bar.update(1)
                stopping = stop.requested or (stop_at_step is not None and step >= stop_at_step)
                if step % config.checkpoint_every == 0 or step == config.steps or stopping:
                    # A diverged run keeps its last good checkpoint: nothing later is written.
                    watch.check(checkpoint=last_checkpoint, lr=config.lr)
                    check_finite_weights(
                        recipe, step=step, checkpoint=last_checkpoint, lr=config.lr
                    )
                    last_checkpoint = state.save(
                        output_dir, config, keep=config.keep_checkpoints, context=context
                    )
                    hooks.on_checkpoint(step, last_checkpoint)
                if stopping:
                    break
        finally:
            bar.close()
            log.close()
        if last_checkpoint is None:
            raise CheckpointError(f"no checkpoint was written to {output_dir}")
        if stop.signum is not None:
            raise RunInterrupted(
                stop.signum,
                saved=f"stopped at step {state.step} of {config.steps}; checkpoint: "
                f"{last_checkpoint} (continue with --resume)",
            )
    result = PretrainResult(
        output_dir, last_checkpoint, state.step, interrupted=state.step < config.steps
    )
    hooks.on_train_end(result)
    return result


def _resume_point(resume: bool | str, output_dir: Path) -> ReadableCheckpoint:
    if resume is True:
        found = newest_readable_checkpoint(output_dir)
        if found is None:
            raise CheckpointError(
                f"--resume: no checkpoint found in {output_dir} (start it anew with --overwrite)"
            )
        return found
    path = Path(str(resume))
    return ReadableCheckpoint(path, load_checkpoint(path), skipped=())


def _require_tensorboard(every: int) -> None:
    try:
        from torch.utils.tensorboard import SummaryWriter  # noqa: F401
    except ImportError:
        raise ValueError(
            f"`log_images_every` = {every} writes pictures to TensorBoard, which is not "
            "installed (pip install tensorboard); set it to 0, or pass a PictureLogger with "
            "a sink of your own in `callbacks`"
        ) from None
