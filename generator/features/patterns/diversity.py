"""Stage and panel: three patterns per map made distinct on purpose, for every map layer after the
first (a first-layer map is one filter; its kernel panel says all there is).

The three members of a map's group climb, together, the map's mean activation (divided by its
strongest OIP's, so one weight suits every map) plus WEIGHT times a diversity term: minus the mean
cosine similarity of each member's Gram matrix at the layer to the other members' (Olah et al.,
"Feature Visualization", Distill 2017). A map that answers to several things can then show them.
The page prints the measured pairwise similarity of the three, and what each one reaches.
"""
from __future__ import annotations


import numpy as np

from generator.registry import Stage, layer_result
from generator.cache import Artifact
from generator.config import as_dict
from generator.features.patterns.oip_results import best_final
from generator.features.patterns.oip_results import stage_name as oip_stage

NAME = "diversity"
MEMBERS = 3
WEIGHT = 1.0  # measured on the default model, see the README ("Diversity")
STEPS = 64  # measured on Conv2D_3: 48 steps keep the members as distinct (Gram 0.05) at 36 % of the strongest, 128 reach 58 % at 3-6x the cost


def stage_name(layer: str) -> str:
    return layer_result(NAME, layer)


def layers(build) -> list[str]:
    """The chosen map layers after the model's first map layer (read from the model's summary, so a
    build whose stages are all cached needs no TensorFlow)."""
    from generator.model.taps import MAP_CLASSES

    first = next((row["name"] for row in build.model_info["summary"] if row["type"] in MAP_CLASSES), None)
    return [layer for layer in build.cfg.oip.layers if layer != first]


def _depends(build, layer: str) -> list:
    settings = {k: v for k, v in as_dict(build.cfg.oip).items() if k in ("step_size", "jitter", "blur_sigma",
                                                                          "blur_every", "noise_scales")}
    return [settings, build.cfg.seed, build.results[oip_stage(layer)].key]


def _compute(build, layer: str) -> Artifact:
    oip = build.results[oip_stage(layer)].arrays
    scale = best_final(oip["final"], oip["failed"])
    scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
    res = diverse_patterns(build.model, layer, scale, build.ascent(build.cfg.oip), build.pixel_range(), build.cfg.seed)
    return Artifact("", res, {"layer": layer})


def diverse_patterns(model, layer: str, scale: np.ndarray, cfg, pixel_range, seed: int,
                     weight: float = WEIGHT, steps: int = STEPS) -> dict[str, np.ndarray]:
    """patterns (M, MEMBERS, H, W[, C]), mean (M, MEMBERS) each member's map mean (no jitter), and
    gram / pixel (M,): the members' mean pairwise cosine similarity of Gram matrices at the layer,
    and the mean pairwise correlation of their pixels."""
    from generator.ascent import objectives, render, transforms
    from generator.ascent.param import noise_starts
    from generator.model import taps

    info, shape = taps.layer(model, layer), taps.input_shape(model)
    maps = np.arange(info.channels)
    scales = (list(cfg.noise_scales) * MEMBERS)[:MEMBERS]
    starts = noise_starts(scales, maps, seed, pixel_range, shape[0] if shape[0] == shape[1] and shape[2] == 1 else shape)
    rows = np.repeat(maps, MEMBERS)
    spatial = objectives.spatial_weights(len(rows), info.side) / scale[rows][:, None, None]
    objective = objectives.MapMean(layer, rows, spatial)
    if weight:
        objective = objective + weight * objectives.Diversity(layer, MEMBERS)
    res = render.render(model, objective, starts, steps, cfg.step_size, seed, transforms.from_config(cfg, pixel_range))
    act = taps.outputs(model, [layer], res["images"])[layer]  # (rows, H, W, channels)
    images = res["images"][..., 0] if shape[-1] == 1 else res["images"]
    return {"patterns": images.reshape((len(maps), MEMBERS) + images.shape[1:]),
            "mean": act.mean(axis=(1, 2))[np.arange(len(rows)), rows].reshape(len(maps), MEMBERS),
            "gram": pairwise(gram_vectors(act)), "pixel": pairwise(images.reshape(len(rows), -1), centre=True)}


def gram_vectors(act: np.ndarray) -> np.ndarray:
    """(rows, C*C): each row's Gram matrix of its layer activations (H, W, C), flattened."""
    flat = act.reshape(len(act), -1, act.shape[-1]).astype(np.float64)
    return np.einsum("rpi,rpj->rij", flat, flat).reshape(len(act), -1)


def pairwise(vectors: np.ndarray, centre: bool = False) -> np.ndarray:
    """(groups,): the mean cosine similarity over the pairs of each group of MEMBERS rows (centred
    first: a correlation). 1 = the same up to scale; NaN where a member is all zero."""
    v = vectors.reshape(-1, MEMBERS, vectors.shape[-1]).astype(np.float64)
    v = v - v.mean(axis=-1, keepdims=True) if centre else v
    norm = np.linalg.norm(v, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        unit = v / norm
    cos = np.einsum("gik,gjk->gij", unit, unit)
    i, j = np.triu_indices(MEMBERS, 1)
    return cos[:, i, j].mean(axis=-1)


# ---- the map-page panel ------------------------------------------------------------------------


STAGE = Stage(NAME, _compute, _depends, requires=("oip",), per_layer=True, layers=layers)
