"""The demo's table and results: short columns with a legend, and the steps each method ran."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bgdebias.experiments import MethodRun

#: ``(metric, column)``: the stress-test numbers the demo shows, under short names.
DEMO_COLUMNS = (
    ("biased_probe.aligned", "B.align"),
    ("biased_probe.conflicting", "B.confl"),
    ("biased_probe.static", "B.static"),
    ("biased_probe.bias_gap", "B.gap"),
    ("independent_probe.conflicting", "I.confl"),
    ("independent_probe.static", "I.static"),
    ("independent_probe.contrasted", "I.contr"),
)

#: Printed under the table: what the short column names mean.
LEGEND = (
    "steps: pretraining steps run. B. / I.: linear probe trained on the biased split / on",
    "backgrounds independent of the class. Percent of test videos classified right when shown",
    "on their class's background (align), on another class's (confl), frozen to one frame",
    "(static); gap: align - confl (points); contr: conflicting videos right while moving and",
    "wrong once frozen.",
)


def format_demo_table(runs: Sequence[MethodRun]) -> str:
    """The demo's table: one row per method, its steps, its stress-test numbers, a legend.

    Args:
        runs: Runs of :func:`~bgdebias.experiments.run_bias_comparison` (their ``result``
            may also be a mapping, as read back from JSON).

    Returns:
        The table, a blank line and the legend; no line is longer than 100 characters.

    Example:
        >>> from types import SimpleNamespace
        >>> probe = {"aligned": 0.98, "conflicting": 0.016, "static": 0.965, "bias_gap": 0.964,
        ...          "contrasted": 0.043}
        >>> result = {"biased_probe": probe, "independent_probe": probe}
        >>> run = SimpleNamespace(method="moco", steps=300, result=result)
        >>> print(format_demo_table([run]).splitlines()[2])
        moco      300     98.0      1.6      96.5   96.4      1.6      96.5      4.3
    """
    from bgdebias.evaluation.report import flatten_metrics

    header = ["method", "steps", *(column for _, column in DEMO_COLUMNS)]
    body = []
    for run in runs:
        metrics = flatten_metrics(run.result)
        cells = [run.method, "-" if run.steps is None else str(run.steps)]
        for name, _ in DEMO_COLUMNS:
            value = metrics.get(name)
            cells.append("-" if value is None else f"{100 * value:.1f}")
        body.append(cells)
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        rest = [cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join([cells[0].ljust(widths[0]), *rest]).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(header), rule, *(line(row) for row in body), "", *LEGEND])


def demo_results(runs: Sequence[MethodRun]) -> dict[str, dict[str, Any]]:
    """``{method: {"steps": ..., every stress-test number}}``, as ``results.json`` holds it.

    Example:
        >>> from types import SimpleNamespace
        >>> run = SimpleNamespace(method="full", steps=300, result={"retrieval_r1": 0.3})
        >>> demo_results([run])
        {'full': {'steps': 300, 'retrieval_r1': 0.3}}
    """
    from bgdebias.evaluation.report import result_to_dict

    return {run.method: {"steps": run.steps, **result_to_dict(run.result)} for run in runs}
