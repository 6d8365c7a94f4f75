"""Every layer's output for a few images, tiled into 2-D grids the way the seed drew them.

Rendering (colour maps, PNG) belongs to the imaging module; this module only returns arrays.
"""
from __future__ import annotations

import math

import numpy as np

from generator.model import taps

# Flatten is Max_Pool_2 reshaped; showing it would repeat Max_Pool_2 as an unreadable strip.
SKIPPED_LAYERS = ("Flatten",)


def shown_layers(model, skip: tuple[str, ...] = SKIPPED_LAYERS) -> list[str]:
    """The layers whose activations are drawn, in the model's order."""
    return [info.name for info in taps.layers(model) if info.name not in skip]


def layer_activations(model, images_std: np.ndarray, batch_size: int = 256,
                      skip: tuple[str, ...] = SKIPPED_LAYERS) -> dict[str, np.ndarray]:
    """{layer name: float32 array (n, ...)} in layer order for standardized images (n, 28, 28, 1).

    Conv/pool layers give (n, H, W, C), Dense_1 (n, 100), Dense_2 (n, 10) softmax outputs.
    """
    images = np.asarray(images_std, dtype=np.float32)
    if images.ndim == 3:
        images = images[..., None]
    return taps.outputs(model, shown_layers(model, skip), images, batch_size=batch_size)


def grid_layout(activation: np.ndarray, cols: int = 8, sep: int = 1,
                dense_cols: int = 10) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """Tile one image's activation of one layer into a 2-D float array with NaN separators.

    (H, W, C) maps go `cols` to a row with `sep` NaN pixels between them; a dense vector becomes
    rows of `dense_cols` single-pixel nodes without separators (Dense_1: 10×10, Dense_2: 1×10).
    `positions[k]` is map or node k's (row0, col0, h, w) in the tiled array, for hover labels.
    Boolean masks (from compare_sets) tile the same way and come back as 0.0/1.0.
    """
    activation = np.asarray(activation, dtype=np.float32)
    if activation.ndim == 3:
        return _tile_maps(activation, cols, sep)
    if activation.ndim == 1:
        return _tile_nodes(activation, dense_cols)
    raise ValueError(f"expected one image's (H, W, C) maps or (nodes,) vector, got shape {activation.shape}")


def _tile_maps(maps: np.ndarray, cols: int, sep: int):
    h, w, count = maps.shape
    cols = min(cols, count)
    rows = math.ceil(count / cols)
    tiled = np.full((rows * h + (rows - 1) * sep, cols * w + (cols - 1) * sep), np.nan, dtype=np.float32)
    positions = []
    for k in range(count):
        row0, col0 = (k // cols) * (h + sep), (k % cols) * (w + sep)
        tiled[row0:row0 + h, col0:col0 + w] = maps[:, :, k]
        positions.append((row0, col0, h, w))
    return tiled, positions


def _tile_nodes(nodes: np.ndarray, dense_cols: int):
    count = nodes.shape[0]
    cols = min(dense_cols, count)
    rows = math.ceil(count / cols)
    # NaN pads a last partial row so it reads as "no node", not as a zero activation.
    tiled = np.full(rows * cols, np.nan, dtype=np.float32)
    tiled[:count] = nodes
    positions = [(k // cols, k % cols, 1, 1) for k in range(count)]
    return tiled.reshape(rows, cols), positions


def merge_activations(*acts: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Stack several sets' activations layer by layer, e.g. every set shown on one page."""
    return {name: np.concatenate([a[name] for a in acts], axis=0) for name in acts[0]}


def layer_stats(acts_by_layer: dict[str, np.ndarray]) -> dict[str, tuple[float, float]]:
    """{layer: (mean, std)} over every value of the layer for every image given."""
    return {name: (float(np.nanmean(a)), float(np.nanstd(a))) for name, a in acts_by_layer.items()}


def layer_scales(acts_by_layer: dict[str, np.ndarray], scaling: str = "raw") -> dict[str, tuple[float, float]]:
    """One (vmin, vmax) colour range per layer, shared by all images of a page.

    'raw': 0 .. the layer's largest value on the page, so equal colours mean equal activations
    across images (ReLU and softmax outputs are never negative).
    'standardized': values are thought of as z-scores z = (a - mean) / std over the page's values
    of that layer, shown on the symmetric range -m .. m with m = max |z|. The range is returned in
    raw units (mean - m*std .. mean + m*std), which colours every pixel exactly as the z-scores
    would, so the imaging module needs no separate path; the layer mean sits at the colour map's
    centre. Use `layer_stats` to label a colour bar in z units.
    """
    if scaling == "raw":
        return {name: _raw_range(a) for name, a in acts_by_layer.items()}
    if scaling == "standardized":
        return {name: _symmetric_z_range(a) for name, a in acts_by_layer.items()}
    raise ValueError(f"unknown scaling {scaling!r} (expected 'raw' or 'standardized')")


def _raw_range(values: np.ndarray) -> tuple[float, float]:
    top = float(np.nanmax(values))
    # A layer that is dead for every image on the page would give an empty range.
    return (0.0, top if top > 0 else 1.0)


def _symmetric_z_range(values: np.ndarray) -> tuple[float, float]:
    mean, std = float(np.nanmean(values)), float(np.nanstd(values))
    if not std > 0:
        return (mean - 1.0, mean + 1.0)
    m = float(np.nanmax(np.abs(values - mean))) / std
    return (mean - m * std, mean + m * std)
