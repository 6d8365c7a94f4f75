"""Stage: how often each map fires on the test set, and where, as evidence for its map page.

Per layer one cached artifact: for every map, how many test images make it fire (mean activation
> 0, and activation > 0 at any position), its mean and 99th percentile of the per-image means, its
strongest test images *among those that fire it* (never zero-activation filler), the activation
map of each of them (a heat map of where it fires) and its strongest position, plus the layer's
receptive field read from the model's layers. Kept apart from the OIP stage so that it is cheap
to recompute and the expensive ascent stays cached.
"""
from __future__ import annotations

import numpy as np

from generator.cache import Artifact
from generator.registry import Stage, layer_result
from generator.model import receptive
from generator.features.patterns.oip_results import best_start
from generator.features.patterns.oip_results import stage_name as oip_stage_name

NAME = "firing"
BATCH = 500


def stage_name(layer: str) -> str:
    return layer_result(NAME, layer)


def _depends(build, layer: str) -> list:
    return [build.cfg.oip.top_images, layer, build.results[oip_stage_name(layer)].key]


def _compute(build, layer: str) -> Artifact:
    x = np.asarray(build.x_test(), np.float32)
    arrays = firing_statistics(build.model, layer, x, top=build.cfg.oip.top_images)
    arrays.update(pattern_peaks(build.model, layer, build.results[oip_stage_name(layer)].arrays))
    return Artifact("", arrays, {"layer": layer, "images": int(len(x))})


def _activations(model, layer: str, x: np.ndarray):
    """Yield (begin, activations (B, H, W, M)) in batches, so a big layer never sits whole in memory."""
    from generator.model import taps

    for begin in range(0, len(x), BATCH):
        yield begin, taps.outputs(model, [layer], x[begin:begin + BATCH])[layer]


def firing_statistics(model, layer: str, x: np.ndarray, top: int = 9) -> dict[str, np.ndarray]:
    """image_means (N, M): each image's mean activation over each map (the distribution the map pages
    draw); fire_mean / fire_any (M,): images whose mean activation / some position is > 0; mean, p99 (M,)
    of the per-image means; top_indices / top_values (M, top), descending, -1 / 0 past the images
    that fire; heat (M, top, H, W): the activation map of each top image; peak (M, top, 2): its
    strongest position (row, col); peak_value (M, top); rf (size, jump, start) of the layer."""
    n = len(x)
    means, maxes = None, None
    for begin, act in _activations(model, layer, x):
        if means is None:
            means = np.zeros((n, act.shape[-1]), np.float32)
            maxes = np.zeros((n, act.shape[-1]), np.float32)
        means[begin:begin + len(act)] = act.mean(axis=(1, 2))
        maxes[begin:begin + len(act)] = act.max(axis=(1, 2))
    top_indices, top_values = _top_firing(means, top)
    heat, peak, peak_value = _heat_maps(model, layer, x, top_indices)
    return {"image_means": means, "fire_mean": (means > 0).sum(axis=0), "fire_any": (maxes > 0).sum(axis=0),
            "mean": means.mean(axis=0), "p99": np.percentile(means, 99, axis=0).astype(np.float32),
            "max_point": maxes.max(axis=0), "top_indices": top_indices, "top_values": top_values,
            "heat": heat, "peak": peak, "peak_value": peak_value,
            "rf": np.asarray(receptive.field(model, layer), np.int64)}


def pattern_peaks(model, layer: str, oip: dict) -> dict[str, np.ndarray]:
    """pattern_mean / pattern_peak (M,): each map's best OIP, fed back through the model, gives this
    mean over the map and this value at its strongest single position (without the ascent's jitter)."""
    from generator.model import taps

    best = best_start(oip["final"], oip["failed"])
    patterns = oip["patterns"][np.arange(len(best)), best][..., None].astype(np.float32)
    act = taps.outputs(model, [layer], patterns)[layer]  # (M, H, W, M): pattern m, all maps
    own = act[np.arange(len(best)), :, :, np.arange(len(best))]  # (M, H, W): pattern m on map m
    return {"pattern_mean": own.mean(axis=(1, 2)), "pattern_peak": own.max(axis=(1, 2))}


def _top_firing(means: np.ndarray, top: int) -> tuple[np.ndarray, np.ndarray]:
    """Each map's strongest images by mean activation, only those whose mean is > 0 (ties by index)."""
    top = min(int(top), len(means))
    order = np.argsort(-means, axis=0, kind="stable")[:top].T  # (M, top)
    values = np.take_along_axis(means.T, order, axis=1)
    fires = values > 0
    return np.where(fires, order, -1), np.where(fires, values, 0.0).astype(np.float32)


def _heat_maps(model, layer: str, x: np.ndarray, top_indices: np.ndarray):
    """The activation map of every (map, top image) pair, from one pass over the images involved."""
    maps, top = top_indices.shape
    wanted = np.unique(top_indices[top_indices >= 0])
    side = None
    rows = {}
    if len(wanted):
        for begin, act in _activations(model, layer, x[wanted]):
            side = act.shape[1:3]
            for k, image in enumerate(wanted[begin:begin + len(act)]):
                rows[int(image)] = act[k]
    if side is None:
        from generator.model import taps

        side = taps.layer(model, layer).side
    heat = np.zeros((maps, top) + tuple(side), np.float32)
    for m in range(maps):
        for t, image in enumerate(top_indices[m]):
            if image >= 0:
                heat[m, t] = rows[int(image)][:, :, m]
    flat = heat.reshape(maps, top, -1)
    best = flat.argmax(axis=-1)
    peak = np.stack(np.unravel_index(best, tuple(side)), axis=-1).astype(np.int64)
    return heat, peak, np.take_along_axis(flat, best[..., None], axis=-1)[..., 0]


STAGE = Stage(NAME, _compute, _depends, requires=("oip",), per_layer=True)
