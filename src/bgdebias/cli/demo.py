"""``bgdebias demo``: plain MoCo against the full method on synthetic background-bias data."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

#: The demo checkpoints every this many steps (a quarter of the run when it is shorter), so
#: a killed demo continues with ``--resume`` from close to where it stopped.
CHECKPOINT_EVERY = 50

#: Where an interrupted demo saves the methods that finished (``results.json`` is only
#: written when every method finished).
PARTIAL_RESULTS = "results-partial.json"
#: The result files a demo writes in its output folder.
RESULT_FILES = ("results.json", "results.txt", PARTIAL_RESULTS)


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "demo",
        help="pretrain plain MoCo and the full method on synthetic data and compare them",
        description=(
            "Pretrain plain MoCo and the full method with the same budget on the synthetic "
            "background-bias videos, stress-test both (aligned / conflicting / static "
            "splits, biased and independent linear probes), print the table, and write "
            "heat maps. The two trainings take 300 steps each (step times on 2 CPU cores: "
            "docs/benchmarks/speed.md)."
        ),
    )
    parser.add_argument("--steps", type=int, default=300, help="pretraining steps per method")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument(
        "--output-dir", default="runs/demo", help="where runs, results and heat maps go"
    )
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument(
        "--checkpoint-every",
        type=int,
        default=None,
        help=f"steps between checkpoints (default: {CHECKPOINT_EVERY}, or a quarter of a "
        "shorter run)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the runs and results of an earlier demo in --output-dir",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted demo in --output-dir: each run from its newest "
        "checkpoint, finished runs only re-tested",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    parser.set_defaults(run=run)


def checkpoint_interval(steps: int) -> int:
    """The demo's default steps between checkpoints: every 50, at least four per run.

    Example:
        >>> checkpoint_interval(300), checkpoint_interval(100), checkpoint_interval(2)
        (50, 25, 1)
    """
    return max(1, min(CHECKPOINT_EVERY, steps // 4))


def run(args: argparse.Namespace) -> int:
    from bgdebias.cli._demo_report import demo_results, format_demo_table
    from bgdebias.evaluation import save_results
    from bgdebias.experiments import MethodRun, run_bias_comparison
    from bgdebias.experiments.heatmaps import write_demo_heatmaps
    from bgdebias.training import PretrainConfig, RunInterrupted
    from bgdebias.training.output_paths import check_writable_folder

    if args.steps < 1:
        raise ValueError(f"--steps must be >= 1, got {args.steps}")
    if args.checkpoint_every is not None and args.checkpoint_every < 1:
        raise ValueError(f"--checkpoint-every must be >= 1, got {args.checkpoint_every}")
    if args.overwrite and args.resume:
        raise ValueError("--overwrite and --resume exclude each other; choose one")
    output = check_writable_folder(args.output_dir, name="--output-dir")
    earlier = [output / name for name in RESULT_FILES if (output / name).exists()]
    if earlier and not (args.overwrite or args.resume):
        raise ValueError(
            f"--output-dir {output} holds the results of an earlier demo "
            f"({', '.join(path.name for path in earlier)}): choose another --output-dir, "
            "continue it with --resume or replace it with --overwrite"
        )
    every = args.checkpoint_every or checkpoint_interval(args.steps)
    base = PretrainConfig(steps=args.steps, device=args.device, checkpoint_every=every)
    methods = ["moco", "full"]
    finished: list[MethodRun] = []

    def report(run_: MethodRun) -> None:
        finished.append(run_)
        print(f"{run_.method}: trained and stress-tested ({run_.train_seconds:.0f} s)", flush=True)

    print(f"pretraining {' and '.join(methods)}, {args.steps} steps each, in {output}", flush=True)
    try:
        runs = run_bias_comparison(
            methods,
            seeds=[args.seed],
            base=base,
            output_dir=output,
            progress=not args.no_progress,
            on_result=report,
            overwrite=args.overwrite,
            resume=args.resume,
        )
    except RunInterrupted:
        _remove(earlier)  # results of an earlier demo would pass for this one's
        _save_partial(output, finished, methods)
        raise
    table = format_demo_table(runs)
    print(table)
    _remove(earlier)
    save_results(demo_results(runs), output / "results.json")
    (output / "results.txt").write_text(table + "\n")
    for run_ in runs:
        if run_.checkpoint is not None:
            written = write_demo_heatmaps(run_.checkpoint, output / "heatmaps" / run_.method)
            print(f"heat maps of {run_.method}: {written}")
    return 0


def _remove(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def _save_partial(output: Path, finished: list[Any], methods: list[str]) -> None:
    """Print and save the methods that finished, marked incomplete (no results.json)."""
    from bgdebias.cli._demo_report import demo_results, format_demo_table
    from bgdebias.evaluation import save_results

    if not finished:
        return
    done = [run.method for run in finished]
    missing = [method for method in methods if method not in done]
    print(f"partial results (interrupted; not finished: {', '.join(missing)}):")
    print(format_demo_table(finished))
    partial = {"complete": False, "not_finished": missing, "results": demo_results(finished)}
    print(f"partial results: {save_results(partial, output / PARTIAL_RESULTS)}")
