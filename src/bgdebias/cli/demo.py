"""``bgdebias demo``: plain MoCo against the full method on synthetic background-bias data."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

#: Metrics shown in the demo's table (fractions printed as percentages).
DEMO_METRICS = (
    "biased_probe.aligned",
    "biased_probe.conflicting",
    "biased_probe.static",
    "biased_probe.bias_gap",
    "independent_probe.conflicting",
    "independent_probe.static",
    "independent_probe.contrasted",
)

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
        "--overwrite",
        action="store_true",
        help="replace the runs and results of an earlier demo in --output-dir",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from bgdebias.evaluation import format_results_table, save_results
    from bgdebias.experiments import MethodRun, run_bias_comparison, runs_by_method
    from bgdebias.experiments.heatmaps import write_demo_heatmaps
    from bgdebias.training import PretrainConfig, RunInterrupted
    from bgdebias.training.output_paths import check_writable_folder

    if args.steps < 1:
        raise ValueError(f"--steps must be >= 1, got {args.steps}")
    output = check_writable_folder(args.output_dir, name="--output-dir")
    earlier = [output / name for name in RESULT_FILES if (output / name).exists()]
    if earlier and not args.overwrite:
        raise ValueError(
            f"--output-dir {output} holds the results of an earlier demo "
            f"({', '.join(path.name for path in earlier)}): choose another --output-dir or "
            "replace them with --overwrite"
        )
    base = PretrainConfig(steps=args.steps, device=args.device, checkpoint_every=args.steps)
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
        )
    except RunInterrupted:
        _remove(earlier)  # results of an earlier demo would pass for this one's
        _save_partial(output, finished, methods)
        raise
    grouped = runs_by_method(runs)
    table = format_results_table(grouped, metrics=DEMO_METRICS)
    print(table)
    _remove(earlier)
    save_results({run.method: run.result for run in runs}, output / "results.json")
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
    from bgdebias.evaluation import format_results_table, save_results
    from bgdebias.experiments import runs_by_method

    if not finished:
        return
    done = [run.method for run in finished]
    missing = [method for method in methods if method not in done]
    print(f"partial results (interrupted; not finished: {', '.join(missing)}):")
    print(format_results_table(runs_by_method(finished), metrics=DEMO_METRICS))
    partial = {
        "complete": False,
        "not_finished": missing,
        "results": {run.method: run.result for run in finished},
    }
    print(f"partial results: {save_results(partial, output / PARTIAL_RESULTS)}")
