"""The Lightning guide: the key encoder's EMA runs once per optimizer step, after it."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("lightning")

import torch
from lightning_moco import DebiasedMoCoModule, fit
from torch import Tensor

from bgdebias.moco import cosine_momentum

pytestmark = pytest.mark.filterwarnings(
    "ignore::UserWarning",  # Lightning's advice on dataloader workers and loggers
    "ignore:.*LeafSpec.*:FutureWarning",  # Lightning 2.6 calls an API torch deprecates
)

STEPS, BATCH, ACCUMULATE = 2, 2, 2


def _snapshot(module: torch.nn.Module) -> dict[str, Tensor]:
    return {name: param.detach().clone() for name, param in module.named_parameters()}


class RecordingModule(DebiasedMoCoModule):
    """Records the encoders around every forward pass and every key-encoder update."""

    def __init__(self) -> None:
        super().__init__(base_momentum=0.9)
        self.forward_params: list[dict[str, Tensor]] = []
        self.updates: list[dict[str, Any]] = []

    def training_step(self, clips: Tensor, batch_idx: int) -> Tensor:
        self.forward_params.append(_snapshot(self.encoder))
        return super().training_step(clips, batch_idx)

    def update_key_encoder(self) -> None:
        record = {
            "step": self.global_step,
            "forwards": len(self.forward_params),
            "query": _snapshot(self.encoder),
            "key_before": _snapshot(self.key_encoder),
        }
        super().update_key_encoder()
        record["key_after"] = _snapshot(self.key_encoder)
        self.updates.append(record)


class BatchEndCounter(DebiasedMoCoModule):
    """Counts on_train_batch_end calls: the hook the guide advises against for the EMA."""

    def __init__(self) -> None:
        super().__init__()
        self.batch_ends = 0

    def on_train_batch_end(self, _outputs: Any, _batch: Any, _batch_idx: int) -> None:
        self.batch_ends += 1


@pytest.fixture(scope="module")
def recorded() -> tuple[RecordingModule, Any]:
    module, trainer = fit(
        steps=STEPS,
        batch_size=BATCH,
        accumulate_grad_batches=ACCUMULATE,
        module=RecordingModule(),
    )
    assert isinstance(module, RecordingModule)
    return module, trainer


def test_one_update_per_optimizer_step_after_the_accumulated_batches(
    recorded: tuple[RecordingModule, Any],
) -> None:
    module, trainer = recorded
    assert trainer.global_step == STEPS
    assert len(module.forward_params) == STEPS * ACCUMULATE  # every batch ran forward
    assert [update["step"] for update in module.updates] == list(range(STEPS))
    assert [update["forwards"] for update in module.updates] == [ACCUMULATE, 2 * ACCUMULATE]


def test_update_follows_the_momentum_rule_after_the_step(
    recorded: tuple[RecordingModule, Any],
) -> None:
    module, _ = recorded
    for update in module.updates:
        step = update["step"]
        # The query encoder has already moved since the last forward pass: the update
        # comes after optimizer.step().
        last_forward = module.forward_params[update["forwards"] - 1]
        assert any(not torch.equal(update["query"][n], last_forward[n]) for n in last_forward)
        momentum = cosine_momentum(step, STEPS, base=0.9)
        for name, key_before in update["key_before"].items():
            expected = momentum * key_before + (1 - momentum) * update["query"][name]
            assert torch.allclose(update["key_after"][name], expected, atol=1e-6), (step, name)


def test_queues_filled_and_terms_logged(recorded: tuple[RecordingModule, Any]) -> None:
    module, trainer = recorded
    assert int(module.queue.pointer) == STEPS * ACCUMULATE * BATCH
    assert int(module.micro_queue.pointer) == STEPS * ACCUMULATE * BATCH
    metrics = trainer.callback_metrics
    for name in ("loss", "static", "wide", "micro"):
        assert torch.isfinite(metrics[name]), name
        assert float(metrics[name]) > 0, name
    assert torch.allclose(metrics["loss"], metrics["static"] + metrics["wide"] + metrics["micro"])


def test_on_train_batch_end_runs_on_accumulating_batches_too() -> None:
    module, trainer = fit(
        steps=1, batch_size=BATCH, accumulate_grad_batches=ACCUMULATE, module=BatchEndCounter()
    )
    assert isinstance(module, BatchEndCounter)
    assert trainer.global_step == 1
    assert module.batch_ends == ACCUMULATE  # an EMA there would run twice for one step


def test_momentum_schedule_needs_a_finite_run() -> None:
    module = DebiasedMoCoModule()

    class Endless:
        estimated_stepping_batches = float("inf")

    module._trainer = Endless()  # type: ignore[assignment]  # a stand-in, not a Trainer
    with pytest.raises(ValueError, match=r"needs Trainer\(max_steps=...\) or max_epochs"):
        module.update_key_encoder()
