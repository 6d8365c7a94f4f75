"""What an OIP result says about each map: its status, its super-stimulus ratio, its best start.

Plain numpy on the stage's arrays, so pages can read results without importing the engine.
"""
from __future__ import annotations

import numpy as np

from generator.registry import layer_result


NAME = "oip"


def best_final(final: np.ndarray, failed: np.ndarray) -> np.ndarray:
    """Each map's strongest final activation over its starts, ignoring failed starts (-inf if all)."""
    return np.where(failed, -np.inf, final).max(axis=-1)


def best_start(final: np.ndarray, failed: np.ndarray) -> np.ndarray:
    """Index of each map's strongest start, ignoring failed starts."""
    return np.where(failed, -np.inf, final).argmax(axis=-1)


def super_ratio(final: np.ndarray, failed: np.ndarray, best_test: np.ndarray) -> np.ndarray:
    """Best OIP's mean activation over the best test image's: inf when no test image activates the
    map but the ascent does, NaN when every start failed (there is no pattern to compare)."""
    best = best_final(final, failed)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(best_test > 0, best / best_test, np.where(best > 0, np.inf, 0.0))
    return np.where(np.isneginf(best), np.nan, ratio)


def stage_name(layer: str) -> str:
    """The results key (and cache folder) of one layer's OIPs."""
    return layer_result(NAME, layer)


def start_labels(noise_scales, start_image: np.ndarray | None) -> list[str]:
    """What each start of one map began from: "noise scale 7 px", or "test image #123" for a start the
    OIP stage made from the test image that drives the map hardest (start_image[s] >= 0)."""
    labels = [f"noise scale {scale} px" for scale in noise_scales]
    if start_image is not None:
        labels = [f"test image #{int(i)}" if i >= 0 else label for label, i in zip(labels, start_image)]
    return labels
