"""Turn ``bias_benchmark.py --json`` results into the docs' table, target check and bar plot.

One results file (one benchmark family) per invocation:

    python benchmarks/bias_benchmark.py --json bias.json
    python benchmarks/bias_report.py bias.json --markdown bias_table.md --svg bias.svg
    python benchmarks/bias_benchmark.py --family photo --json bias_photo.json
    python benchmarks/bias_report.py bias_photo.json --markdown photo.md --svg photo.svg

The Markdown holds two sections, each headed by the family (the JSON's ``family``, or
``procedural`` for files written before families; ``--title`` overrides it): one row per
method (mean +- standard deviation over seeds, in %), and the issue's targets for the full
method (absolute, against plain MoCo, against FAME and against its ablations; see
:func:`check_targets`) with the measured values. Methods that did not run are left out, and
so are the targets that need them. The SVG is a grouped bar chart with one bar per probe
split and the seeds' standard deviation as error bars. Standard library only.
"""

from __future__ import annotations

import argparse
import html
import json
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: (column title, path into a run's result).
COLUMNS: tuple[tuple[str, str], ...] = (
    ("biased: aligned", "biased_probe.aligned"),
    ("biased: conflicting", "biased_probe.conflicting"),
    ("biased: static", "biased_probe.static"),
    ("biased: gap", "biased_probe.bias_gap"),
    ("biased: contrasted", "biased_probe.contrasted"),
    ("indep.: aligned", "independent_probe.aligned"),
    ("indep.: conflicting", "independent_probe.conflicting"),
    ("indep.: static", "independent_probe.static"),
    ("indep.: contrasted", "independent_probe.contrasted"),
    ("R@1", "independent_retrieval_r1"),
)

#: Bars of the plot: (legend, path, colour).
BARS: tuple[tuple[str, str, str], ...] = (
    ("biased probe, conflicting", "biased_probe.conflicting", "#4c72b0"),
    ("independent probe, conflicting", "independent_probe.conflicting", "#55a868"),
    ("independent probe, static", "independent_probe.static", "#c44e52"),
)

METHOD_ORDER = (
    "random",
    "moco",
    "fame",
    "merge",
    "semi_negative",
    "merge_micro",
    "semi_negative_micro",
    "full",
    "supervised_biased",
    "supervised_independent",
)


@dataclass(frozen=True)
class Summary:
    """Mean and standard deviation (0 for one seed) of one metric, in percent."""

    mean: float
    std: float
    n: int

    def __str__(self) -> str:
        return f"{self.mean:.1f} ± {self.std:.1f}" if self.n > 1 else f"{self.mean:.1f}"


def _lookup(result: dict[str, Any], path: str) -> float:
    value: Any = result
    for key in path.split("."):
        value = value[key]
    return float(value)


def summarise(runs: Sequence[dict[str, Any]]) -> dict[str, dict[str, Summary]]:
    """Per method and metric path, the summary over seeds (values in percent)."""
    values: dict[str, dict[str, list[float]]] = {}
    for run in runs:
        per_metric = values.setdefault(run["method"], {})
        for _, path in COLUMNS:
            per_metric.setdefault(path, []).append(100 * _lookup(run["result"], path))
    return {
        method: {path: _summary(seeds) for path, seeds in metrics.items()}
        for method, metrics in values.items()
    }


def _summary(seeds: list[float]) -> Summary:
    spread = statistics.stdev(seeds) if len(seeds) > 1 else 0.0
    return Summary(statistics.fmean(seeds), spread, len(seeds))


def _ordered(methods: Sequence[str]) -> list[str]:
    known = [m for m in METHOD_ORDER if m in methods]
    return known + sorted(set(methods) - set(known))


def markdown_table(summary: dict[str, dict[str, Summary]]) -> str:
    """One row per method, one column per metric (mean ± std over seeds, %)."""
    header = "| method | seeds | " + " | ".join(title for title, _ in COLUMNS) + " |"
    rule = "|---|---:|" + "---:|" * len(COLUMNS)
    rows = [header, rule]
    for method in _ordered(list(summary)):
        metrics = summary[method]
        seeds = next(iter(metrics.values())).n
        cells = " | ".join(str(metrics[path]) for _, path in COLUMNS)
        rows.append(f"| `{method}` | {seeds} | {cells} |")
    return "\n".join(rows)


@dataclass(frozen=True)
class Target:
    """One target of the full method, with the measured values and whether it is met."""

    name: str
    measured: str
    met: bool


#: Slack (in percentage points) of every comparison, so that a decimal input exactly at a
#: threshold is not decided by floating-point rounding.
TOLERANCE = 1e-9

INDEPENDENT_CONFLICTING = "independent_probe.conflicting"
INDEPENDENT_STATIC = "independent_probe.static"
BIASED_CONFLICTING = "biased_probe.conflicting"
BIASED_GAP = "biased_probe.bias_gap"

#: Ablations of ``full`` that must each cost something: (ablation, what it removes).
ABLATIONS: tuple[tuple[str, str], ...] = (
    ("merge_micro", "own-background hard negative"),
    ("semi_negative", "micro term"),
)


def _ablation_target(
    full: dict[str, Summary], ablation: dict[str, Summary], name: str, *, cost: float
) -> Target:
    conflicting_drop = full[INDEPENDENT_CONFLICTING].mean - ablation[INDEPENDENT_CONFLICTING].mean
    conflicting_std = max(full[INDEPENDENT_CONFLICTING].std, ablation[INDEPENDENT_CONFLICTING].std)
    gap_rise = ablation[BIASED_GAP].mean - full[BIASED_GAP].mean
    gap_std = max(full[BIASED_GAP].std, ablation[BIASED_GAP].std)

    def costs(difference: float, std: float) -> bool:
        return difference >= cost - TOLERANCE and difference > std + TOLERANCE

    return Target(
        name,
        f"indep. conflicting {conflicting_drop:+.1f} (std {conflicting_std:.1f}), "
        f"gap {gap_rise:+.1f} (std {gap_std:.1f})",
        costs(conflicting_drop, conflicting_std) or costs(gap_rise, gap_std),
    )


def check_targets(summary: dict[str, dict[str, Summary]], chance: float = 12.5) -> list[Target]:
    """The issue's targets for ``full`` (means over seeds, in percent).

    - independent probe: ``conflicting`` of ``full`` at least 80 %;
    - biased probe: ``conflicting`` of ``full`` at least 50 %;
    - biased probe: bias gap of ``full`` at most half of ``moco``'s;
    - independent probe: ``static`` of ``full`` at most ``chance`` + 10 points;
    - against ``fame``: independent-probe ``conflicting`` at least 5 points above it, and
      (a separate target) biased-probe bias gap at least 5 points below it;
    - each part earns its place: removing the own-background hard negative
      (``merge_micro``) and, separately, the micro term (``semi_negative``) costs at least
      3 points *and* beyond one standard deviation on independent-probe ``conflicting``
      (``full`` minus the ablation) or on the biased-probe bias gap (the ablation minus
      ``full``). "Beyond one standard deviation" means that this difference of the two
      means is strictly larger than the larger of the two methods' sample standard
      deviations over seeds (0 for a method with one seed). Both conditions must hold on
      the same metric; the ``measured`` column gives both differences, signed so that a
      positive value means the part helps, with that larger standard deviation.

    Every comparison allows :data:`TOLERANCE`. A target whose methods did not run is left
    out (not reported as missed); without ``full`` the list is empty.
    """
    if "full" not in summary:
        return []
    full = summary["full"]
    independent = full[INDEPENDENT_CONFLICTING]
    biased = full[BIASED_CONFLICTING]
    static = full[INDEPENDENT_STATIC]
    targets = [
        Target(
            "independent probe: `conflicting` at least 80 %",
            f"{independent} %",
            independent.mean >= 80 - TOLERANCE,
        ),
        Target(
            "biased probe: `conflicting` at least 50 %",
            f"{biased} %",
            biased.mean >= 50 - TOLERANCE,
        ),
    ]
    if "moco" in summary:
        moco_gap, full_gap = summary["moco"][BIASED_GAP].mean, full[BIASED_GAP].mean
        cut = 100 * (1 - full_gap / moco_gap) if moco_gap > 0 else 0.0
        targets.append(
            Target(
                "biased probe: bias gap cut by at least half against MoCo",
                f"{moco_gap:.1f} -> {full_gap:.1f} ({cut:.0f} % cut)",
                full_gap <= moco_gap / 2 + TOLERANCE,
            )
        )
    excess = static.mean - chance
    targets.append(
        Target(
            f"independent probe: `static` at most 10 points above chance ({chance:g} %)",
            f"{static.mean:.1f} % ({excess:+.1f} points)",
            excess <= 10 + TOLERANCE,
        )
    )
    if "fame" in summary:
        fame = summary["fame"]
        conflicting_gain = independent.mean - fame[INDEPENDENT_CONFLICTING].mean
        gap_change = full[BIASED_GAP].mean - fame[BIASED_GAP].mean
        targets += [
            Target(
                "independent probe: `conflicting` at least 5 points above FAME",
                f"{fame[INDEPENDENT_CONFLICTING].mean:.1f} -> {independent.mean:.1f} "
                f"({conflicting_gain:+.1f} points)",
                conflicting_gain >= 5 - TOLERANCE,
            ),
            Target(
                "biased probe: bias gap at least 5 points below FAME",
                f"{fame[BIASED_GAP].mean:.1f} -> {full[BIASED_GAP].mean:.1f} "
                f"({gap_change:+.1f} points)",
                gap_change <= -5 + TOLERANCE,
            ),
        ]
    for ablation, part in ABLATIONS:
        if ablation in summary:
            targets.append(
                _ablation_target(
                    full,
                    summary[ablation],
                    f"removing the {part} (`{ablation}`) costs at least 3 points and more "
                    "than one std on indep. `conflicting` or the bias gap",
                    cost=3,
                )
            )
    return targets


def targets_markdown(targets: Sequence[Target]) -> str:
    """The targets as a Markdown table."""
    rows = ["| target (full method) | measured | met |", "|---|---|---|"]
    rows += [f"| {t.name} | {t.measured} | {'yes' if t.met else '**no**'} |" for t in targets]
    return "\n".join(rows)


def family_of(payload: dict[str, Any]) -> str:
    """The benchmark family of a results JSON (files written before families: procedural)."""
    return str(payload.get("family", "procedural"))


def report_markdown(payload: dict[str, Any], title: str | None = None) -> str:
    """Results table and targets of one results JSON, each section headed by the family.

    Args:
        payload: What ``bias_benchmark.py --json`` wrote.
        title: Heading prefix of the sections; defaults to "<family> family".

    Returns:
        The Markdown text (no trailing newline).
    """
    heading = title or f"{family_of(payload)} family"
    summary = summarise(payload["runs"])
    parts = [f"## {heading}: results (mean ± standard deviation over seeds, %)"]
    if payload.get("valid") is False:
        reached = payload.get("validity_conflicting")
        reached_text = "" if reached is None else f" ({100 * float(reached):.1f} %)"
        parts.append(
            f"**Invalid run**: the supervised `independent` reference failed the validity "
            f"check on `conflicting`{reached_text}, so motion was not learnable with this budget."
        )
    parts.append(markdown_table(summary))
    targets = check_targets(summary)
    if targets:
        parts.append(f"## {heading}: targets (full method, means over seeds)")
        parts.append(targets_markdown(targets))
    return "\n\n".join(parts)


def bar_chart_svg(
    summary: dict[str, dict[str, Summary]], *, width: int = 760, title: str | None = None
) -> str:
    """Grouped bars (one group per method) with standard-deviation error bars, as SVG.

    Args:
        summary: What :func:`summarise` returns.
        width: Width of the picture in pixels.
        title: Put in front of the caption (the family), if given.

    Returns:
        The SVG document.
    """
    methods = _ordered(list(summary))
    left, top, bottom, plot_height = 48, 40, 76, 240
    height = top + plot_height + bottom
    group = (width - left - 16) / len(methods)
    bar = group * 0.8 / len(BARS)

    def y(percent: float) -> float:
        return top + plot_height * (1 - min(max(percent, 0.0), 100.0) / 100)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
    ]
    for tick in range(0, 101, 25):
        parts.append(
            f'<line x1="{left}" x2="{width - 16}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            f'stroke="#ddd"/><text x="{left - 6}" y="{y(tick) + 4:.1f}" '
            f'text-anchor="end">{tick}</text>'
        )
    parts.append(
        f'<line x1="{left}" x2="{width - 16}" y1="{y(12.5):.1f}" y2="{y(12.5):.1f}" '
        f'stroke="#888" stroke-dasharray="4 3"/>'
    )
    for g, method in enumerate(methods):
        x0 = left + g * group + group * 0.1
        for b, (_, path, colour) in enumerate(BARS):
            value = summary[method][path]
            x = x0 + b * bar
            parts.append(
                f'<rect x="{x:.1f}" y="{y(value.mean):.1f}" width="{bar * 0.92:.1f}" '
                f'height="{y(0) - y(value.mean):.1f}" fill="{colour}">'
                f"<title>{method} {path}: {value}</title></rect>"
            )
            if value.n > 1:
                centre = x + bar * 0.46
                parts.append(
                    f'<line x1="{centre:.1f}" x2="{centre:.1f}" '
                    f'y1="{y(value.mean - value.std):.1f}" y2="{y(value.mean + value.std):.1f}" '
                    f'stroke="black"/>'
                )
        centre_x = left + (g + 0.5) * group
        lines = "".join(
            f'<tspan x="{centre_x:.1f}" dy="{0 if i == 0 else 12}">{word}</tspan>'
            for i, word in enumerate(method.split("_"))
        )
        parts.append(
            f'<text y="{top + plot_height + 16}" text-anchor="middle">{lines}'
            f"<title>{method}</title></text>"
        )
    for b, (legend, _, colour) in enumerate(BARS):
        x = left + b * 220
        parts.append(
            f'<rect x="{x}" y="12" width="12" height="12" fill="{colour}"/>'
            f'<text x="{x + 16}" y="22">{legend} (%)</text>'
        )
    caption = f"{html.escape(title)}. " if title else ""
    parts.append(
        f'<text x="{left}" y="{height - 12}">{caption}dashed: chance (12.5 %); '
        f"bars: mean over seeds, lines: ± one standard deviation</text>"
    )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", help="JSON written by bias_benchmark.py --json")
    parser.add_argument("--markdown", default=None, help="write the tables here")
    parser.add_argument("--svg", default=None, help="write the bar chart here")
    parser.add_argument(
        "--title", default=None, help='section headings (default: "<family> family")'
    )
    args = parser.parse_args(argv)
    payload = json.loads(Path(args.results).read_text())
    title = args.title or f"{family_of(payload)} family"
    text = report_markdown(payload, title)
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text + "\n")
    if args.svg:
        Path(args.svg).write_text(bar_chart_svg(summarise(payload["runs"]), title=title))
    return 0


if __name__ == "__main__":
    sys.exit(main())
