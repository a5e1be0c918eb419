"""Pretrain several methods with the same budget and stress-test each for background bias.

Shared by ``bgdebias demo`` (plain MoCo against the full method) and the benchmark in
``benchmarks/bias_benchmark.py`` (every ablation, several seeds, references).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from bgdebias._validation import check_choice
from bgdebias.data.synthetic import MovingSpriteDataset
from bgdebias.evaluation import (
    BiasStressResult,
    NormalizedEncoder,
    StressSplits,
    background_bias_stress_test,
    make_stress_splits,
)
from bgdebias.training import (
    METHODS,
    PretrainConfig,
    build_backbone,
    latest_checkpoint,
    pretrain,
)
from bgdebias.training.data import SYNTHETIC_VIDEO_FRAMES
from bgdebias.training.interruption import stop_on_signals
from bgdebias.training.loading import load_pretrained_encoder
from bgdebias.training.run_folder import describe_run
from bgdebias.training.supervised import train_supervised

#: Reference encoders measured beside the pretraining methods.
REFERENCES = ("random", "supervised_biased", "supervised_independent")


@dataclass(frozen=True)
class MethodRun:
    """One method, one seed: its stress-test numbers and what it cost.

    Attributes:
        method: A pretraining method (``moco``, ``merge``, ...) or a reference.
        seed: The seed of the run.
        result: The stress-test numbers of its backbone.
        train_seconds: Wall time of training (0 for the random encoder).
        checkpoint: The last checkpoint, for pretraining methods.
        steps: Training steps the encoder ran (0 for the random encoder; ``None`` when not
            recorded).

    Example:
        See :func:`run_bias_comparison`, which returns them.
    """

    method: str
    seed: int
    result: BiasStressResult
    train_seconds: float
    checkpoint: str | None = None
    steps: int | None = None


def run_bias_comparison(
    methods: Sequence[str],
    *,
    seeds: Sequence[int] = (0,),
    base: PretrainConfig | None = None,
    output_dir: str | Path = "runs/comparison",
    splits: StressSplits | None = None,
    progress: bool = True,
    on_result: Callable[[MethodRun], None] | None = None,
    overwrite: bool = False,
    resume: bool = False,
) -> list[MethodRun]:
    """Train every method for every seed with the same budget, then stress-test it.

    Args:
        methods: Names from :data:`~bgdebias.training.METHODS` or :data:`REFERENCES`.
        seeds: One run per seed and method.
        base: Shared configuration (budget, data, optimiser); ``method``, ``seed`` and
            ``output_dir`` are set per run. Synthetic data only.
        output_dir: Parent folder of the runs (``<output_dir>/<method>-seed<k>``).
        splits: Stress-test datasets (default :func:`make_stress_splits` matching ``base``).
        progress: Show progress bars.
        on_result: Called after each run (e.g. to print or save incrementally).
        overwrite: Replace runs already in the run folders; without it (or ``resume``), a
            run folder that holds a run is refused before anything is trained.
        resume: Continue each pretraining run from the newest checkpoint in its run folder
            (a finished run is only loaded again); a run folder without a checkpoint starts
            anew. References are always recomputed.

    Returns:
        One :class:`MethodRun` per method and seed, in order.

    Raises:
        RunInterrupted: On SIGINT or SIGTERM: a pretraining run stops after its step with a
            checkpoint, an evaluation at once; the runs finished before were passed to
            ``on_result``, the interrupted one is not.

    Example:
        Two steps of plain MoCo against a random encoder, on tiny clips:

        >>> import tempfile
        >>> from bgdebias.evaluation import make_stress_splits
        >>> from bgdebias.training import PretrainConfig
        >>> folder = tempfile.TemporaryDirectory()
        >>> base = PretrainConfig(
        ...     steps=2, size=32, batch_size=4, synthetic_videos=8, queue_size=8,
        ...     hidden_dim=16, embed_dim=8, device="cpu",
        ... )
        >>> splits = make_stress_splits(train_length=16, test_length=8, size=32)
        >>> runs = run_bias_comparison(
        ...     ["moco", "random"], base=base, splits=splits, output_dir=folder.name,
        ...     progress=False,
        ... )
        >>> [(run.method, run.seed) for run in runs]
        [('moco', 0), ('random', 0)]
        >>> 0.0 <= runs[0].result.independent_probe.conflicting <= 1.0
        True
        >>> sorted(runs_by_method(runs))
        ['moco', 'random']
        >>> folder.cleanup()
    """
    base = (base or PretrainConfig()).resolved()
    unknown = [m for m in methods if m not in METHODS and m not in REFERENCES]
    if unknown:
        raise ValueError(f"unknown methods {unknown}; allowed: {', '.join(METHODS + REFERENCES)}")
    if overwrite and resume:
        raise ValueError("`overwrite` and `resume` exclude each other; choose one")
    if base.dataset != "synthetic":
        raise ValueError(f"the bias comparison runs on synthetic data, got {base.dataset!r}")
    if splits is None:
        splits = make_stress_splits(
            num_frames=base.num_frames or 8,
            size=base.size or 64,
            bias=base.synthetic_bias,
            backgrounds=base.synthetic_backgrounds,
            actor=base.synthetic_actor,
        )
    folders = {(m, s): Path(output_dir) / f"{m}-seed{s}" for s in seeds for m in methods}
    for (method, _), folder in folders.items():
        held = describe_run(folder) if method in METHODS else None
        if held is not None and not (overwrite or resume):  # all, before the first run trains
            raise ValueError(
                f"run folder {folder} already holds a run ({held}): choose another output "
                "folder (--output-dir), continue the runs (--resume) or replace them (--overwrite)"
            )
    runs = []
    with stop_on_signals():
        for seed in seeds:
            for method in methods:
                config = dataclasses.replace(base, seed=seed, output_dir=str(folders[method, seed]))
                run = _run_one(method, config, splits, progress, overwrite, resume)
                runs.append(run)
                if on_result is not None:
                    on_result(run)
    return runs


def _run_one(
    method: str,
    config: PretrainConfig,
    splits: StressSplits,
    progress: bool,
    overwrite: bool,
    resume: bool,
) -> MethodRun:
    started = time.perf_counter()
    checkpoint = None
    steps = config.steps
    backbone: nn.Module
    if method == "random":
        torch.manual_seed(config.seed)
        backbone = build_backbone(config.resolved())
        steps = 0
    elif method.startswith("supervised_"):
        split = method.removeprefix("supervised_")
        data = MovingSpriteDataset(
            split="train" if split == "biased" else "independent",
            length=config.synthetic_videos,
            num_frames=SYNTHETIC_VIDEO_FRAMES,
            size=config.size or 64,
            bias=config.synthetic_bias,
            seed=config.seed + 10_000,
            backgrounds=config.synthetic_backgrounds,
            actor=config.synthetic_actor,
        )
        backbone = train_supervised(data, config, num_classes=data.num_classes)
    else:
        # With `resume`, a folder that a killed run left without a checkpoint starts anew.
        continues = resume and latest_checkpoint(config.output_dir) is not None
        result = pretrain(
            dataclasses.replace(config, method=check_choice(method, "method", METHODS)),
            resume=continues,
            overwrite=overwrite or (resume and not continues),
            progress=progress,
        )
        checkpoint = str(result.checkpoint)
        steps = result.step
        encoder, _ = load_pretrained_encoder(result.checkpoint)
        backbone = encoder.backbone
    seconds = time.perf_counter() - started if method != "random" else 0.0
    stress = background_bias_stress_test(NormalizedEncoder(backbone), splits, seed=config.seed)
    return MethodRun(method, config.seed, stress, seconds, checkpoint, steps)


def runs_by_method(runs: Sequence[MethodRun]) -> dict[str, list[Any]]:
    """Group results by method (for :func:`~bgdebias.evaluation.format_results_table`).

    Args:
        runs: Runs of :func:`run_bias_comparison`.

    Returns:
        ``{method: [its BiasStressResult per seed]}`` in the order the methods first appear.

    Example:
        See :func:`run_bias_comparison`.
    """
    grouped: dict[str, list[Any]] = {}
    for run in runs:
        grouped.setdefault(run.method, []).append(run.result)
    return grouped
