"""Every block in its default configuration compiles without graph breaks and exports.

Graph breaks are checked with ``backend="eager"`` and ``fullgraph=True``: Dynamo only, no
code generation, so the tests stay fast (inductor took minutes on a busy 2-core CPU; the
compiled-versus-eager timing is ``benchmarks/compile_benchmark.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any

import pytest
import torch
from torch import Tensor, nn

from bgdebias import MotionAwareDecomposition, SemiNegativePairMixer, StaticDynamicDecoupler
from bgdebias.blocks import DecoupledClip, MixedBatch, MotionDecomposition
from bgdebias.blocks.functional import random_derangement
from scenes import moving_square_scene


def _clips() -> Tensor:
    return moving_square_scene(batch=3, frames=4, size=16, side=4, speed=3).clip


def _features() -> Tensor:
    return torch.randn(2, 8, 3, 5, 5, generator=torch.Generator().manual_seed(0))


DETERMINISTIC = [
    pytest.param(StaticDynamicDecoupler, _clips, id="decoupler"),
    pytest.param(MotionAwareDecomposition, _features, id="motion_aware"),
]


def _assert_same_fields(actual: Any, expected: Any) -> None:
    assert type(actual) is type(expected)
    for field in fields(expected):
        torch.testing.assert_close(getattr(actual, field.name), getattr(expected, field.name))


def _check_mixed(out: MixedBatch, clips: Tensor) -> None:
    """The mixer's contract, whatever partners were drawn."""
    batch = clips.shape[0]
    assert sorted(out.partner.tolist()) == list(range(batch))
    assert bool((out.partner != torch.arange(batch)).all())
    expected = torch.lerp(out.background[out.partner], clips, out.mask)
    torch.testing.assert_close(out.mixed, expected)
    assert out.applied.all()


@pytest.mark.parametrize(("make", "inputs"), DETERMINISTIC)
def test_compiles_with_fullgraph_and_matches_eager(
    make: Callable[[], nn.Module], inputs: Callable[[], Tensor]
) -> None:
    module, x = make(), inputs()
    # MotionAwareDecomposition sits inside the trained backbone: trace its backward too.
    backend = "aot_eager" if isinstance(module, MotionAwareDecomposition) else "eager"
    compiled = torch.compile(module, backend=backend, fullgraph=True)
    _assert_same_fields(compiled(x), module(x))


@pytest.mark.parametrize(("make", "inputs"), DETERMINISTIC)
def test_exports_and_matches_eager(
    make: Callable[[], nn.Module], inputs: Callable[[], Tensor]
) -> None:
    module, x = make(), inputs()
    exported = torch.export.export(module, (x,))
    _assert_same_fields(exported.module()(x), module(x))


def test_mixer_compiles_with_fullgraph_and_draws_derangements() -> None:
    clips = _clips()
    compiled = torch.compile(SemiNegativePairMixer(), backend="eager", fullgraph=True)
    torch.manual_seed(0)
    first = compiled(clips)
    _check_mixed(first, clips)
    torch.manual_seed(0)
    assert torch.equal(compiled(clips).partner, first.partner)  # seeded: reproducible


def test_mixer_exports_and_draws_derangements() -> None:
    clips = _clips()
    exported = torch.export.export(SemiNegativePairMixer(), (clips,))
    for _ in range(3):
        _check_mixed(exported.module()(clips), clips)


def test_in_graph_derangement_is_uniform_and_has_no_fixed_point() -> None:
    draw = torch.compile(lambda: random_derangement(3), backend="eager", fullgraph=True)
    torch.manual_seed(0)
    counts: dict[tuple[int, ...], int] = {}
    for _ in range(600):
        partner = tuple(draw().tolist())
        counts[partner] = counts.get(partner, 0) + 1
    assert set(counts) == {(1, 2, 0), (2, 0, 1)}  # the two derangements of 3
    assert abs(counts[(1, 2, 0)] - 300) < 60


def test_eager_draw_is_unchanged_by_the_compiled_path() -> None:
    """The eager rejection loop still makes the draws the benchmarks were measured with."""
    partner = random_derangement(8, generator=torch.Generator().manual_seed(0))
    generator = torch.Generator().manual_seed(0)
    identity = torch.arange(8)
    while True:
        expected = torch.randperm(8, generator=generator)
        if bool((expected != identity).all()):
            break
    assert torch.equal(partner, expected)


def test_output_dataclasses_are_pytrees() -> None:
    from torch.utils import _pytree as pytree

    for cls in (DecoupledClip, MixedBatch, MotionDecomposition):
        count = len(fields(cls))
        leaves, _ = pytree.tree_flatten(cls(*[torch.zeros(1)] * count))
        assert len(leaves) == count
