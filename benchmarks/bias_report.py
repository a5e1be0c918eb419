"""Turn ``bias_benchmark.py --json`` results into the docs' table, target check and bar plot.

    python benchmarks/bias_report.py results.json --markdown bias_table.md --svg bias.svg

The Markdown holds one row per method (mean +- standard deviation over seeds, in %), the
issue's targets for the full method against plain MoCo with the measured values, and the
per-block contributions; the SVG is a grouped bar chart with one bar per probe split and
the seeds' standard deviation as error bars. Standard library only.
"""

from __future__ import annotations

import argparse
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
    "merge",
    "semi_negative",
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
    """One target of the full method against plain MoCo."""

    name: str
    measured: str
    met: bool


def check_targets(summary: dict[str, dict[str, Summary]], chance: float = 12.5) -> list[Target]:
    """The issue's targets for ``full`` against ``moco`` (means over seeds)."""
    full, moco = summary["full"], summary["moco"]
    gain_biased = full["biased_probe.conflicting"].mean - moco["biased_probe.conflicting"].mean
    gap_ratio = full["biased_probe.bias_gap"].mean / max(moco["biased_probe.bias_gap"].mean, 1e-9)
    gain_independent = (
        full["independent_probe.conflicting"].mean - moco["independent_probe.conflicting"].mean
    )
    static_excess = full["independent_probe.static"].mean - chance
    return [
        Target(
            "biased probe: `conflicting` at least 15 points above MoCo",
            f"{gain_biased:+.1f} points",
            gain_biased >= 15,
        ),
        Target(
            "biased probe: bias gap cut by at least half",
            f"{moco['biased_probe.bias_gap'].mean:.1f} -> {full['biased_probe.bias_gap'].mean:.1f}"
            f" ({100 * (1 - gap_ratio):.0f} % cut)",
            gap_ratio <= 0.5,
        ),
        Target(
            "independent probe: `conflicting` at least 40 points above MoCo",
            f"{gain_independent:+.1f} points",
            gain_independent >= 40,
        ),
        Target(
            f"independent probe: `static` at most 10 points above chance ({chance:g} %)",
            f"{full['independent_probe.static'].mean:.1f} % ({static_excess:+.1f} points)",
            static_excess <= 10,
        ),
    ]


def targets_markdown(targets: Sequence[Target]) -> str:
    """The targets as a Markdown table."""
    rows = ["| target (full vs. MoCo) | measured | met |", "|---|---|---|"]
    rows += [f"| {t.name} | {t.measured} | {'yes' if t.met else '**no**'} |" for t in targets]
    return "\n".join(rows)


def bar_chart_svg(summary: dict[str, dict[str, Summary]], *, width: int = 760) -> str:
    """Grouped bars (one group per method) with standard-deviation error bars, as SVG."""
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
    parts.append(
        f'<text x="{left}" y="{height - 12}">dashed: chance (12.5 %); '
        f"bars: mean over seeds, lines: ± one standard deviation</text>"
    )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", help="JSON written by bias_benchmark.py --json")
    parser.add_argument("--markdown", default=None, help="write the tables here")
    parser.add_argument("--svg", default=None, help="write the bar chart here")
    args = parser.parse_args(argv)
    payload = json.loads(Path(args.results).read_text())
    summary = summarise(payload["runs"])
    text = markdown_table(summary)
    if "full" in summary and "moco" in summary:
        text += "\n\n" + targets_markdown(check_targets(summary))
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text + "\n")
    if args.svg:
        Path(args.svg).write_text(bar_chart_svg(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
