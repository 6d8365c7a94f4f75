"""Which activation points tell two image sets apart: the automatic form of the seed's circles.

A point (a map position of a conv/pool layer, or a dense node) is ACTIVE in an image when its value
is above `threshold` × the layer's largest value over both sets. Per layer:
  only_a  - active in every image of A and in no image of B
  only_b  - active in every image of B and in no image of A
  common  - active in every image of both sets
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def compare_sets(acts_a: dict[str, np.ndarray], acts_b: dict[str, np.ndarray],
                 threshold: float) -> dict[str, dict]:
    """Per layer present in both: {'only_a', 'only_b', 'common': bool masks shaped like one image's
    activation, 'counts': {'only_a', 'only_b', 'common', 'points'}, 'cutoff': float,
    'layer_max': float, 'by_map': DataFrame}."""
    return {name: compare_layer(acts_a[name], acts_b[name], threshold)
            for name in acts_a if name in acts_b}


def compare_layer(a: np.ndarray, b: np.ndarray, threshold: float) -> dict:
    """The comparison for one layer; a is (na, ...), b is (nb, ...) with the same point shape."""
    a, b = np.asarray(a, dtype=np.float32), np.asarray(b, dtype=np.float32)
    if a.shape[1:] != b.shape[1:] or len(a) == 0 or len(b) == 0:
        raise ValueError(f"cannot compare activations shaped {a.shape} and {b.shape}")
    layer_max = float(max(a.max(), b.max()))
    cutoff = threshold * layer_max
    masks = _masks(a > cutoff, b > cutoff)
    return {**masks,
            "counts": {**{key: int(mask.sum()) for key, mask in masks.items()},
                       "points": int(np.prod(a.shape[1:]))},
            "cutoff": cutoff,
            "layer_max": layer_max,
            "by_map": by_map(masks, a, b)}


def _masks(active_a: np.ndarray, active_b: np.ndarray) -> dict[str, np.ndarray]:
    all_a, any_a = active_a.all(axis=0), active_a.any(axis=0)
    all_b, any_b = active_b.all(axis=0), active_b.any(axis=0)
    return {"only_a": all_a & ~any_b, "only_b": all_b & ~any_a, "common": all_a & all_b}


def by_map(masks: dict[str, np.ndarray], a: np.ndarray, b: np.ndarray) -> pd.DataFrame:
    """Maps (conv/pool) or nodes (dense) ranked by how many distinguishing points they hold.

    Columns: map|node, only_a, only_b, common, distinct (= only_a + only_b), mean_a, mean_b.
    Ties - common for dense nodes, which hold one point each - go to the larger gap between the
    sets' mean activations, then to the lower map number.
    """
    spatial = masks["only_a"].ndim == 3
    unit = "map" if spatial else "node"
    # Counting over H and W leaves one number per map; a dense node is its own single point.
    per_unit = (lambda m: m.sum(axis=(0, 1))) if spatial else (lambda m: m.astype(np.int64))
    mean_axes = (0, 1, 2) if spatial else 0
    table = pd.DataFrame({
        unit: np.arange(masks["only_a"].shape[-1]),
        "only_a": per_unit(masks["only_a"]),
        "only_b": per_unit(masks["only_b"]),
        "common": per_unit(masks["common"]),
        "mean_a": a.mean(axis=mean_axes),
        "mean_b": b.mean(axis=mean_axes),
    })
    table["distinct"] = table["only_a"] + table["only_b"]
    gap = (table["mean_a"] - table["mean_b"]).abs()
    order = np.lexsort((table[unit].to_numpy(), -gap.to_numpy(), -table["distinct"].to_numpy()))
    columns = [unit, "only_a", "only_b", "common", "distinct", "mean_a", "mean_b"]
    return table.iloc[order][columns].reset_index(drop=True)
