"""How far to believe an attribution: deletion and insertion curves, and the randomization check.

Deletion (Petsiuk et al. 2018): set the pixels to the fill value in order of attribution, most
positive first, and record the class probability after each STEPS-th of the pixels; a faithful
attribution makes it fall fast (small area under the curve). Insertion: start from an image of
the fill value only and put the pixels back in the same order; faithful makes it rise fast (large
area). A random order of the pixels is the reference every method has to beat.

Model randomization (Adebayo et al. 2018): the same method on the same image, but with the network's
weights re-initialized; an attribution that still looks the same (high Spearman rank correlation of
|attribution|) shows the image, not what the network learned.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

STEPS = 12            # a curve point after every 12th of the pixels
RANDOM = "random order"


def orders(scores: np.ndarray) -> np.ndarray:
    """(N, H*W) rank of every pixel per image, 0 = removed first (largest score; ties by position)."""
    flat = scores.reshape(len(scores), -1)
    order = np.argsort(-flat, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(flat.shape[1])[None, :], axis=1)
    return ranks


def curve_images(x: np.ndarray, ranks: np.ndarray, fill: float, insertion: bool) -> np.ndarray:
    """(N*(STEPS+1), H, W, C): image n after removing (or inserting) k/STEPS of its pixels, k = 0..STEPS."""
    n, pixels = ranks.shape
    counts = np.round(np.arange(STEPS + 1) / STEPS * pixels).astype(int)
    gone = ranks[:, None, :] < counts[None, :, None]                   # (N, STEPS+1, H*W)
    keep_image = gone if insertion else ~gone
    keep = keep_image.reshape((n, STEPS + 1) + x.shape[1:3] + (1,))
    return np.where(keep, x[:, None], np.float32(fill)).reshape((-1,) + x.shape[1:]).astype(np.float32)


def curves(probability, x: np.ndarray, scores: np.ndarray, classes: np.ndarray, fill: float,
           insertion: bool) -> np.ndarray:
    """(N, STEPS+1) probability of each image's class along its deletion (or insertion) path;
    `probability(images, classes)` returns one probability per image."""
    rows = curve_images(x, orders(scores), fill, insertion)
    return probability(rows, np.repeat(classes, STEPS + 1)).reshape(len(x), STEPS + 1)


def area(curve: np.ndarray) -> np.ndarray:
    """Area under each curve over the share of pixels 0..1 (trapezoids)."""
    return ((curve[..., :-1] + curve[..., 1:]) / 2).sum(axis=-1) / (curve.shape[-1] - 1)


def spearman(a: np.ndarray, b: np.ndarray, where: np.ndarray | None = None) -> np.ndarray:
    """(N,) Spearman rank correlation of |a| and |b| per image (average ranks for ties), over the
    pixels `where` is True (default all); NaN where one of them is constant there (e.g. a Grad-CAM
    that is zero everywhere)."""
    keep = np.ones(a.shape, bool) if where is None else np.asarray(where, bool)
    ra, rb = (pd.DataFrame(np.where(keep, np.abs(v), np.nan).reshape(len(v), -1)).rank(axis=1).to_numpy()
              for v in (a, b))
    with warnings.catch_warnings():  # an image with no pixel in `where` has no mean: NaN, said above
        warnings.simplefilter("ignore", RuntimeWarning)
        ra, rb = ra - np.nanmean(ra, axis=1, keepdims=True), rb - np.nanmean(rb, axis=1, keepdims=True)
    denom = np.sqrt(np.nansum(ra ** 2, axis=1) * np.nansum(rb ** 2, axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, np.nansum(ra * rb, axis=1) / denom, np.nan)


def method_table(deletion: dict[str, np.ndarray], insertion: dict[str, np.ndarray],
                 similarity: dict[str, np.ndarray], on_digit: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    """One row per method (and the random order) over the images given: mean areas, their difference
    (insertion − deletion: larger = more faithful), on how many images the method is the most
    faithful, and the median rank correlation with the randomized network's attribution."""
    names = list(deletion)
    d = np.stack([area(deletion[m]) for m in names], axis=1)
    i = np.stack([area(insertion[m]) for m in names], axis=1)
    best = np.bincount(np.argmax(i - d, axis=1), minlength=len(names))
    table = pd.DataFrame({"method": names, "deletion": d.mean(axis=0), "insertion": i.mean(axis=0),
                          "score": (i - d).mean(axis=0), "best_on": best,
                          "spearman": [float(np.nanmedian(similarity[m])) if m in similarity and
                                       np.isfinite(similarity[m]).any() else np.nan for m in names]})
    on_digit = on_digit or {}
    table["spearman_digit"] = [float(np.nanmedian(on_digit[m])) if m in on_digit and np.isfinite(on_digit[m]).any()
                               else np.nan for m in names]
    return table.sort_values("score", ascending=False).reset_index(drop=True)
