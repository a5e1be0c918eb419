"""Evaluation protocols of the field: frozen features, linear probe, fine-tuning, kNN,
retrieval, background-bias stress tests, and reporting."""

from bgdebias.evaluation.accuracy import VideoAccuracy, accuracy_from_logits, video_accuracy
from bgdebias.evaluation.bias_stress import (
    BiasStressResult,
    ProbeStressResult,
    StressSplits,
    background_bias_stress_test,
    make_stress_splits,
)
from bgdebias.evaluation.features import (
    ClipFeatures,
    PooledFeatures,
    extract_features,
    freeze_frames,
)
from bgdebias.evaluation.fine_tune import FineTuneResult, fine_tune
from bgdebias.evaluation.knn import knn_classify, knn_scores
from bgdebias.evaluation.linear_probe import (
    LinearClassifier,
    LinearProbeResult,
    evaluate_classifier,
    linear_probe,
    train_linear_probe,
)
from bgdebias.evaluation.normalized_encoder import NormalizedEncoder
from bgdebias.evaluation.report import (
    flatten_metrics,
    format_results_table,
    load_results,
    print_results_table,
    result_to_dict,
    save_results,
)
from bgdebias.evaluation.retrieval import RETRIEVAL_KS, RetrievalResult, retrieval_recall
from bgdebias.evaluation.video_protocol import (
    VIDEO_PROTOCOLS,
    VideoProtocol,
    VideoProtocolResult,
    run_video_protocol,
)

__all__ = [
    "RETRIEVAL_KS",
    "VIDEO_PROTOCOLS",
    "BiasStressResult",
    "ClipFeatures",
    "FineTuneResult",
    "LinearClassifier",
    "LinearProbeResult",
    "NormalizedEncoder",
    "PooledFeatures",
    "ProbeStressResult",
    "RetrievalResult",
    "StressSplits",
    "VideoAccuracy",
    "VideoProtocol",
    "VideoProtocolResult",
    "accuracy_from_logits",
    "background_bias_stress_test",
    "evaluate_classifier",
    "extract_features",
    "fine_tune",
    "flatten_metrics",
    "format_results_table",
    "freeze_frames",
    "knn_classify",
    "knn_scores",
    "linear_probe",
    "load_results",
    "make_stress_splits",
    "print_results_table",
    "result_to_dict",
    "retrieval_recall",
    "run_video_protocol",
    "save_results",
    "train_linear_probe",
    "video_accuracy",
]
