"""Results as JSON, and a plain-text table of several runs side by side (mean ± std over seeds)."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from torch import Tensor, nn

from bgdebias._validation import check_int, check_positive


def result_to_dict(result: Any) -> dict[str, Any]:
    """A JSON-serialisable copy of a result dataclass (or mapping).

    Nested dataclasses and mappings become dicts (keys as strings), tuples, tensors and
    NumPy arrays become lists, paths strings, NaN and infinities ``None``; fields holding a model
    (``nn.Module``, e.g. the trained classifier) are left out.

    Args:
        result: A result dataclass such as :class:`LinearProbeResult`, or a mapping.

    Returns:
        Plain dicts, lists, strings, numbers, booleans and ``None``.

    Example:
        >>> import torch
        >>> from bgdebias.evaluation import VideoAccuracy
        >>> result_to_dict(VideoAccuracy(top1=0.75, top5=None, per_class_accuracy=(1.0, 0.5)))
        {'top1': 0.75, 'top5': None, 'per_class_accuracy': [1.0, 0.5]}
        >>> result_to_dict({"loss": torch.tensor([0.5, 0.25]), "probe": torch.nn.Linear(2, 2)})
        {'loss': [0.5, 0.25]}
    """
    if not (dataclasses.is_dataclass(result) and not isinstance(result, type)) and not isinstance(
        result, Mapping
    ):
        raise TypeError(f"`result` must be a dataclass instance or a mapping, got {type(result)}")
    converted = _jsonable(result, "result")
    if not isinstance(converted, dict):  # pragma: no cover - guarded above
        raise TypeError("`result` did not convert to a dict")
    return converted


def _jsonable(value: Any, path: str) -> Any:
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Tensor):
        return _jsonable(value.detach().cpu().tolist(), path)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            field.name: _jsonable(getattr(value, field.name), f"{path}.{field.name}")
            for field in dataclasses.fields(value)
            if not isinstance(getattr(value, field.name), nn.Module)
        }
    if isinstance(value, Mapping):
        return {
            str(key): _jsonable(item, f"{path}.{key}")
            for key, item in value.items()
            if not isinstance(item, nn.Module)
        }
    if isinstance(value, list | tuple):
        return [_jsonable(item, f"{path}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "tolist") and callable(value.tolist):  # NumPy scalars and arrays
        return _jsonable(value.tolist(), path)
    raise TypeError(f"`{path}` of type {type(value).__name__} cannot be written as JSON")


def save_results(results: Any, path: str | Path) -> Path:
    """Write one result, a list of results or a ``{name: result(s)}`` mapping as JSON.

    Args:
        results: A result dataclass, a mapping, or a list/mapping of them.
        path: File to write (parent folders are created).

    Returns:
        The path written.

    Example:
        >>> import tempfile
        >>> from bgdebias.evaluation import VideoAccuracy
        >>> seeds = [VideoAccuracy(0.5, None, (0.5, 0.5)), VideoAccuracy(0.75, None, (1.0, 0.5))]
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = save_results({"moco": seeds}, f"{folder}/runs/results.json")
        ...     loaded = load_results(path)
        >>> path.name, [run["top1"] for run in loaded["moco"]]
        ('results.json', [0.5, 0.75])
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(_jsonable(results, "results"), indent=2, allow_nan=False) + "\n")
    return target


def load_results(path: str | Path) -> Any:
    """Read results written by :func:`save_results` (as plain dicts and lists).

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     result = {"top1": 0.5, "per_class_accuracy": (1.0, 0.0)}
        ...     path = save_results(result, f"{folder}/result.json")
        ...     loaded = load_results(path)
        >>> loaded  # tuples come back as lists
        {'top1': 0.5, 'per_class_accuracy': [1.0, 0.0]}
        >>> flatten_metrics(loaded)  # and feed the table functions like the dataclasses
        {'top1': 0.5}
    """
    return json.loads(Path(path).read_text())


def flatten_metrics(result: Any) -> dict[str, float | None]:
    """Scalar metrics of a result, keyed by dotted path (``"biased_probe.conflicting"``).

    Lists (per-class accuracy, loss curves), strings and booleans are left out; a metric
    that is undefined (``None``, e.g. top-5 with fewer than 5 classes) is kept as ``None``.

    Args:
        result: A result dataclass or a mapping (e.g. as read by :func:`load_results`).

    Returns:
        ``{dotted name: value}`` in field order.

    Example:
        >>> result = {
        ...     "biased_probe": {"aligned": 0.9, "conflicting": 0.25, "top5": None},
        ...     "per_class_accuracy": [1.0, 0.5],
        ...     "steps": 300,
        ... }
        >>> for name, value in flatten_metrics(result).items():  # the list is left out
        ...     print(name, value)
        biased_probe.aligned 0.9
        biased_probe.conflicting 0.25
        biased_probe.top5 None
        steps 300.0
    """
    flat: dict[str, float | None] = {}

    def visit(value: Any, prefix: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                visit(item, f"{prefix}.{key}" if prefix else str(key))
        elif value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
            flat[prefix] = None if value is None else float(value)

    visit(result_to_dict(result), "")
    return flat


def _cell(values: list[float], scale: float, precision: int) -> str:
    if not values:
        return "-"
    scaled = [v * scale for v in values]
    mean = statistics.fmean(scaled)
    if len(scaled) == 1:
        return f"{mean:.{precision}f}"
    return f"{mean:.{precision}f} ± {statistics.stdev(scaled):.{precision}f}"


def format_results_table(
    runs: Mapping[str, Any],
    *,
    metrics: Sequence[str] | None = None,
    scale: float = 100.0,
    precision: int = 1,
) -> str:
    """A plain-text table: one row per method, one column per metric.

    A method given several results (one per seed) shows ``mean ± std`` (sample standard
    deviation) over the results where the metric is defined, and its row counts them in
    the ``n`` column. Every scalar metric of this module is a fraction, so the default
    ``scale=100`` prints percentages.

    Args:
        runs: ``{method: result}`` or ``{method: [result, ...]}``; results are dataclasses
            or mappings (see :func:`flatten_metrics`).
        metrics: Dotted metric names to show, in order; by default every scalar metric, in
            order of first appearance.
        scale: Multiplier applied to values before printing.
        precision: Decimals printed.

    Returns:
        The table, lines separated by ``\\n``.

    Example:
        >>> runs = {
        ...     "moco": [  # two seeds: mean ± sample standard deviation
        ...         {"top1": 0.5, "probe": {"conflicting": 0.25}},
        ...         {"top1": 0.7, "probe": {"conflicting": 0.35}},
        ...     ],
        ...     "full": {"top1": 0.9, "probe": {"conflicting": 0.8}},
        ... }
        >>> print(format_results_table(runs))  # fractions printed as percentages
        method  n         top1  probe.conflicting
        ------  -  -----------  -----------------
        moco    2  60.0 ± 14.1         30.0 ± 7.1
        full    1         90.0               80.0
    """
    if not isinstance(runs, Mapping) or not runs:
        raise ValueError(f"`runs` must be a non-empty mapping of method -> result(s), got {runs!r}")
    check_positive(scale, "scale")
    check_int(precision, "precision", minimum=0)
    flattened: dict[str, list[dict[str, float | None]]] = {}
    for method, entry in runs.items():
        results = list(entry) if isinstance(entry, list | tuple) else [entry]
        if not results:
            raise ValueError(f"`runs[{method!r}]` holds no results")
        flattened[str(method)] = [flatten_metrics(result) for result in results]
    if metrics is None:
        columns = list(dict.fromkeys(k for rows in flattened.values() for f in rows for k in f))
    else:
        columns = list(metrics)
        known = {k for rows in flattened.values() for f in rows for k in f}
        unknown = [name for name in columns if name not in known]
        if unknown:
            raise ValueError(
                f"`metrics` names unknown metrics {unknown}; available: {sorted(known)}"
            )
    header = ["method", "n", *columns]
    body = []
    for method, rows in flattened.items():
        cells = [method, str(len(rows))]
        for column in columns:
            values = [v for f in rows if (v := f.get(column)) is not None]
            cells.append(_cell(values, scale, precision))
        body.append(cells)
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = [cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join([first, *rest]).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(header), rule, *(line(row) for row in body)])


def print_results_table(
    runs: Mapping[str, Any],
    *,
    metrics: Sequence[str] | None = None,
    scale: float = 100.0,
    precision: int = 1,
) -> None:
    """Print :func:`format_results_table` (same arguments).

    Example:
        >>> runs = {"moco": [{"top1": 0.5}, {"top1": 0.7}], "full": {"top1": 0.9, "top5": 1.0}}
        >>> print_results_table(runs, metrics=["top1"], precision=0)
        method  n     top1
        ------  -  -------
        moco    2  60 ± 14
        full    1       90
    """
    print(format_results_table(runs, metrics=metrics, scale=scale, precision=precision))
