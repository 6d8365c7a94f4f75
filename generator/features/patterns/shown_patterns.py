"""Stage and panel: the pattern a map page shows, never a flat square.

The OIP stage keeps, per map, its strongest pattern: the one the ratio is measured with. For a map
whose filter sums to a positive number that pattern is often flat (most pixels at the pixel
bounds): maximizing a map's mean under a box constraint drives it to a uniform bright image. For
exactly those maps this stage climbs a contrast objective from the same starts (the map's mean
plus 3x its excess over a uniform image of the same mean value, objectives.Contrast, which only
structure can raise) and shows the strongest pattern that is not flat, among the OIP's starts and
these. The page says which pattern is which; the ratio stays the strongest pattern's. The choice
was measured on the default model (README, "Patterns that are never flat").
"""
from __future__ import annotations


import numpy as np

from generator.registry import Stage, layer_result
from generator.cache import Artifact
from generator.config import as_dict
from generator.features.evidence.firing import stage_name as firing_stage
from generator.features.evidence.map_truth import FLAT_SHARE, bound_share, fires_on, map_status
from generator.features.patterns.oip_results import best_start
from generator.features.patterns.oip_results import stage_name as oip_stage

NAME = "shown"
CONTRAST_K = 3.0  # measured: 1 left one flat map of 12 without a non-flat start, 3 none (README)


def stage_name(layer: str) -> str:
    return layer_result(NAME, layer)


def _depends(build, layer: str) -> list:
    settings = {k: v for k, v in as_dict(build.cfg.oip).items() if k != "layers"}
    return [settings, build.cfg.seed, build.results[oip_stage(layer)].key]


def _compute(build, layer: str) -> Artifact:
    oip = build.results[oip_stage(layer)].arrays
    pr = build.pixel_range()
    best = best_start(oip["final"], oip["failed"])
    strongest = oip["patterns"][np.arange(len(best)), best]
    # A climb from a test image (see oip_stage._image_starts) keeps the digit's black background at the
    # bound: a digit, not the uniform square this stage replaces.
    from_image = oip["start_image"][np.arange(len(best)), best] >= 0 if "start_image" in oip else False
    flat = (bound_share(strongest, pr) >= FLAT_SHARE) & ~from_image
    shown, contrast = strongest.copy(), np.zeros(len(best), bool)
    maps = np.flatnonzero(flat)
    if len(maps):
        candidates = np.concatenate([oip["patterns"][maps], contrast_patterns(build, layer, maps)], axis=1)
        means = own_means(build.model, layer, maps, candidates)
        shares = bound_share(candidates.reshape((-1,) + candidates.shape[2:]), pr).reshape(means.shape)
        ok = shares < FLAT_SHARE
        pick = np.where(ok, means, -np.inf).argmax(axis=1)
        found = ok.any(axis=1)
        shown[maps[found]] = candidates[np.flatnonzero(found), pick[found]]
        contrast[maps[found]] = True
    mean = own_means(build.model, layer, np.arange(len(best)), shown[:, None])[:, 0]
    return Artifact("", {"patterns": shown, "contrast": contrast, "mean": mean,
                         "share": bound_share(shown, pr), "strongest_share": bound_share(strongest, pr),
                         "strongest_flat": flat},
                    {"layer": layer})


def contrast_patterns(build, layer: str, maps: np.ndarray) -> np.ndarray:
    """(len(maps), S, H, W[, C]): the contrast objective's pattern from each of the OIP's starts."""
    from generator.ascent import objectives, render, transforms
    from generator.ascent.param import noise_starts
    from generator.model import taps

    cfg, model = build.ascent(build.cfg.oip), build.model
    shape = taps.input_shape(model)
    n_starts = len(cfg.noise_scales)
    starts = noise_starts(cfg.noise_scales, maps, build.cfg.seed, build.pixel_range(),
                          shape[0] if shape[0] == shape[1] and shape[2] == 1 else shape)
    rows = np.repeat(maps, n_starts)
    side = taps.layer(model, layer).side
    objective = objectives.Contrast(layer, rows, objectives.spatial_weights(len(rows), side), CONTRAST_K)
    res = render.render(model, objective, starts, cfg.steps, cfg.step_size, build.cfg.seed,
                        transforms.from_config(cfg, build.pixel_range()))
    images = res["images"][..., 0] if shape[-1] == 1 else res["images"]
    return images.reshape((len(maps), n_starts) + images.shape[1:])


def own_means(model, layer: str, maps: np.ndarray, patterns: np.ndarray) -> np.ndarray:
    """(len(maps), K): map maps[i]'s mean activation on each of its K patterns (no jitter)."""
    from generator.model import taps

    k = patterns.shape[1]
    x = patterns.reshape((-1,) + patterns.shape[2:]).astype(np.float32)
    x = x[..., None] if x.ndim == 3 else x
    act = taps.outputs(model, [layer], x)[layer].mean(axis=(1, 2))  # (len * K, channels)
    return act[np.arange(len(x)), np.repeat(maps, k)].reshape(len(maps), k)


def flat_line(build, arts: dict) -> str:
    """The build's one line: flat shown and strongest patterns among the maps test images fire."""
    n = len(build.dataset.x_test)
    fired = shown = strongest = 0
    for layer, art in arts.items():
        oip = build.results[oip_stage(layer)].arrays
        status = map_status(build.results[firing_stage(layer)].arrays["fire_mean"], n, oip["final"], oip["failed"])
        on = np.array([fires_on(s) for s in status], bool)
        fired += int(on.sum())
        a = art.arrays
        shown += int((on & np.where(a["contrast"], a["share"] >= FLAT_SHARE, a["strongest_flat"])).sum())
        strongest += int((on & a["strongest_flat"]).sum())
    return (f"[shown] flat best patterns (>= {FLAT_SHARE:.0%} of the pixels at the bounds) among the {fired} maps "
            f"the test images fire: {shown} shown ({strongest} strongest patterns are flat; each is kept for the "
            f"ratio and a contrast pattern is shown instead)")


# ---- the map-page panel ------------------------------------------------------------------------


STAGE = Stage(NAME, _compute, _depends, requires=("oip", "firing"), per_layer=True,
              after=lambda build, arts: build.log(flat_line(build, arts)))
