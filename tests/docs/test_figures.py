"""The documentation's figures are what ``docs/make_figures.py`` makes, and stay small."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
FIGURES = REPO / "docs" / "_static" / "figures"
MAX_BYTES = 200 * 1024


def _make_figures_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_figures", REPO / "docs" / "make_figures.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), dtype=np.int16)


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    module = _make_figures_module()
    paths = module.make_figures(tmp_path_factory.mktemp("figures"))
    return {path.name: path for path in paths}


def test_every_figure_is_committed_and_small(regenerated: dict[str, Path]) -> None:
    module = _make_figures_module()
    assert set(regenerated) == set(module.FIGURES)
    for name in module.FIGURES:
        committed = FIGURES / name
        assert committed.is_file(), f"run `python docs/make_figures.py` and commit {name}"
        assert committed.stat().st_size < MAX_BYTES, name


def test_figures_are_up_to_date(regenerated: dict[str, Path]) -> None:
    """Same pixels up to float round-off (a colour-map level here and there)."""
    for name, path in regenerated.items():
        fresh, committed = _pixels(path), _pixels(FIGURES / name)
        assert fresh.shape == committed.shape, f"{name}: rerun `python docs/make_figures.py`"
        differing = (np.abs(fresh - committed).max(axis=2) > 8).mean()
        assert differing < 0.005, f"{name}: {differing:.2%} of pixels changed; rerun the script"


def test_figures_are_deterministic(tmp_path: Path, regenerated: dict[str, Path]) -> None:
    module = _make_figures_module()
    again = {path.name: path for path in module.make_figures(tmp_path)}
    for name, path in regenerated.items():
        assert np.array_equal(_pixels(path), _pixels(again[name])), name


def test_method_page_shows_every_figure() -> None:
    module = _make_figures_module()
    method = (REPO / "docs" / "method.md").read_text(encoding="utf-8")
    for name in module.FIGURES:
        assert f"_static/figures/{name}" in method, name
