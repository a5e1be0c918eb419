"""FAME's exact mask: checked against a step-by-step port of the official ``FAME.getmask``."""

from __future__ import annotations

import math
import re

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from bgdebias import StaticDynamicDecoupler
from bgdebias.blocks import MIN_FRAME_SIDE, fame_foreground_mask
from bgdebias.blocks.fame_mask import fame_blur_kernel_size
from scenes import moving_square_scene

# --- reference: FAME's getmask / getSeg / norm_batch, step by step --------------------------
# Written from the official moco/loader.py (Mark12Ding/FAME), with kornia 0.6's rgb_to_hsv
# and GaussianBlur2d spelled out the way kornia computes them (max + gather for the hue,
# a separable filter2d with grouped convolutions), and loops where FAME indexes by clip.


def _reference_kernel(size: int) -> torch.Tensor:
    sigma = size / 3
    x = torch.arange(size) - size // 2  # int64, as in kornia 0.6
    gauss = torch.exp(-x.pow(2.0) / (2 * sigma**2))
    return gauss / gauss.sum()


def _reference_filter2d(image: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """kornia's filter2d, 'reflect' border, 'same' padding: kernel (1, kh, kw)."""
    batch, channels, height, width = image.shape
    kh, kw = kernel.shape[-2:]
    padded = F.pad(image, [kw // 2, kw // 2, kh // 2, kh // 2], mode="reflect")
    weight = kernel.unsqueeze(1).to(image).expand(-1, channels, -1, -1).reshape(-1, 1, kh, kw)
    out = F.conv2d(padded.view(-1, channels, *padded.shape[-2:]), weight, groups=channels)
    return out.view(batch, channels, height, width)


def _reference_gauss(image: torch.Tensor, size: int) -> torch.Tensor:
    kernel = _reference_kernel(size)
    horizontal = _reference_filter2d(image, kernel[None].unsqueeze(0))
    return _reference_filter2d(horizontal, kernel[None].unsqueeze(-1))


def _reference_rgb_to_hsv(image: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    max_rgb, argmax_rgb = image.max(-3)
    min_rgb = image.min(-3)[0]
    deltac = max_rgb - min_rgb
    v = max_rgb
    s = deltac / (max_rgb + eps)
    deltac = torch.where(deltac == 0, torch.ones_like(deltac), deltac)
    rc, gc, bc = torch.unbind(max_rgb.unsqueeze(-3) - image, dim=-3)
    h1 = bc - gc
    h2 = (rc - bc) + 2.0 * deltac
    h3 = (gc - rc) + 4.0 * deltac
    h = torch.stack((h1, h2, h3), dim=-3) / deltac.unsqueeze(-3)
    h = torch.gather(h, dim=-3, index=argmax_rgb.unsqueeze(-3)).squeeze(-3)
    h = (h / 6.0) % 1.0
    h = 2.0 * math.pi * h
    return torch.stack((h, s, v), dim=-3)


def _reference_norm_batch(matrix: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    batch, height, width = matrix.shape
    matrix = matrix.flatten(start_dim=1)
    matrix = matrix - matrix.min(dim=-1, keepdim=True)[0]
    matrix = matrix / (matrix.max(dim=-1, keepdim=True)[0] + eps)
    return matrix.reshape(batch, height, width)


def _reference_fame_mask(clip: torch.Tensor, beta: float, crop_size: int) -> torch.Tensor:
    eps = 1e-8
    size = int(0.1 * crop_size) // 2 * 2 + 1
    B, C, _, H, W = clip.shape
    # getmask
    diff = (clip[:, :, 0:-1] - clip[:, :, 1:]).abs().sum(dim=1).mean(dim=1)
    mask = _reference_norm_batch(_reference_gauss(diff.reshape(-1, 1, H, W), size)[:, 0])
    # getSeg
    hsv = _reference_rgb_to_hsv(clip.mean(dim=2).reshape(-1, C, H, W)).reshape(B, -1, H, W)
    fg_index = torch.topk(mask.reshape(B, -1), k=int(0.5 * H * W), dim=-1)[1]
    bg_index = torch.topk(mask.reshape(B, -1), k=int(0.1 * H * W), dim=-1, largest=False)[1]
    hue, sat, val = hsv[:, 0], hsv[:, 1], hsv[:, 2]
    hx = (sat * torch.cos(hue * 2 * math.pi) + 1) / 2
    hy = (sat * torch.sin(hue * 2 * math.pi) + 1) / 2
    h = torch.round(hx * 9 + 1)
    s = torch.round(hy * 9 + 1)
    v = torch.round(val * 9 + 1)
    colour = (h + (s - 1) * 10 + (v - 1) * 100).reshape(B, -1).long()
    refine = torch.empty(B, H * W)
    for b in range(B):
        fg = torch.bincount(colour[b, fg_index[b]], minlength=1000)
        bg = torch.bincount(colour[b, bg_index[b]], minlength=1000)
        assert len(fg) == len(bg) == 1000  # FAME's scatter_add_ would fail otherwise
        dict_fg = fg.float()
        dict_bg = bg.float() + 1
        dict_fg = dict_fg / (dict_fg.sum() + eps)
        dict_bg = dict_bg / (dict_bg.sum() + eps)
        pr_fg, pr_bg = dict_fg[colour[b]], dict_bg[colour[b]]
        refine[b] = pr_fg / (pr_bg + pr_fg)
    refined = _reference_gauss(refine.reshape(-1, 1, H, W), size)
    refined = _reference_norm_batch(refined.reshape(-1, H, W))
    num_fg = int(beta * H * W)
    chosen = torch.topk(refined.reshape(B, -1), k=num_fg, dim=-1)[1]
    out = torch.zeros(B, H * W)
    for b in range(B):
        out[b, chosen[b]] = 1
    return out.reshape(B, H, W)


# --- clips ----------------------------------------------------------------------------------


def _textured_square(
    batch: int, frames: int, height: int, width: int, seed: int, quantise: bool
) -> torch.Tensor:
    """A coloured square sliding over a static noisy texture, one texture per clip."""
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.rand(batch, 3, max(height // 8, 1), max(width // 8, 1), generator=generator)
    texture = F.interpolate(coarse, size=(height, width), mode="bilinear", align_corners=False)
    texture = (texture + 0.1 * torch.rand(batch, 3, height, width, generator=generator)).clamp(0, 1)
    clip = texture.unsqueeze(2).repeat(1, 1, frames, 1, 1)
    side = max(2, min(height, width) // 5)
    colour = torch.rand(batch, 3, generator=generator)
    for b in range(batch):
        top = int(torch.randint(0, height - side + 1, (1,), generator=generator))
        for t in range(frames):
            left = min(width - side, t * max(1, width // (2 * frames)) + b)
            clip[b, :, t, top : top + side, left : left + side] = colour[b].view(3, 1, 1)
    return (clip * 255).round() / 255 if quantise else clip


def _random_clip(
    batch: int, frames: int, height: int, width: int, seed: int, quantise: bool
) -> torch.Tensor:
    clip = torch.rand(
        batch, 3, frames, height, width, generator=torch.Generator().manual_seed(seed)
    )
    return (clip * 255).round() / 255 if quantise else clip


CASES = [
    # (maker, frames, height, width, beta, quantise)
    (_textured_square, 8, 16, 16, 0.5, False),  # kernel 1: no blur
    (_textured_square, 4, 20, 20, 0.5, True),  # kernel 3
    (_textured_square, 6, 37, 37, 0.3, False),
    (_textured_square, 8, 56, 56, 0.5, True),  # FAME 5, auto_blur_kernel_size 7
    (_textured_square, 8, 64, 64, 0.7, False),
    (_textured_square, 4, 96, 96, 0.5, True),
    (_textured_square, 8, 128, 128, 0.5, False),
    (_textured_square, 5, 40, 64, 0.5, False),  # H != W: kernel from the short side
    (_textured_square, 5, 72, 48, 0.25, True),
    (_random_clip, 2, 16, 16, 0.5, False),
    (_random_clip, 3, 33, 33, 0.5, True),
    (_random_clip, 4, 64, 64, 0.4, True),
    (_random_clip, 4, 112, 112, 0.5, False),
    (_random_clip, 3, 50, 30, 0.6, True),
]


@pytest.mark.parametrize(("maker", "frames", "height", "width", "beta", "quantise"), CASES)
def test_matches_the_reference_port_exactly(
    maker: object, frames: int, height: int, width: int, beta: float, quantise: bool
) -> None:
    clip = maker(3, frames, height, width, 7 * height + width, quantise)  # type: ignore[operator]
    expected = _reference_fame_mask(clip, beta, crop_size=min(height, width))
    mask = fame_foreground_mask(clip, beta=beta)
    assert mask.dtype == torch.float32
    assert mask.shape == (3, height, width)
    assert torch.equal(mask, expected), int((mask != expected).sum())


def test_reference_port_follows_the_moving_square() -> None:
    """Sanity check of the port itself: FAME's mask covers most of the square's path."""
    scene = moving_square_scene(size=64, side=12)  # the path covers 12% of the frame
    reference = _reference_fame_mask(scene.clip, 0.3, crop_size=64)
    for b in range(scene.clip.shape[0]):
        path = scene.path[b, 0]
        assert (reference[b].bool() & path).sum() >= 0.9 * path.sum()


def test_colour_index_never_leaves_the_histogram() -> None:
    """FAME's index h + 10 (s - 1) + 100 (v - 1) runs over 1..999 for colours in [0, 1]."""
    levels = torch.linspace(0, 1, 61)
    grid = torch.stack(torch.meshgrid(levels, levels, levels, indexing="ij")).reshape(1, 3, 61, -1)
    edge = torch.rand(1, 3, 100, 100, generator=torch.Generator().manual_seed(0)).round()
    for image in (grid, edge, grid * (1 - 1e-7), grid.clamp_min(1e-7)):
        hsv = _reference_rgb_to_hsv(image)
        hx = (hsv[:, 1] * torch.cos(hsv[:, 0] * 2 * math.pi) + 1) / 2
        hy = (hsv[:, 1] * torch.sin(hsv[:, 0] * 2 * math.pi) + 1) / 2
        h, s = torch.round(hx * 9 + 1), torch.round(hy * 9 + 1)
        colour = h + (s - 1) * 10 + (torch.round(hsv[:, 2] * 9 + 1) - 1) * 100
        assert colour.min() >= 1
        assert colour.max() <= 999
        assert not bool(((h == 10) & (s == 10)).any())


def test_static_clip_gives_an_empty_mask_where_fame_picks_pixels() -> None:
    frame = torch.rand(2, 3, 1, 24, 24, generator=torch.Generator().manual_seed(1))
    still = frame.expand(-1, -1, 5, -1, -1).contiguous()
    assert fame_foreground_mask(still).sum() == 0
    # FAME normalises the all-zero map and still marks int(0.5 * 24 * 24) pixels per clip.
    assert _reference_fame_mask(still, 0.5, crop_size=24).sum(dim=(1, 2)).tolist() == [288] * 2


def test_differs_from_the_fraction_threshold_on_a_textured_clip() -> None:
    """The documented difference: colour refinement, FAME's kernel and int instead of round."""
    clip = _textured_square(2, 8, 56, 56, seed=3, quantise=True)
    fame = fame_foreground_mask(clip, beta=0.5)
    decoupler = StaticDynamicDecoupler(threshold="fraction", mask_mode="clip", beta=0.5)
    fraction = decoupler(clip).mask[:, 0, 0]
    assert fame.shape == fraction.shape
    assert (fame != fraction).float().mean() > 0.05
    assert fame.sum(dim=(1, 2)).tolist() == [int(0.5 * 56 * 56)] * 2


def test_computes_in_float32_for_any_dtype_and_under_autocast() -> None:
    clip = _textured_square(2, 6, 40, 40, seed=5, quantise=True)
    expected = fame_foreground_mask(clip)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        under_autocast = fame_foreground_mask(clip)
    assert under_autocast.dtype == torch.float32
    assert torch.equal(under_autocast, expected)
    for dtype in (torch.float64, torch.bfloat16, torch.float16):
        low = clip.to(dtype)
        mask = fame_foreground_mask(low)
        assert mask.dtype == dtype
        assert torch.equal(mask.float(), fame_foreground_mask(low.float()))


def test_unchecked_out_of_range_values_do_not_fail() -> None:
    clip = (_random_clip(2, 3, 32, 32, seed=0, quantise=False) - 0.45) / 0.225
    mask = fame_foreground_mask(clip, check_range=False)
    assert mask.sum(dim=(1, 2)).tolist() == [512.0, 512.0]


def test_blur_kernel_size_is_fames() -> None:
    sides = range(1, 400)
    assert [fame_blur_kernel_size(side) for side in sides] == [
        int(0.1 * side) // 2 * 2 + 1 for side in sides
    ]
    assert [fame_blur_kernel_size(side) for side in (19, 20, 56, 112, 224)] == [1, 3, 5, 11, 23]


# --- properties ------------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    batch=st.integers(1, 3),
    frames=st.integers(2, 5),
    height=st.integers(4, 40),
    width=st.integers(4, 40),
    beta=st.floats(0.01, 0.99),
    seed=st.integers(0, 2**16),
    still=st.booleans(),
)
def test_mask_has_int_beta_pixels_per_moving_clip_and_is_deterministic(
    batch: int, frames: int, height: int, width: int, beta: float, seed: int, still: bool
) -> None:
    clip = _random_clip(batch, frames, height, width, seed, quantise=seed % 2 == 0)
    if still:
        clip[0] = clip[0, :, :1]  # the first clip does not move
    mask = fame_foreground_mask(clip, beta=beta)
    assert mask.shape == (batch, height, width)
    assert bool(((mask == 0) | (mask == 1)).all())
    expected = [int(beta * height * width)] * batch
    if still:
        expected[0] = 0
    assert mask.sum(dim=(1, 2)).tolist() == expected
    assert torch.equal(mask, fame_foreground_mask(clip, beta=beta))


# --- errors ------------------------------------------------------------------------------------


def test_a_batch_laid_out_b_t_c_h_w_is_rejected_with_the_expected_layout() -> None:
    clips = moving_square_scene(size=16).clip.permute(0, 2, 1, 3, 4)  # 8 frames of 3 channels
    message = (
        "`clip` must have C=3 channels in dimension 1 of the layout (B, C, T, H, W), got C=8 "
        "in shape (2, 8, 3, 16, 16); this looks like a (B, T, C, H, W) batch of 8 frames: "
        "pass `clip.permute(0, 2, 1, 3, 4)`; FAME's colour histograms need RGB frames"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        fame_foreground_mask(clips)


def test_smallest_frame_is_accepted_and_one_pixel_less_rejected() -> None:
    side = MIN_FRAME_SIDE
    clip = torch.rand(2, 3, 3, side, side, generator=torch.Generator().manual_seed(0))
    assert fame_foreground_mask(clip).sum(dim=(1, 2)).tolist() == [side * side // 2] * 2
    for height, width in ((side - 1, side), (side, side - 1)):
        message = (
            f"`clip` frames must be at least {side} x {side} pixels (dimensions H and W of "
            f"(B, C, T, H, W)), got H={height}, W={width} in shape (2, 3, 3, {height}, {width})"
        )
        with pytest.raises(ValueError, match=re.escape(message)):
            fame_foreground_mask(clip[:, :, :, :height, :width])


@pytest.mark.parametrize(
    ("clip", "kwargs", "error", "message"),
    [
        (torch.rand(2, 1, 4, 8, 8), {}, ValueError, "`clip` must have C=3 channels"),
        (torch.rand(2, 1, 4, 8, 8), {}, ValueError, "FAME's colour histograms need RGB frames"),
        (torch.rand(2, 3, 1, 8, 8), {}, ValueError, "`clip` needs at least 2 frames"),
        (torch.rand(3, 4, 8, 8), {}, ValueError, "`clip` must be a 5D tensor"),
        (torch.ones(1, 3, 2, 8, 8, dtype=torch.uint8), {}, TypeError, "floating-point dtype"),
        (torch.rand(1, 3, 2, 8, 8) * 2, {}, ValueError, "`clip` must hold RGB values in [0, 1]"),
        (torch.full((1, 3, 2, 8, 8), float("nan")), {}, ValueError, "values outside it or NaN"),
        (torch.rand(1, 3, 2, 8, 8), {"beta": 1.0}, ValueError, "`beta` must be in the open"),
        (torch.rand(1, 3, 2, 8, 8), {"beta": "half"}, TypeError, "`beta` must be a number"),
    ],
)
def test_errors(
    clip: torch.Tensor, kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=re.escape(message)):
        fame_foreground_mask(clip, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("side", "error", "message"),
    [
        (0, ValueError, "`side` must be an int >= 1, got 0"),
        (12.0, TypeError, "`side` must be an int, got float"),
    ],
)
def test_blur_kernel_size_errors(side: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=re.escape(message)):
        fame_blur_kernel_size(side)  # type: ignore[arg-type]
