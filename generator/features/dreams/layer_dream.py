"""Layer dreams (the classic DeepDream): gradient ascent on a weighted sum of layers' mean
activations, octave by octave from small to large, the gradient computed on tiles, with the
dream's detail carried up between octaves.

The objective, its compiled gradient and the transforms (tile shifts, clipping) come from the
ascent core; the conv/pool layers are fully convolutional, so the stock sub-model on (None, None,
C) inputs runs on a picture of any size. The steps themselves are float64 numpy on the whole
picture (one step size for the picture, not per tile). Pictures are (h, w) gray or (h, w, 3)
colour, as the model takes them, in pixel units (0..255 scale).
"""
from __future__ import annotations

import time

import numpy as np

from generator.ascent import objectives, render, transforms
from generator.ascent.views import ModelTap
from generator.model import taps
from generator.features.dreams import dream_picture as dp


def octave_sizes(shape: tuple[int, int], octaves: int, scale: float, least: tuple[int, int]) -> list[tuple[int, int]]:
    """Picture sizes (h, w) from small to large, the last the picture's own, no side below the
    model's input side `least` (h, w)."""
    return [tuple(max(lo, int(round(side / scale ** k))) for side, lo in zip(shape[:2], least))
            for k in reversed(range(octaves))]


def layer_dream(model, weights: dict[str, float], picture: np.ndarray, cfg, pixel_range, units,
                seed: int) -> dict:
    """The multi-octave dream. Returns `frames` (octaves, h, w[, 3]): the picture after each octave
    scaled to full size, `objective` (octaves, 2) before and after each octave's ascent, `sizes`
    (octaves, 2) the octaves' (h, w)."""
    mean, std = units
    objective = objectives.layer_dream(weights)
    gradient = render.gradient(ModelTap(model, objective.layers()), objective)
    base_std = (np.asarray(picture, np.float64) - mean) / std
    sizes = octave_sizes(picture.shape, cfg.octaves, cfg.octave_scale, taps.input_shape(model)[:2])
    # Offsets below the tile's longer side; tiled_gradient takes each modulo its own side.
    shifts = transforms.TileShift(seed, [max(tile_sides(cfg.tile_size, s)) for s in sizes for _ in range(cfg.octave_steps)])
    clip = transforms.Clip(*pixel_range)
    detail = np.zeros(sizes[0] + picture.shape[2:])
    frames, objective_values = [], []
    started = time.perf_counter()
    for k, size in enumerate(sizes):
        base = dp.resize(base_std, size)
        if k:
            detail = dp.resize(detail, size)
        x = base + detail
        before = _objective(gradient, x)
        for step in range(k * cfg.octave_steps, (k + 1) * cfg.octave_steps):
            g = tiled_gradient(gradient, x, cfg.tile_size, shifts(step))
            x = clip(x + cfg.octave_step_size * g / (g.std() + 1e-8))
        objective_values.append((before, _objective(gradient, x)))
        detail = x - base
        frames.append(dp.resize(x, picture.shape) * std + mean)
    return {"frames": np.stack(frames), "objective": np.asarray(objective_values),
            "sizes": np.asarray(sizes), "seconds": time.perf_counter() - started}


def tile_sides(tile: int, size: tuple[int, int]) -> tuple[int, int]:
    """The gradient's tile for a picture of `size` (h, w): tile×tile, no side longer than the picture's."""
    return min(tile, size[0]), min(tile, size[1])


def _batch(x: np.ndarray, gray: bool) -> np.ndarray:
    """Pictures (n, h, w) gray or (n, h, w, 3) colour as the model's input batch (float32)."""
    x = np.asarray(x, np.float32)
    return x[..., None] if gray else x


def _objective(gradient, x: np.ndarray) -> float:
    _, loss = gradient(_batch(x[None], x.ndim == 2))
    return float(loss)


def tiled_gradient(gradient, x: np.ndarray, tile: int, shift) -> np.ndarray:
    """The objective's gradient for a picture (h, w[, 3]), computed on tile×tile pieces (no side
    longer than the picture's) in one batch: the picture is shifted by `shift` (dy, dx), taken
    modulo the tile's sides, or an offset drawn from it if it is a generator (wrapping around),
    and padded by reflection to whole tiles."""
    h, w = x.shape[:2]
    th, tw = tile_sides(tile, (h, w))
    dy, dx = (int(v) for v in (shift.integers(0, (th, tw), size=2) if hasattr(shift, "integers") else shift))
    dy, dx = dy % th, dx % tw
    shifted = np.roll(x, (-dy, -dx), axis=(0, 1))
    ph, pw = -h % th, -w % tw
    pad = ((0, ph), (0, pw)) + ((0, 0),) * (x.ndim - 2)
    padded = np.pad(shifted, pad, mode="reflect") if ph or pw else shifted
    pieces = dp.cut_tiles(padded, (0, 0), (th, tw))
    g, _ = gradient(_batch(pieces, x.ndim == 2))
    g = dp.join_tiles(np.asarray(g, np.float64).reshape(pieces.shape), padded.shape)
    return np.roll(g[:h, :w], (dy, dx), axis=(0, 1))
