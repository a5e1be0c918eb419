from __future__ import annotations

import re

import pytest
import torch
from torch import Tensor

from bgdebias.evaluation import (
    ClipFeatures,
    LinearClassifier,
    accuracy_from_logits,
    evaluate_classifier,
    linear_probe,
    train_linear_probe,
)


def _clusters(per_class: int, *, classes: int = 3, dim: int = 8, seed: int = 0) -> ClipFeatures:
    """Well separated Gaussian clusters, one per class, one clip per video."""
    generator = torch.Generator().manual_seed(seed)
    centres = 10.0 * torch.eye(classes, dim)
    labels = torch.arange(classes).repeat_interleave(per_class)
    noise = torch.randn(len(labels), dim, generator=generator)
    return ClipFeatures.from_videos(centres[labels] + noise, labels)


def _identity_classifier(classes: int) -> LinearClassifier:
    """Logits equal the features (no standardisation)."""
    classifier = LinearClassifier(torch.zeros(classes), torch.ones(classes), classes)
    with torch.no_grad():
        classifier.linear.weight.copy_(torch.eye(classes))
        classifier.linear.bias.zero_()
    return classifier


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_separable_features_reach_100_percent(optimizer: str) -> None:
    result = linear_probe(
        _clusters(20, seed=0),
        _clusters(10, seed=1),
        optimizer=optimizer,  # type: ignore[arg-type]
        epochs=100,
    )
    assert result.top1 == 1.0
    assert result.top5 is None  # 3 classes
    assert result.per_class_accuracy == (1.0, 1.0, 1.0)
    assert isinstance(result.classifier, LinearClassifier)
    assert not result.classifier.training


def test_random_labels_stay_near_chance_on_held_out_data() -> None:
    generator = torch.Generator().manual_seed(0)

    def noise(count: int) -> ClipFeatures:
        features = torch.randn(count, 16, generator=generator)
        return ClipFeatures.from_videos(
            features, torch.randint(0, 4, (count,), generator=generator)
        )

    train, test = noise(200), noise(400)
    fitted = evaluate_classifier(train_linear_probe(train, epochs=200), train)
    held_out = linear_probe(train, test, num_classes=4, epochs=200)
    assert fitted.top1 > 0.4  # it does fit the noise it was trained on ...
    assert abs(held_out.top1 - 0.25) < 0.1  # ... and that does not transfer


def test_video_decision_is_the_average_of_clip_logits() -> None:
    # Video 0 (label 1): two clips vote class 0, one clip strongly class 1. Majority vote and
    # averaged softmax both say class 0; the averaged logits (-2, 1/3) say class 1.
    features = torch.tensor([[2.0, 0.0], [2.0, 0.0], [-10.0, 1.0], [0.0, 1.0]])
    clips = ClipFeatures(features, torch.tensor([1, 1, 1, 1]), torch.tensor([0, 0, 0, 1]))
    softmax_vote = features[:3].softmax(dim=1).mean(dim=0).argmax()
    assert int(softmax_vote) == 0
    result = evaluate_classifier(_identity_classifier(2), clips)
    assert result.top1 == 1.0
    assert result.per_class_accuracy == (None, 1.0)
    flipped = ClipFeatures(features, torch.tensor([0, 0, 0, 1]), torch.tensor([0, 0, 0, 1]))
    assert evaluate_classifier(_identity_classifier(2), flipped).top1 == 0.5


def test_top5_and_per_class_by_hand() -> None:
    logits = torch.tensor(
        [
            [6.0, 5.0, 4.0, 3.0, 2.0, 1.0],  # label 0: top-1 hit
            [6.0, 5.0, 4.0, 3.0, 2.0, 1.0],  # label 4: rank 5, top-5 hit
            [6.0, 5.0, 4.0, 3.0, 2.0, 1.0],  # label 5: rank 6, miss
            [1.0, 1.0, 0.0, 0.0, 0.0, 0.0],  # label 1: tie, goes to class 0, miss
        ]
    )
    result = accuracy_from_logits(logits, torch.tensor([0, 4, 5, 1]), num_classes=6)
    assert result.top1 == 0.25
    assert result.top5 == 0.75
    assert result.per_class_accuracy == (1.0, 0.0, None, None, 0.0, 0.0)


def test_standardisation_uses_train_statistics_and_tolerates_constant_dimensions() -> None:
    train, test = _clusters(20, seed=0), _clusters(10, seed=1)

    def scaled(clips: ClipFeatures) -> ClipFeatures:
        features = torch.cat(
            [clips.features * 1e4 + 3e4, torch.full((len(clips.labels), 1), 7.0)], 1
        )
        return ClipFeatures.from_videos(features, clips.labels)

    classifier = train_linear_probe(scaled(train))
    assert torch.allclose(classifier.mean[:-1], train.features.mean(0) * 1e4 + 3e4, rtol=1e-4)
    assert float(classifier.std[-1]) == 1.0
    assert evaluate_classifier(classifier, scaled(test)).top1 == 1.0


def test_seeded_probe_is_deterministic() -> None:
    train = _clusters(10)

    def weights(seed: int) -> Tensor:
        probe = train_linear_probe(train, optimizer="adam", epochs=3, batch_size=7, seed=seed)
        return probe.linear.weight.detach().clone()

    assert torch.equal(weights(0), weights(0))
    assert not torch.equal(weights(0), weights(1))


def test_probe_trains_under_an_outer_no_grad() -> None:
    with torch.no_grad():
        assert linear_probe(_clusters(10), _clusters(5, seed=1)).top1 == 1.0


def test_bad_options_are_rejected() -> None:
    train = _clusters(4)
    with pytest.raises(ValueError, match=re.escape("`optimizer` must be one of 'lbfgs', 'adam'")):
        train_linear_probe(train, optimizer="sgd")  # type: ignore[arg-type]
    with pytest.raises(
        ValueError, match=re.escape("`batch_size` is only used with optimizer='adam'")
    ):
        train_linear_probe(train, batch_size=4)
    with pytest.raises(ValueError, match=re.escape("`lr` must be a finite number > 0, got -1.0")):
        train_linear_probe(train, lr=-1.0)
    with pytest.raises(ValueError, match=re.escape("`epochs` must be an int >= 1, got 0")):
        train_linear_probe(train, epochs=0)
    with pytest.raises(ValueError, match=re.escape("`weight_decay` must be a finite number >= 0")):
        train_linear_probe(train, weight_decay=-0.1)
    with pytest.raises(
        ValueError, match=re.escape("`num_classes` is 2 but the training labels go up to 2")
    ):
        train_linear_probe(train, num_classes=2)
    other = ClipFeatures.from_videos(torch.zeros(3, 5), torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match=re.escape("same dimension, got 8 and 5")):
        linear_probe(train, other)
    with pytest.raises(ValueError, match=re.escape("`logits` must have shape (V, 3)")):
        accuracy_from_logits(torch.zeros(2, 4), torch.zeros(2, dtype=torch.long), num_classes=3)
    with pytest.raises(ValueError, match=re.escape("`labels` must have shape (2,)")):
        accuracy_from_logits(torch.zeros(2, 3), torch.zeros(3, dtype=torch.long), num_classes=3)
    with pytest.raises(ValueError, match=re.escape("`labels` must be in [0, 3)")):
        accuracy_from_logits(torch.zeros(1, 3), torch.tensor([3]), num_classes=3)
