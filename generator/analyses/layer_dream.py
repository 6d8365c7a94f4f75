"""Layer dreams (the classic DeepDream): gradient ascent on a weighted sum of layers' mean
activations, octave by octave from small to large, the gradient computed on tiles, with the
dream's detail carried up between octaves.

The objective, its compiled gradient and the transforms (tile shifts, clipping) come from the
ascent core; the conv/pool layers are fully convolutional, so the stock sub-model on (None, None,
1) inputs runs on a picture of any size. The steps themselves are float64 numpy on the whole
picture (one step size for the picture, not per tile). Arrays are in pixel units (0..255 scale).
"""
from __future__ import annotations

import time

import numpy as np

from ..ascent import objectives, render, transforms
from ..ascent.views import ModelTap
from . import dream_picture as dp


def octave_sizes(size: int, octaves: int, scale: float) -> list[int]:
    """Picture sides from small to large, the last the picture's own, none below 28."""
    return [max(dp.TILE, int(round(size / scale ** k))) for k in reversed(range(octaves))]


def layer_dream(model, weights: dict[str, float], picture: np.ndarray, cfg, pixel_range, units,
                seed: int) -> dict:
    """The multi-octave dream. Returns `frames` (octaves, size, size): the picture after each octave
    scaled to full size, `objective` (octaves, 2) before and after each octave's ascent."""
    mean, std = units
    objective = objectives.layer_dream(weights)
    gradient = render.gradient(ModelTap(model, objective.layers()), objective)
    base_std = (np.asarray(picture, np.float64) - mean) / std
    sizes = octave_sizes(picture.shape[0], cfg.octaves, cfg.octave_scale)
    shifts = transforms.TileShift(seed, [min(cfg.tile_size, s) for s in sizes for _ in range(cfg.octave_steps)])
    clip = transforms.Clip(*pixel_range)
    detail = np.zeros((sizes[0], sizes[0]))
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
            "seconds": time.perf_counter() - started}


def _objective(gradient, x: np.ndarray) -> float:
    _, loss = gradient(np.asarray(x, np.float32)[None, ..., None])
    return float(loss)


def tiled_gradient(gradient, x: np.ndarray, tile: int, shift) -> np.ndarray:
    """The objective's gradient for a picture, computed on tile×tile pieces in one batch: the picture
    is shifted by `shift` (dy, dx), or an offset drawn from it if it is a generator (wrapping
    around), and padded by reflection to whole tiles."""
    h, w = x.shape
    tile = min(tile, h, w)
    dy, dx = (int(v) for v in (shift.integers(0, tile, size=2) if hasattr(shift, "integers") else shift))
    shifted = np.roll(x, (-dy, -dx), axis=(0, 1))
    ph, pw = -h % tile, -w % tile
    padded = np.pad(shifted, ((0, ph), (0, pw)), mode="reflect") if ph or pw else shifted
    H, W = padded.shape
    pieces = padded.reshape(H // tile, tile, W // tile, tile).swapaxes(1, 2).reshape(-1, tile, tile, 1)
    g, _ = gradient(pieces.astype(np.float32))
    g = np.asarray(g, np.float64).reshape(H // tile, W // tile, tile, tile).swapaxes(1, 2).reshape(H, W)
    return np.roll(g[:h, :w], (dy, dx), axis=(0, 1))
