"""The pretraining loop: data, optimiser, schedules, logging, checkpoints, resume, signals."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset

from bgdebias.losses import DualBackgroundLoss
from bgdebias.moco import cosine_momentum
from bgdebias.models import replicate_temporal_padding, video_backbone
from bgdebias.training.callbacks import CallbackList, PretrainCallback, PretrainRun
from bgdebias.training.checkpoint import (
    CheckpointError,
    ReadableCheckpoint,
    checkpoint_path,
    load_checkpoint,
    model_state,
    newest_readable_checkpoint,
    remove_unfinished_writes,
    save_checkpoint,
    set_aside_damaged,
)
from bgdebias.training.config import PretrainConfig, architecture_mismatch, require
from bgdebias.training.data import build_pretrain_dataset, collate_videos
from bgdebias.training.distributed import DistributedContext, init_distributed
from bgdebias.training.divergence import NonFiniteWatch, check_finite_weights
from bgdebias.training.encoder import DebiasEncoder
from bgdebias.training.fame import FAMEMoCo, fame_mixer
from bgdebias.training.interruption import RunInterrupted, deferred_signals
from bgdebias.training.knn_monitor import KNNMonitor, knn_monitor_for
from bgdebias.training.loss_curve import LossCurvePlot
from bgdebias.training.metrics_log import MetricsLog
from bgdebias.training.output_paths import check_writable_folder
from bgdebias.training.pictures import PictureLogger, tensorboard_picture_sink
from bgdebias.training.progress import format_significant, progress_bar
from bgdebias.training.recipe import DebiasedMoCo, HardNegative, build_mixer
from bgdebias.training.result import PretrainResult
from bgdebias.training.run_folder import check_run_folder, clear_run
from bgdebias.training.views import view_augmentation

#: The columns of ``log.csv`` (a kNN monitor adds ``knn_top1``).
LOG_COLUMNS = ("step", "loss", "static", "wide", "micro", "lr", "momentum", "clips_per_s")


#: The recipe's hard negatives for each value of ``PretrainConfig.hard_negative``.
HARD_NEGATIVE_SETS: dict[str, tuple[HardNegative, ...]] = {
    "background": ("background",),
    "frozen": ("frozen",),
    "both": ("background", "frozen"),
    "reversed": ("reversed",),
    "all": ("background", "frozen", "reversed"),
}


def build_recipe(config: PretrainConfig) -> DebiasedMoCo:
    """Assemble the model of a (resolved) configuration from the public blocks.

    Args:
        config: A resolved configuration (:meth:`PretrainConfig.resolved`).

    Returns:
        The recipe: query and key encoders, mixer (unless ``method="moco"``), loss, queues.

    Example:
        >>> from bgdebias.training import PretrainConfig, build_recipe
        >>> recipe = build_recipe(PretrainConfig(method="moco").resolved())
        >>> recipe.mixer is None, recipe.query_encoder.backbone.name
        (True, 'small3d')
        >>> build_recipe(PretrainConfig().resolved()).mixer is not None  # method "full"
        True
    """
    use_mixer, hard_negative, micro, micro_on_mixed = config.parts
    name = require(config.backbone, "backbone")
    options: dict[str, Any] = {}
    if name == "small3d":
        options["temporal_padding"] = config.temporal_padding
    backbone = video_backbone(name, stage=config.stage, **options)
    if config.temporal_padding == "replicate":
        replicate_temporal_padding(backbone)
    encoder = DebiasEncoder(
        backbone, embed_dim=config.embed_dim, hidden_dim=config.hidden_dim, micro=micro
    )
    queue_size = require(config.queue_size, "queue_size")
    if config.method == "fame":
        return FAMEMoCo(
            encoder,
            mixer=fame_mixer(beta=config.beta),
            temperature=config.temperature,
            queue_size=queue_size,
        )
    loss = DualBackgroundLoss(
        temperature=config.temperature,
        w_static=require(config.w_static, "w_static"),
        w_wide=config.w_wide if use_mixer else 0.0,
        w_micro=config.w_micro if micro else 0.0,
        hard_negatives_in_static=config.static_hard_negatives,
        # The loop checks the loss itself (training/divergence.py) without a host sync per
        # step, and names the step and the last good checkpoint.
        check_finite=False,
    )
    mixer = None
    if use_mixer:
        mixer = build_mixer(
            mask_mode=config.mask_mode,
            threshold=config.threshold,
            beta=config.beta,
            mix_prob=config.mix_prob,
        )
    kinds: tuple[HardNegative, ...] = ()
    if hard_negative:
        kinds = HARD_NEGATIVE_SETS[config.hard_negative]
    return DebiasedMoCo(
        encoder,
        mixer=mixer,
        hard_negatives=kinds,
        micro_on_mixed=micro_on_mixed,
        mix_view=config.mix_view,
        loss=loss,
        queue_size=queue_size,
    )


def build_optimizer(config: PretrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    """SGD (momentum 0.9) or AdamW over the trainable parameters."""
    lr = require(config.lr, "lr")
    weight_decay = require(config.weight_decay, "weight_decay")
    parameters = [p for p in model.parameters() if p.requires_grad]
    if config.optimizer == "sgd":
        return torch.optim.SGD(parameters, lr=lr, momentum=0.9, weight_decay=weight_decay)
    return torch.optim.AdamW(parameters, lr=lr, weight_decay=weight_decay)


def cosine_schedule(
    optimizer: torch.optim.Optimizer, *, steps: int, warmup_steps: int
) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up, then cosine decay to zero at ``steps``."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = (step - warmup_steps) / max(1, steps - warmup_steps)
        return 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


class StepBatchSampler:
    """Batches of indices as a pure function of (seed, epoch, rank): resumable at any step.

    Each epoch is a permutation drawn from ``seed + epoch``; ranks take disjoint
    interleaved shards; incomplete batches are dropped.
    """

    def __init__(
        self,
        size: int,
        batch_size: int,
        *,
        seed: int,
        start_step: int,
        steps: int,
        context: DistributedContext,
    ) -> None:
        self.size, self.batch_size, self.seed = size, batch_size, seed
        self.start_step, self.steps, self.context = start_step, steps, context
        self.per_epoch = size // (batch_size * context.world_size)
        if self.per_epoch == 0:
            raise ValueError(
                f"the dataset has {size} videos, fewer than one batch of {batch_size} "
                f"per process ({context.world_size} processes)"
            )

    def __len__(self) -> int:
        return self.steps - self.start_step

    def __iter__(self) -> Iterator[list[int]]:
        for step in range(self.start_step, self.steps):
            epoch, position = divmod(step, self.per_epoch)
            order = torch.randperm(
                self.size, generator=torch.Generator().manual_seed(self.seed + epoch)
            )
            shard = order[self.context.rank :: self.context.world_size]
            yield shard[position * self.batch_size : (position + 1) * self.batch_size].tolist()


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
    batch_size = require(config.batch_size, "batch_size")
    base_momentum = require(config.momentum, "momentum")
    device = _pick_device(config.device)
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

    torch.manual_seed(config.seed)
    recipe = build_recipe(config).to(device)
    optimizer = build_optimizer(config, recipe.query_encoder)
    scheduler = cosine_schedule(
        optimizer, steps=config.steps, warmup_steps=require(config.warmup_steps, "warmup_steps")
    )
    generator = torch.Generator().manual_seed(config.seed * 1000 + context.rank + 1)
    shuffle_generator = torch.Generator().manual_seed(config.seed + 7919)
    start_step = 0
    resumed = _resume_point(resume, output_dir) if resume else None
    if resumed is not None:
        start_step = _restore(
            resumed, config, recipe, optimizer, scheduler, generator, shuffle_generator
        )
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
        batch_size,
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
    autocast = (
        torch.autocast("cuda", dtype=torch.bfloat16)
        if config.amp and device.type == "cuda"
        else nullcontext()
    )
    augment = view_augmentation(config)
    # FAME merges before the colour augmentation, whatever `mix_colours` says.
    mix_raw = config.mix_colours == "raw" or config.method == "fame"
    shuffle_keys = context.is_distributed and config.batchnorm == "shuffle"
    step = start_step
    last_checkpoint = resumed.path if resumed is not None else None
    watch = NonFiniteWatch(device, distributed=context.is_distributed)
    lr = require(config.lr, "lr")
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
                videos = batch.to(device, non_blocking=True)
                if mix_raw:
                    query_view, key_view = augment.geometric(videos, generator)
                else:
                    query_view, key_view = augment(videos, generator)
                with autocast:
                    out = recipe(
                        query_view,
                        key_view,
                        generator=generator,
                        shuffle_generator=shuffle_generator if shuffle_keys else None,
                        photometric=augment.photometric if mix_raw else None,
                    )
                optimizer.zero_grad(set_to_none=True)
                out.total.backward()
                optimizer.step()
                scheduler.step()
                momentum = cosine_momentum(step, config.steps, base=base_momentum)
                recipe.update_key_encoder(momentum)
                step += 1
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
                        "lr": scheduler.get_last_lr()[0],
                        "momentum": momentum,
                        "clips_per_s": batch_size
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
                    watch.check(step=step, checkpoint=last_checkpoint, lr=lr)
                hooks.on_step(step)
                bar.update(1)
                stopping = stop.requested or (stop_at_step is not None and step >= stop_at_step)
                if step % config.checkpoint_every == 0 or step == config.steps or stopping:
                    # A diverged run keeps its last good checkpoint: nothing later is written.
                    watch.check(step=step, checkpoint=last_checkpoint, lr=lr)
                    check_finite_weights(recipe, step=step, checkpoint=last_checkpoint, lr=lr)
                    last_checkpoint = _save(
                        output_dir,
                        config,
                        step,
                        recipe,
                        optimizer,
                        scheduler,
                        generator,
                        shuffle_generator,
                        context,
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
                saved=f"stopped at step {step} of {config.steps}; checkpoint: {last_checkpoint} "
                "(continue with --resume)",
            )
    result = PretrainResult(output_dir, last_checkpoint, step, interrupted=step < config.steps)
    hooks.on_train_end(result)
    return result


def _pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def _save(
    output_dir: Path,
    config: PretrainConfig,
    step: int,
    recipe: DebiasedMoCo,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LambdaLR,
    generator: torch.Generator,
    shuffle_generator: torch.Generator,
    context: DistributedContext,
) -> Path:
    if not context.is_main:
        if context.is_distributed:
            torch.distributed.barrier()
        return checkpoint_path(output_dir, step)
    state = {
        "step": step,
        "config": config.to_dict(),
        "model": recipe.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "generator": generator.get_state(),
        "shuffle_generator": shuffle_generator.get_state(),
        "torch_rng": torch.get_rng_state(),
    }
    path = save_checkpoint(state, output_dir, step, keep=config.keep_checkpoints)
    if context.is_distributed:
        torch.distributed.barrier()
    return path


#: What a checkpoint needs besides the weights to continue a run exactly.
_RESUME_ENTRIES = (
    "config",
    "optimizer",
    "scheduler",
    "generator",
    "shuffle_generator",
    "torch_rng",
)


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


def _restore(
    resumed: ReadableCheckpoint,
    config: PretrainConfig,
    recipe: DebiasedMoCo,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LambdaLR,
    generator: torch.Generator,
    shuffle_generator: torch.Generator,
) -> int:
    path, state = resumed.path, resumed.state
    missing = [key for key in _RESUME_ENTRIES if key not in state]
    if missing:
        raise CheckpointError(f"checkpoint {path} cannot resume a run: it has no {missing} entries")
    mismatches = architecture_mismatch(state["config"], config)
    if mismatches:
        raise CheckpointError(
            f"checkpoint {path} was made with another configuration: " + "; ".join(mismatches)
        )
    recipe.load_state_dict(model_state(state, path))
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    generator.set_state(state["generator"])
    shuffle_generator.set_state(state["shuffle_generator"])
    torch.set_rng_state(state["torch_rng"])
    return int(state["step"])


def _require_tensorboard(every: int) -> None:
    try:
        from torch.utils.tensorboard import SummaryWriter  # noqa: F401
    except ImportError:
        raise ValueError(
            f"`log_images_every` = {every} writes pictures to TensorBoard, which is not "
            "installed (pip install tensorboard); set it to 0, or pass a PictureLogger with "
            "a sink of your own in `callbacks`"
        ) from None
