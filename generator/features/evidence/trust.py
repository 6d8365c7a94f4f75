"""Stage: how far to trust a map's picture. For every test image, the best normalized correlation
between the map's central-position pattern (inside its receptive field) and any patch of the image
at the layer's positions; then, per map, the ROC AUC of that score against whether the map fires
strongly on the image (its mean activation in the map's top 10 % of test images, and above 0).
AUC 1: the picture alone picks out the images the map fires on; 0.5: no better than chance.
"""
from __future__ import annotations

import numpy as np

from generator.cache import Artifact
from generator.registry import Stage, layer_result
from generator.features.patterns.centre_nodes import centre_patterns
from generator.features.patterns.centre_nodes import stage_name as centre_stage
from generator.features.evidence.firing import stage_name as firing_stage
from generator.features.patterns.oip_results import stage_name as oip_stage

NAME = "trust"
STRONG_QUANTILE = 90  # "fires strongly": at or above the map's 90th percentile of the images' means
BATCH = 1000


def stage_name(layer: str) -> str:
    return layer_result(NAME, layer)


def _depends(build, layer: str) -> list:
    keys = [build.results[n].key for n in (oip_stage(layer), firing_stage(layer), centre_stage(layer))
            if n in build.results]
    return [layer, keys]


def _compute(build, layer: str) -> Artifact:
    from generator.features.patterns import map_stats

    centre = centre_patterns(build, layer, build.results[oip_stage(layer)].arrays)
    rf = build.results[firing_stage(layer)].arrays["rf"]
    x = np.asarray(build.x_test(), np.float32)
    if centre is None:
        return Artifact("", {"auc": np.array([])}, {"layer": layer})
    patterns, gray = centre["patterns"], x
    if x.shape[-1] > 1:  # a colour model: the match is measured on gray copies of images and patterns
        gray = x.mean(axis=-1, keepdims=True)
        patterns = patterns.mean(axis=-1) if patterns.ndim == 4 else patterns
    scores = match_scores(gray, patterns, centre["position"], rf, build.pixel_range()[0])
    means, _ = map_stats.map_means(build.model, layer, x)
    return Artifact("", {"auc": auc_per_map(scores, strong(means))}, {"layer": layer})


def strong(means: np.ndarray) -> np.ndarray:
    """(N, M): the images each map fires strongly on (top 10 % of its images' means, and above 0)."""
    return (means >= np.percentile(means, STRONG_QUANTILE, axis=0)) & (means > 0)


def _templates(patterns: np.ndarray, position, rf) -> np.ndarray:
    """(size, size, 1, M): each pattern's receptive-field crop at `position`, zero mean, unit norm."""
    size, jump, start = (int(v) for v in rf)
    top, left = (int(p) * jump + max(start, 0) for p in position)  # in padded coordinates (see match_scores)
    crops = patterns[:, top:top + size, left:left + size].astype(np.float64)
    crops = crops - crops.mean(axis=(1, 2), keepdims=True)
    crops /= np.maximum(np.sqrt((crops ** 2).sum(axis=(1, 2), keepdims=True)), 1e-12)
    return np.transpose(crops, (1, 2, 0))[:, :, None, :].astype(np.float32)


def match_scores(x: np.ndarray, patterns: np.ndarray, position, rf, background: float) -> np.ndarray:
    """(N, M): the best normalized correlation of each map's template with a patch of each image,
    over the patches the layer's positions see (stride = the receptive field's jump)."""
    import tensorflow as tf

    size, jump, start = (int(v) for v in rf)
    pad = max(-start, 0)
    # A deep layer's field can reach past the far edge too (it may be larger than the image): pad that
    # side until the central crop is whole, so template and patch windows have the same size.
    top, left = (int(p) * jump + max(start, 0) for p in position)
    far = max(0, top + size - x.shape[1] - 2 * pad, left + size - x.shape[2] - 2 * pad)
    if pad or far:  # 'same' padding: positions at the border see beyond the image
        x = np.pad(x, ((0, 0), (pad, pad + far), (pad, pad + far), (0, 0)), constant_values=background)
        patterns = np.pad(patterns, ((0, 0), (pad, pad + far), (pad, pad + far)), constant_values=background)
    t = tf.constant(_templates(patterns, position, rf))
    ones = tf.ones((size, size, 1, 1))
    out = []
    for begin in range(0, len(x), BATCH):
        v = tf.constant(x[begin:begin + BATCH])
        num = tf.nn.conv2d(v, t, jump, "VALID")  # template has zero mean: sum(t * (p - mean p)) = sum(t * p)
        s1 = tf.nn.conv2d(v, ones, jump, "VALID")
        s2 = tf.nn.conv2d(v * v, ones, jump, "VALID")
        norm = tf.sqrt(tf.maximum(s2 - s1 * s1 / (size * size), 0.0))
        ncc = tf.where(norm > 1e-6, num / tf.maximum(norm, 1e-6), 0.0)  # a flat patch matches nothing
        out.append(tf.reduce_max(ncc, axis=[1, 2]).numpy())
    return np.concatenate(out)


def auc_per_map(scores: np.ndarray, positive: np.ndarray) -> np.ndarray:
    """ROC AUC of each column of scores against its positives (Mann-Whitney, ties count half); NaN
    when a map has no positives or no negatives."""
    auc = np.full(scores.shape[1], np.nan)
    for m in range(scores.shape[1]):
        pos, neg = scores[positive[:, m], m], scores[~positive[:, m], m]
        if len(pos) and len(neg):
            allv = np.sort(neg)
            below = np.searchsorted(allv, pos, side="left")
            ties = np.searchsorted(allv, pos, side="right") - below
            auc[m] = float((below + 0.5 * ties).sum() / (len(pos) * len(neg)))
    return auc


STAGE = Stage(NAME, _compute, _depends, requires=("oip", "firing", "centre"), per_layer=True)
