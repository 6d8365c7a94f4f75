"""Class influence: which classes each map pushes the decision towards.

For a test image of class c, gradient × activation of class c's logit, summed over a map's positions,
is the first-order share of that logit the map contributes (what the logit would lose, to first
order, if the map were switched off). Averaged over the test images of each class it gives a
class × map table: a bar per class on each map page, a heat map on each layer page.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import imaging
from ..cache import Artifact, code_version
from ..pages import urls
from ..pages.model import Panel
from ..pages.section import Section, in_build
from ..registry import Analysis

NAME = "influence"
CMAP = "RdBu_r"   # red: the map raises the class's logit, blue: it lowers it
CHUNK = 500
UNITS = "logit units (gradient × activation, summed over the map, mean over the class's test images)"


# ---- the stage ---------------------------------------------------------------------------------

def run(build) -> Artifact:
    return build.stage(NAME, code_version(__name__), {}, lambda: _compute(build))


def _logits(model, name: str):
    """f(h): the class logits (the last layer before its activation) from `name`'s output."""
    from ..model import fast_cut, taps

    rest = taps.chain(model)
    rest = rest[[lay.name for lay in rest].index(name) + 1:]

    def f(h):
        for lay in rest[:-1]:
            h = lay(h, training=False)
        return fast_cut.stock_preactivation(rest[-1], h)[:, 0, 0, :]

    return f


def _layer_influence(model, name: str, x: np.ndarray, y: np.ndarray, n_classes: int) -> np.ndarray:
    import tensorflow as tf

    from ..model import taps

    logits = _logits(model, name)

    @tf.function
    def step(a, y):
        with tf.GradientTape() as tape:
            tape.watch(a)
            own = tf.reduce_sum(logits(a) * tf.one_hot(y, n_classes))  # each image's own class logit
        g = tape.gradient(own, a) * a
        per_map = tf.reduce_sum(tf.reshape(g, [tf.shape(a)[0], -1, a.shape[-1]]), axis=1)  # (n, C)
        return tf.matmul(tf.one_hot(y, n_classes), per_map, transpose_a=True)                # (K, C)

    total = 0.0
    for begin in range(0, len(x), CHUNK):
        xs, ys = x[begin:begin + CHUNK], y[begin:begin + CHUNK]
        a = taps.outputs(model, [name], xs, batch_size=CHUNK)[name]
        total = total + np.asarray(step(tf.constant(a), tf.constant(ys)), np.float64)
    sizes = np.bincount(y, minlength=n_classes)
    return (total / np.maximum(sizes, 1)[:, None]).astype(np.float32)


def _compute(build) -> Artifact:
    from ..model import taps

    model, x = build.model, build.x_test()
    y = build.dataset.y_test.astype(np.int32)
    if taps.chain(model) is None:
        return Artifact("", {}, {"layers": []})
    names = [i.name for i in taps.map_layers(model)] + [i.name for i in taps.node_layers(model)][:-1]
    arrays = {name: _layer_influence(model, name, x, y, build.dataset.n_classes) for name in names}
    return Artifact("", arrays, {"layers": names})


# ---- pictures and panels -------------------------------------------------------------------------

@dataclass
class Bar:
    label: str
    value: str
    width: float   # percent of the half-width, for the bar
    positive: bool


@dataclass
class MapInfluence:
    bars: list[Bar]
    reading: str


@dataclass
class LayerInfluence:
    image: str
    colorbar: str
    alt: str
    reading: str
    scale: int


def _art(build):
    return build.results.get(NAME)


def enabled(build) -> bool:
    return _art(build) is not None and in_build(build, "layers") is not None


def _has(build, layer: str) -> bool:
    art = _art(build)
    return art is not None and layer in art.arrays and layer in build.cfg.oip.layers


def _heat(layer: str) -> str:
    return f"layers/{urls.layer_slug(layer)}/img/influence.png"


def _bar(layer: str) -> str:
    return f"layers/{urls.layer_slug(layer)}/img/influence-colorbar.png"


def _bound(a: np.ndarray) -> float:
    return float(np.abs(a).max()) or 1.0


def draw(build, out: Path) -> None:
    art = _art(build)
    for layer in art.meta["layers"]:
        if not _has(build, layer):
            continue
        a = art.arrays[layer]
        top = _bound(a)
        imaging.save_array_png(out / _heat(layer), a, CMAP, -top, top)
        imaging.colorbar(out / _bar(layer), CMAP, -top, top, "logit units")


def map_panel(build, layer: str, m: int) -> list[Panel]:
    if not enabled(build) or not _has(build, layer):
        return []
    a = _art(build).arrays[layer]
    col, top = a[:, m], _bound(a[:, m])
    names = build.dataset.class_names
    bars = [Bar(names[k], f"{v:+.3f}".replace("-", "−"), round(50 * abs(float(v)) / top, 1), bool(v >= 0))
            for k, v in enumerate(col)]
    best, worst = int(np.argmax(col)), int(np.argmin(col))
    reading = (f"Map {m} pushes most towards class {names[best]} ({col[best]:+.3f} logit units on average over its "
               f"test images)" + (f" and most against {names[worst]} ({col[worst]:+.3f})." if col[worst] < 0 else ".")
               ).replace("-", "−")
    return [Panel("influence", "Which classes this map pushes towards", "panels/influence.html", MapInfluence(bars, reading))]


def layer_panel(build, layer: str) -> list[Panel]:
    if not enabled(build) or not _has(build, layer):
        return []
    a = _art(build).arrays[layer]
    k, c = a.shape
    scale = max(1, min(12, 900 // c))
    reading = (f"Rows: the {k} classes; columns: the {c} maps, in order. Each cell: the mean influence of the map on "
               f"the class's own logit over that class's test images, in {UNITS}; the colour range is ±{_bound(a):.3g}.")
    return [Panel("influence", f"Class × map influence in {layer}", "panels/influence_layer.html",
                  LayerInfluence(_heat(layer), _bar(layer), f"{layer}: class by map influence heat map", reading, scale))]


SECTION = Section(NAME, depends=lambda build: [_art(build).key, list(build.cfg.oip.layers)], draw=draw,
                  pages=lambda build: [], enabled=enabled, panels={"map": map_panel, "layer": layer_panel})
ANALYSIS = Analysis(NAME, run=run, section=__name__)
