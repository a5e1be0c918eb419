from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from bgdebias import (
    MotionAwareDecomposition,
    SemiNegativePairMixer,
    StaticDynamicDecoupler,
)
from bgdebias.viz import (
    Panel,
    activation_norm_map,
    build_panel,
    cam_panel,
    clip_to_frames,
    colormap_lut,
    decoupler_panel,
    mixer_panel,
    saliency_panel,
)

B, T, S, GAP = 3, 6, 24, 2


def _moving_squares() -> torch.Tensor:
    """A bright 6x6 square sliding right over a smooth, static, per-clip background."""
    generator = torch.Generator().manual_seed(0)
    coarse = torch.rand(B, 3, 3, 3, generator=generator)
    background = 0.2 + 0.4 * torch.nn.functional.interpolate(coarse, size=(S, S), mode="bilinear")
    clip = background.unsqueeze(2).repeat(1, 1, T, 1, 1)
    for b in range(B):
        top = 3 + 5 * b
        for t in range(T):
            left = 1 + 3 * t
            clip[b, :, t, top : top + 6, left : left + 6] = torch.tensor([1.0, 0.9, 0.8]).view(
                3, 1, 1
            )
    return clip


def _cell(panel: Panel, row: int, t: int) -> np.ndarray:
    """Frame t of a row, cut out of the strip image by the documented layout."""
    margin = panel.image.shape[1] - (T * S + (T - 1) * GAP)
    top, left = row * (S + GAP), margin + t * (S + GAP)
    return panel.image[top : top + S, left : left + S]


def _check_layout(panel: Panel, rows: int, frames: int) -> None:
    margin = panel.image.shape[1] - (T * S + (T - 1) * GAP)
    assert margin > 0  # labels
    assert panel.image.shape == (rows * S + (rows - 1) * GAP, margin + T * S + (T - 1) * GAP, 3)
    assert panel.animation.shape == (frames, rows * S + (rows - 1) * GAP, margin + S, 3)
    assert panel.image.dtype == panel.animation.dtype == np.uint8
    assert len(panel.rows) == len(panel.labels) == rows
    for r, row in enumerate(panel.rows):
        for t in range(row.shape[0]):
            np.testing.assert_array_equal(_cell(panel, r, t), row[t])
            np.testing.assert_array_equal(panel.animation[t, r * (S + GAP) :][:S, margin:], row[t])


def test_decoupler_panel_colours_exactly_the_mask() -> None:
    clip = _moving_squares()
    decoupled = StaticDynamicDecoupler(beta=0.15, mask_mode="frame")(clip)
    panel = decoupler_panel(clip, decoupled, index=1, alpha=0.5)
    _check_layout(panel, rows=4, frames=T)
    assert panel.labels == ("clip", "mask", "static", "dynamic")
    frames = clip_to_frames(clip[1])
    np.testing.assert_array_equal(panel.rows[0], frames)
    mask = decoupled.mask[1, 0].numpy() > 0.5
    assert 0 < mask.mean() < 0.5
    mask_row = panel.rows[1]
    np.testing.assert_array_equal(mask_row[~mask], frames[~mask])
    hot = np.rint(0.5 * frames[mask].astype(float) + 0.5 * colormap_lut("viridis")[255])
    np.testing.assert_array_equal(mask_row[mask], hot.astype(np.uint8))
    assert (mask_row[mask] != frames[mask]).any(axis=-1).all()
    np.testing.assert_array_equal(panel.rows[2], clip_to_frames(decoupled.static[1]))
    np.testing.assert_array_equal(panel.rows[3], clip_to_frames(decoupled.dynamic[1]))


def test_decoupler_panel_on_a_normalised_clip() -> None:
    clip = _moving_squares()
    mean, std = (0.4, 0.4, 0.4), (0.2, 0.2, 0.2)
    normalised = (clip - 0.4) / 0.2
    decoupled = StaticDynamicDecoupler()(normalised)
    panel = decoupler_panel(normalised, decoupled, mean=mean, std=std)
    np.testing.assert_array_equal(panel.rows[0], clip_to_frames(clip[0]))


def test_mixer_panel_shows_clip_partner_mixed_and_background() -> None:
    clips = _moving_squares()
    mixed = SemiNegativePairMixer()(clips, generator=torch.Generator().manual_seed(0))
    panel = mixer_panel(clips, mixed, 2)
    _check_layout(panel, rows=4, frames=T)
    j = int(mixed.partner[2])
    assert panel.labels == ("clip 2", f"partner {j}", "mixed", "background")
    views = [clips[2], clips[j], mixed.mixed[2], mixed.background[2]]
    for row, view in zip(panel.rows, views, strict=True):
        np.testing.assert_array_equal(row, clip_to_frames(view))
    unmixed = SemiNegativePairMixer(mix_prob=0.0)(clips)
    assert mixer_panel(clips, unmixed, index=0).labels[2] == "mixed (unchanged)"


def test_saliency_panel_rows() -> None:
    clip = _moving_squares()
    features = torch.nn.functional.avg_pool3d(clip, (2, 4, 4))  # (B, 3, 3, 6, 6)
    decomposition = MotionAwareDecomposition()(features)
    panel = saliency_panel(clip, decomposition, index=0, alpha=1.0)
    _check_layout(panel, rows=3, frames=T)
    assert [row.shape[0] for row in panel.rows] == [T, T, 2]  # T' - 1 steps
    # Where the saliency is 1 (after resizing), the overlay is the hottest colour.
    hottest = (panel.rows[1] == colormap_lut("viridis")[255]).all(axis=-1)
    assert hottest.any()
    assert (hottest == hottest[0]).all()  # one map for all frames
    ys, _ = np.nonzero(hottest[0])
    assert ys.max() < 12  # clip 0's square moves along the top half; the rest is static
    # Rows shorter than T show the background in the animation.
    margin = panel.animation.shape[2] - S
    assert (panel.animation[-1, 2 * (S + GAP) :, margin:] == 255).all()


def test_cam_panel_rows_and_files(tmp_path: Path) -> None:
    clip = _moving_squares()
    features = torch.nn.functional.avg_pool3d(clip, (2, 4, 4))
    cam = activation_norm_map(features)  # (B, 3, 6, 6), T' = 3 divides T = 6
    panel = cam_panel(clip, cam, index=-1)
    _check_layout(panel, rows=3, frames=T)
    assert [row.shape[0] for row in panel.rows] == [T, T, T]
    np.testing.assert_array_equal(panel.rows[0], clip_to_frames(clip[2]))
    # Each of the T' = 3 maps covers T / T' = 2 frames, in the overlay (at alpha 1 the
    # overlay is the map) and in the map's own row.
    opaque = cam_panel(clip, cam, index=-1, alpha=1.0)
    np.testing.assert_array_equal(opaque.rows[1], opaque.rows[2])
    np.testing.assert_array_equal(opaque.rows[2][0::2], opaque.rows[2][1::2])
    assert not np.array_equal(opaque.rows[2][0], opaque.rows[2][2])
    single = cam_panel(clip[2], cam[2])
    np.testing.assert_array_equal(single.image, panel.image)
    png = panel.save_png(tmp_path / "cam.png")
    gif = panel.save_gif(tmp_path / "cam.gif", fps=5)
    with Image.open(png) as image:
        assert image.size == (panel.image.shape[1], panel.image.shape[0])
    with Image.open(gif) as image:
        assert image.size == (panel.animation.shape[2], panel.animation.shape[1])
        assert image.n_frames == T
        assert image.info["duration"] == 200


def test_cam_gif_shows_a_map_in_every_frame(tmp_path: Path) -> None:
    """A stage with temporal stride 2 has T' = T / 2 maps; the GIF's map row never blanks."""
    clip = _moving_squares()
    cam = activation_norm_map(torch.nn.functional.avg_pool3d(clip, (2, 4, 4)))  # T' = 3
    panel = cam_panel(clip, cam, colormap="gray")
    margin = panel.animation.shape[2] - S
    gif = panel.save_gif(tmp_path / "cam.gif")
    with Image.open(gif) as image:
        for t in range(T):
            image.seek(t)
            frame = np.asarray(image.convert("RGB"))
            map_row = frame[2 * (S + GAP) : 2 * (S + GAP) + S, margin:]
            assert (map_row != 255).any(), f"GIF frame {t} shows no map"


def test_build_panel_for_custom_rows() -> None:
    rows = [np.zeros((2, 4, 4, 3), np.uint8), np.full((1, 4, 4, 3), 9, np.uint8)]
    panel = build_panel(rows, ["a", "b"], gap=0)
    assert panel.animation.shape[0] == 2
    assert panel.image.shape[0] == 8


def _decoupled() -> tuple[torch.Tensor, object]:
    clip = _moving_squares()
    return clip, StaticDynamicDecoupler()(clip)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda c, d: decoupler_panel(c, d, index=3), ValueError,
         "`index` must be in [-3, 2] for a batch of 3, got 3"),
        (lambda c, d: decoupler_panel(c, d, index=1.0), TypeError,  # type: ignore[arg-type]
         "`index` must be an int, got float (1.0)"),
        (lambda c, _d: decoupler_panel(c, c), TypeError,
         "`decoupled` must be a DecoupledClip, got Tensor"),
        (lambda c, d: decoupler_panel(c[:2], d), ValueError,
         "`decoupled.mask` holds 3 clips but the clip batch has 2"),
        (lambda c, d: decoupler_panel(c[:, :, :4], d), ValueError,
         "`decoupled.mask` has shape (3, 1, 6, 24, 24), which does not match the clip's "
         "(T, H, W) = (4, 24, 24)"),
        (lambda c, d: decoupler_panel(c[0, 0], d), ValueError,
         "`clip` must be 5D (B, C, T, H, W) or 4D (C, T, H, W), got 3D"),
        (lambda c, d: decoupler_panel((c * 255).to(torch.uint8), d), TypeError,
         "`clip` must have a floating-point dtype"),
        (lambda c, d: decoupler_panel(c, d, alpha=2.0), ValueError,
         "`alpha` must be in the closed interval [0, 1], got 2.0"),
        (lambda c, d: mixer_panel(c, d), TypeError, "`mixed_batch` must be a MixedBatch, got "
         "DecoupledClip"),
        (lambda c, d: saliency_panel(c, d), TypeError,
         "`decomposition` must be a MotionDecomposition, got DecoupledClip"),
        (lambda c, _d: cam_panel(c, torch.rand(3, 6, 6)), ValueError,
         "`cam` of shape (3, 6, 6) holds one clip's maps but `clip` holds 3 clips"),
        (lambda c, _d: cam_panel(c, torch.rand(2, 3, 6, 6)), ValueError,
         "`cam` holds 2 clips but the clip batch has 3"),
        (lambda c, _d: cam_panel(c, torch.rand(3, 4, 6, 6)), ValueError,
         "`heat` has T'=4 maps but the frames have T=6"),
        (lambda c, _d: cam_panel(c, torch.rand(6, 6)), ValueError,
         "`cam` must be 3D (T', H', W') or 4D (B, T', H', W'), got 2D"),
        (lambda c, _d: cam_panel(c, torch.rand(3, 3, 6, 6), colormap="jet"), ValueError,  # type: ignore[arg-type]
         "`colormap` must be one of 'viridis', 'inferno', 'turbo', 'gray'; got 'jet'"),
    ],
)  # fmt: skip
def test_errors(call: object, error: type[Exception], message: str) -> None:
    clip, decoupled = _decoupled()
    with pytest.raises(error, match=re.escape(message)):
        call(clip, decoupled)  # type: ignore[operator]
