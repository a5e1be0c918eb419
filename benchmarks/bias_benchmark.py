"""Background-bias benchmark: every ablation against plain MoCo on synthetic videos.

Same backbone, data, optimiser and number of steps for every method, several seeds; the
encoders are stress-tested with a probe trained on the biased split and one trained on
the independent split (see ``bgdebias.evaluation.background_bias_stress_test``).

Validity first: a supervised model trained on the ``independent`` split with the same
backbone, optimiser and budget must reach ``--validity-threshold`` on ``conflicting``;
otherwise motion is not learnable in this budget and no comparison can show anything, so
the benchmark stops (``--force`` runs it anyway and marks the table invalid).

    python benchmarks/bias_benchmark.py                 # full: 3 seeds
    python benchmarks/bias_benchmark.py --family photo  # photographs and a textured actor
    python benchmarks/bias_benchmark.py --quick         # one seed, few steps (CI smoke run)
    python benchmarks/bias_benchmark.py --no-frame-differences  # the previous backbone input
    python benchmarks/bias_benchmark.py --one-frame-still-keys  # the cheaper key pass
    python benchmarks/bias_benchmark.py --micro-negative-saliency own  # the earlier micro negatives

Families: ``procedural`` (procedural textures, the white disc), ``photo`` (crops of real
photographs that scikit-image bundles, and a disc with its own random texture per video,
moving with it), ``photo_disc`` (the photographs and the white disc) and ``photo_colour``
(the photographs and a disc of one random bright colour per video, so that the actor's
look identifies the video but not its class).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from bgdebias.evaluation import format_results_table, make_stress_splits, result_to_dict
from bgdebias.experiments import REFERENCES, MethodRun, run_bias_comparison, runs_by_method
from bgdebias.training import METHODS, PretrainConfig, RunInterrupted
from bgdebias.training.interruption import stop_on_signals

#: Benchmark families: (synthetic backgrounds, synthetic actor).
FAMILIES: dict[str, tuple[str, str]] = {
    "procedural": ("procedural", "disc"),
    "photo": ("photo", "textured"),
    "photo_disc": ("photo", "disc"),
    "photo_colour": ("photo", "colour"),
}

#: Methods run by default: every ablation on the first family, the baselines and the full
#: method on the second (to keep the whole benchmark near its one-hour target on 2 cores).
DEFAULT_METHODS: dict[str, tuple[str, ...]] = {
    "procedural": ("moco", "fame", "semi_negative", "merge_micro", "full"),
    "photo": ("moco", "fame", "full"),
    "photo_disc": ("moco", "fame", "full"),
    "photo_colour": ("moco", "fame", "full"),
}

TABLE_METRICS = (
    "biased_probe.aligned",
    "biased_probe.conflicting",
    "biased_probe.static",
    "biased_probe.bias_gap",
    "biased_probe.contrasted",
    "independent_probe.aligned",
    "independent_probe.conflicting",
    "independent_probe.static",
    "independent_probe.contrasted",
    "independent_retrieval_r1",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=300, help="training steps per run")
    parser.add_argument(
        "--methods",
        nargs="+",
        default=None,
        help="methods and references to run (default: the family's, see DEFAULT_METHODS)",
    )
    parser.add_argument("--family", choices=sorted(FAMILIES), default="procedural")
    parser.add_argument("--quick", action="store_true", help="1 seed, 3 steps, tiny splits")
    parser.add_argument("--validity-threshold", type=float, default=0.9)
    parser.add_argument("--force", action="store_true", help="compare even if invalid")
    parser.add_argument(
        "--frame-differences",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="small3d reads frame differences beside the frames (default: the config's, on)",
    )
    parser.add_argument(
        "--one-frame-still-keys",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="encode the motionless hard negatives from one frame each (default: the "
        "config's, off)",
    )
    parser.add_argument(
        "--micro-negative-saliency",
        choices=("own", "positive"),
        default=None,
        help="where the micro term's still hard negatives are pooled (default: the config's)",
    )
    parser.add_argument("--output-dir", default="runs/bias-benchmark")
    parser.add_argument("--json", default=None, help="write all results here")
    args = parser.parse_args(argv)
    progress: dict[str, Any] = {"details": {}, "finished": []}
    try:
        with stop_on_signals():
            return _benchmark(args, parser, progress)
    except RunInterrupted as interruption:
        # A signal ends the benchmark: the runs that finished stay, marked incomplete.
        finished = progress["finished"]
        print(f"{interruption}; {len(finished)} run(s) had finished", file=sys.stderr)
        if args.json:
            details = {**progress["details"], "complete": False}
            _write_json(
                args.json, {**details, "interrupted_by": interruption.signal_name}, finished
            )
            print(f"partial results (complete: false): {args.json}", file=sys.stderr)
        return interruption.exit_code


def _benchmark(
    args: argparse.Namespace, parser: argparse.ArgumentParser, progress: dict[str, Any]
) -> int:
    backgrounds, actor = FAMILIES[args.family]
    data: dict[str, Any] = {
        "synthetic_backgrounds": backgrounds,
        "synthetic_actor": actor,
        "frame_differences": args.frame_differences,
        "one_frame_still_keys": args.one_frame_still_keys,
    }
    if args.micro_negative_saliency is not None:
        data["micro_negative_saliency"] = args.micro_negative_saliency
    base = PretrainConfig(steps=args.steps, checkpoint_every=args.steps, device="auto", **data)
    splits = None
    if args.quick:
        args.seeds = args.seeds[:1]
        base = PretrainConfig.smoke(**data, steps=3, checkpoint_every=3)
        splits = make_stress_splits(
            train_length=16, test_length=8, size=32, backgrounds=backgrounds, actor=actor
        )
    output = Path(args.output_dir)
    started = time.perf_counter()
    finished: list[MethodRun] = progress["finished"]
    details: dict[str, Any] = progress["details"]
    details.update(family=args.family, config=base.resolved().to_dict())

    def report(run: MethodRun) -> None:
        print(
            f"[{time.perf_counter() - started:6.0f} s] {run.method} seed {run.seed} done "
            f"({run.train_seconds:.0f} s training)",
            flush=True,
        )
        finished.append(run)
        if args.json:  # after every run, so an interrupted benchmark keeps what it measured
            _write_json(args.json, {**details, "complete": False}, finished)

    validity = run_bias_comparison(
        ["supervised_independent"],
        seeds=args.seeds[:1],
        base=base,
        output_dir=output,
        splits=splits,
        progress=False,
        on_result=report,
        overwrite=True,  # a benchmark replaces its previous runs
    )
    reached = validity[0].result.independent_probe.conflicting
    valid = reached >= args.validity_threshold
    details.update(valid=valid, validity_conflicting=reached, seeds=args.seeds)
    print(
        f"validity: supervised on independent reaches {100 * reached:.1f}% on conflicting "
        f"(needs {100 * args.validity_threshold:.0f}%): {'valid' if valid else 'INVALID'}"
    )
    if not valid and not (args.force or args.quick):
        print("motion is not learnable with this budget: fix the setup before comparing")
        return 1
    chosen = args.methods if args.methods is not None else DEFAULT_METHODS[args.family]
    unknown = [m for m in chosen if m not in METHODS and m not in REFERENCES]
    if unknown:
        parser.error(f"unknown methods {unknown}; allowed: {', '.join(METHODS + REFERENCES)}")
    methods = list(chosen)
    runs = validity + run_bias_comparison(
        methods,
        seeds=args.seeds,
        base=base,
        output_dir=output,
        splits=splits,
        progress=False,
        on_result=report,
        overwrite=True,  # a benchmark replaces its previous runs
    )
    table = format_results_table(runs_by_method(runs), metrics=TABLE_METRICS)
    print(table)
    if args.json:
        _write_json(args.json, {**details, "complete": True, "table": table}, runs)
    return 0


def _write_json(path: str, details: dict[str, Any], runs: list[MethodRun]) -> None:
    """Write the results (atomically): ``details`` and one entry per finished run."""
    payload = {
        **details,
        "runs": [
            {
                "method": r.method,
                "seed": r.seed,
                "train_seconds": r.train_seconds,
                "result": result_to_dict(r.result),
            }
            for r in runs
        ],
    }
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_text(json.dumps(payload, indent=2) + "\n")
    os.replace(temporary, target)


if __name__ == "__main__":
    sys.exit(main())
