"""Experiments assembled from the library: method comparisons on synthetic data."""

from bgdebias.experiments.bias_comparison import (
    REFERENCES,
    MethodRun,
    NormalizedEncoder,
    run_bias_comparison,
    runs_by_method,
)
from bgdebias.training.supervised import train_supervised

__all__ = [
    "REFERENCES",
    "MethodRun",
    "NormalizedEncoder",
    "run_bias_comparison",
    "runs_by_method",
    "train_supervised",
]
