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
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from bgdebias.evaluation import format_results_table, save_results
    from bgdebias.experiments import run_bias_comparison, runs_by_method
    from bgdebias.experiments.heatmaps import write_demo_heatmaps
    from bgdebias.training import PretrainConfig

    if args.steps < 1:
        raise ValueError(f"--steps must be >= 1, got {args.steps}")
    output = Path(args.output_dir)
    base = PretrainConfig(steps=args.steps, device=args.device, checkpoint_every=args.steps)
    runs = run_bias_comparison(
        ["moco", "full"],
        seeds=[args.seed],
        base=base,
        output_dir=output,
        progress=not args.no_progress,
    )
    grouped = runs_by_method(runs)
    table = format_results_table(grouped, metrics=DEMO_METRICS)
    print(table)
    save_results({run.method: run.result for run in runs}, output / "results.json")
    (output / "results.txt").write_text(table + "\n")
    for run_ in runs:
        if run_.checkpoint is not None:
            written = write_demo_heatmaps(run_.checkpoint, output / "heatmaps" / run_.method)
            print(f"heat maps of {run_.method}: {written}")
    return 0
