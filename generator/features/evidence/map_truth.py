"""What the firing counts say about each map: a status that is true to the test set and the ascent.

live: fires on at least 1 % of the test images; rare: on some, but fewer than 1 %; silent: on no
test image, yet the ascent finds an input that wakes it; dead: no test image and no start wakes it;
failed: no test image fires it and every start broke, so nothing tells silent from dead.
Plain numpy, so pages can read it without importing the engine.
"""
from __future__ import annotations

import numpy as np

from generator.features.patterns.oip_results import best_final

STATUSES = ("live", "rare", "silent", "dead", "failed")
RARE_SHARE = 0.01  # "rare": fires on fewer than 1 % of the test images
MEANING = {"live": "fires on at least 1 % of the test images",
           "rare": "fires on fewer than 1 % of the test images",
           "silent": "no test image fires it; the ascent finds an input that does",
           "dead": "no test image and no start of the ascent wakes it",
           "failed": "no test image fires it and every start of the ascent broke"}


def map_status(fire: np.ndarray, n_images: int, final: np.ndarray, failed: np.ndarray) -> np.ndarray:
    """Each map's status from its firing count (images with mean activation > 0) and its OIP starts."""
    fire = np.asarray(fire)
    woken = best_final(final, failed) > 0
    status = np.where(fire >= RARE_SHARE * n_images, "live", "rare").astype("<U6")
    status[fire == 0] = np.where(woken, "silent", "dead")[fire == 0]
    status[(fire == 0) & failed.all(axis=1)] = "failed"
    return status


def fires_on(status: str) -> bool:
    """Whether some test image fires a map of this status."""
    return status in ("live", "rare")


FLAT_SHARE = 0.75  # a pattern with this share of its pixels at the bounds is a flat square, not a picture
BOUND_TOL = 1e-3   # within this fraction of the pixel range of a bound counts as "at the bound"


def bound_share(patterns: np.ndarray, pixel_range: tuple[float, float]) -> np.ndarray:
    """Share of each pattern's values at the lowest or highest pixel value: patterns (N, H, W) or
    (N, H, W, C), one share per pattern (a colour pattern counts every channel of every pixel)."""
    lo, hi = pixel_range
    tol = BOUND_TOL * (hi - lo)
    at = (patterns <= lo + tol) | (patterns >= hi - tol)
    return at.reshape(len(at), -1).mean(axis=-1)
