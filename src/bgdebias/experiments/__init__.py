"""Experiments assembled from the library: method comparisons on synthetic data, and the
evaluation of a pretraining checkpoint (``bgdebias evaluate``)."""

from bgdebias.evaluation.normalized_encoder import NormalizedEncoder
from bgdebias.experiments.bias_comparison import (
    REFERENCES,
    MethodRun,
    run_bias_comparison,
    runs_by_method,
)
from bgdebias.experiments.checkpoint_evaluation import (
    EVALUATION_DATASETS,
    PROTOCOLS,
    CheckpointEvaluation,
    EvaluationProtocol,
    evaluate_checkpoint,
)
from bgdebias.training.supervised import train_supervised

__all__ = [
    "EVALUATION_DATASETS",
    "PROTOCOLS",
    "REFERENCES",
    "CheckpointEvaluation",
    "EvaluationProtocol",
    "MethodRun",
    "NormalizedEncoder",  # kept here for code written before it moved to evaluation
    "evaluate_checkpoint",
    "run_bias_comparison",
    "runs_by_method",
    "train_supervised",
]
