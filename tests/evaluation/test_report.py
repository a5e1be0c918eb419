from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from bgdebias.evaluation import (
    LinearProbeResult,
    RetrievalResult,
    flatten_metrics,
    format_results_table,
    load_results,
    print_results_table,
    result_to_dict,
    save_results,
)


@dataclass(frozen=True)
class _Inner:
    score: float
    curve: tuple[float, ...]


@dataclass(frozen=True)
class _Run:
    top1: float
    top5: float | None
    inner: _Inner
    model: nn.Module


def _probe(top1: float) -> LinearProbeResult:
    return LinearProbeResult(top1, None, (1.0, None), nn.Linear(2, 2))  # type: ignore[arg-type]


def test_result_to_dict_is_json_and_drops_models() -> None:
    run = _Run(0.5, float("nan"), _Inner(torch.tensor(0.25).item(), (0.1, 0.2)), nn.Linear(2, 2))
    converted = result_to_dict(run)
    assert converted == {"top1": 0.5, "top5": None, "inner": {"score": 0.25, "curve": [0.1, 0.2]}}
    assert json.loads(json.dumps(converted, allow_nan=False)) == converted
    recall = result_to_dict(RetrievalResult({1: 0.5, 5: 1.0}))
    assert recall == {"recall_at": {"1": 0.5, "5": 1.0}}
    assert result_to_dict({"values": torch.tensor([1.0, 2.0])}) == {"values": [1.0, 2.0]}
    as_numpy = {"array": np.array([1.5, 2.5]), "scalar": np.float32(0.5), "path": Path("a/b")}
    assert result_to_dict(as_numpy) == {"array": [1.5, 2.5], "scalar": 0.5, "path": "a/b"}
    assert result_to_dict(_probe(0.75)) == {
        "top1": 0.75,
        "top5": None,
        "per_class_accuracy": [1.0, None],
    }


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    path = save_results({"moco": [_probe(0.5), _probe(0.7)]}, tmp_path / "out" / "results.json")
    assert path.exists()
    loaded = load_results(path)
    assert loaded["moco"][1]["top1"] == 0.7
    assert format_results_table(loaded) == format_results_table(
        {"moco": [_probe(0.5), _probe(0.7)]}
    )


def test_flatten_metrics_keeps_scalars_with_dotted_names() -> None:
    run = _Run(0.5, None, _Inner(0.25, (0.1,)), nn.Linear(1, 1))
    assert flatten_metrics(run) == {"top1": 0.5, "top5": None, "inner.score": 0.25}


def test_table_mean_and_sample_std_by_hand() -> None:
    runs = {
        "moco": [_probe(0.50), _probe(0.60), _probe(0.70)],  # mean 60.0, std 10.0
        "moco+ours": _probe(0.875),
    }
    table = format_results_table(runs, metrics=["top1", "top5"])
    assert table.splitlines() == [
        "method     n         top1  top5",
        "---------  -  -----------  ----",
        "moco       3  60.0 ± 10.0     -",
        "moco+ours  1         87.5     -",
    ]
    raw = format_results_table({"a": [_probe(0.5), _probe(0.6)]}, scale=1.0, precision=3)
    assert "0.550 ± 0.071" in raw


def test_print_results_table(capsys: pytest.CaptureFixture[str]) -> None:
    print_results_table({"a": _probe(0.5)}, metrics=["top1"])
    assert "50.0" in capsys.readouterr().out


def test_errors() -> None:
    with pytest.raises(TypeError, match="`result` must be a dataclass instance or a mapping"):
        result_to_dict([1, 2])
    with pytest.raises(TypeError, match=re.escape("`result.bad` of type object cannot be written")):
        result_to_dict({"bad": object()})
    with pytest.raises(ValueError, match="`runs` must be a non-empty mapping"):
        format_results_table({})
    with pytest.raises(ValueError, match=re.escape("`metrics` names unknown metrics ['top2']")):
        format_results_table({"a": _probe(0.5)}, metrics=["top2"])
    with pytest.raises(ValueError, match=re.escape("`runs['a']` holds no results")):
        format_results_table({"a": []})
    with pytest.raises(ValueError, match=re.escape("`precision` must be an int >= 0, got -1")):
        format_results_table({"a": _probe(0.5)}, precision=-1)
