"""What an ascent climbs: objects computing one value per batch row, composable with + and *.

An objective gives two numbers per row: its `value` (what is reported, kept and plotted) and the
value its gradient `climb`s, which differs only where the value has no useful gradient (a silent
ReLU map). Arrays that differ per row (which map, which node) come from `inputs()` and reach the
compiled loop as tensors, so objectives of the same `signature()` share one trace; nothing else
about an objective may change between calls with the same signature.

`a + b` climbs both (values and climbs add), `2 * a` scales both, as in lucid's optvis.
"""
from __future__ import annotations

import math
from typing import Optional, Sequence

import numpy as np


class Objective:
    multiple = 1  # rows per group that must share a batch (see Diversity)

    def layers(self) -> tuple:
        """Layers this objective reads (a ModelTap builds its sub-model of them)."""
        return ()

    def inputs(self):
        """Per-row numpy arrays (a nested structure; leading axis = rows), or {}."""
        return {}

    def setup(self, tap, inputs):
        """Loop invariants computed once per compiled call from the inputs' tensors."""
        return inputs

    def values(self, view, prepared):
        """(value, climb), each (B,)."""
        raise NotImplementedError

    def signature(self) -> tuple:
        return (type(self).__name__,) + self.layers()

    def __add__(self, other):
        if isinstance(other, (int, float)) and other == 0:  # sum() starts from 0
            return self
        return Sum([self, other])

    __radd__ = __add__

    def __mul__(self, k: float):
        return Scaled(float(k), self)

    __rmul__ = __mul__

    def __neg__(self):
        return Scaled(-1.0, self)


class Sum(Objective):
    def __init__(self, parts: Sequence[Objective]):
        self.parts = [q for p in parts for q in (p.parts if isinstance(p, Sum) else [p])]
        self.multiple = math.lcm(*(p.multiple for p in self.parts))

    def layers(self) -> tuple:
        return tuple(dict.fromkeys(n for p in self.parts for n in p.layers()))

    def inputs(self):
        return tuple(p.inputs() for p in self.parts)

    def setup(self, tap, inputs):
        return tuple(p.setup(tap, i) for p, i in zip(self.parts, inputs))

    def values(self, view, prepared):
        pairs = [p.values(view, q) for p, q in zip(self.parts, prepared)]
        return sum_rows([v for v, _ in pairs]), sum_rows([c for _, c in pairs])

    def signature(self) -> tuple:
        return ("Sum",) + tuple(p.signature() for p in self.parts)


class Scaled(Objective):
    def __init__(self, k: float, part: Objective):
        self.k, self.part, self.multiple = k, part, part.multiple

    def layers(self) -> tuple:
        return self.part.layers()

    def inputs(self):
        return self.part.inputs()

    def setup(self, tap, inputs):
        return self.part.setup(tap, inputs)

    def values(self, view, prepared):
        value, climb = self.part.values(view, prepared)
        return self.k * value, self.k * climb

    def signature(self) -> tuple:
        return ("Scaled", self.k, self.part.signature())


def sum_rows(terms: list):
    import tensorflow as tf

    return terms[0] if len(terms) == 1 else tf.add_n(terms)


# ---- one map of one layer, per row -----------------------------------------------------------------

class MapMean(Objective):
    """Per row: the weighted sum of its map's activation over positions (`spatial`, (B, H, W):
    1/(H*W) everywhere for the map mean, one 1 for a single node)."""

    def __init__(self, layer: str, maps, spatial):
        self.layer = layer
        self.maps = np.asarray(maps, np.int32).reshape(-1)
        self.spatial = np.asarray(spatial, np.float32)

    def layers(self) -> tuple:
        return (self.layer,)

    def inputs(self):
        return {"maps": self.maps, "spatial": self.spatial}

    def setup(self, tap, inputs):
        return {"weights": tap.cut(self.layer).row_setup(inputs["maps"]), "spatial": inputs["spatial"]}

    def _maps(self, view, prepared):
        import tensorflow as tf

        z_map, a_map = view.row_map(self.layer, prepared["weights"])
        return z_map, tf.reduce_sum(a_map * prepared["spatial"], axis=[1, 2])

    def values(self, view, prepared):
        import tensorflow as tf

        z_map, act = self._maps(view, prepared)
        if not view.relu(self.layer):
            return act, act
        # The mean pre-activation of a dead map is maximised by a flat image, which often stays
        # below zero; its best position instead grows one matching patch, which wakes the map.
        spatial = prepared["spatial"]
        peak = tf.reduce_max(tf.where(spatial > 0, z_map, z_map.dtype.min), axis=[1, 2])
        # A ReLU map at exactly zero has no gradient: climb its pre-activation until it wakes.
        return act, tf.where(act > 0, act, peak)


class Preactivation(MapMean):
    """Reports the map's activation like MapMean but climbs its mean pre-activation throughout."""

    def values(self, view, prepared):
        import tensorflow as tf

        z_map, act = self._maps(view, prepared)
        return act, tf.reduce_sum(z_map * prepared["spatial"], axis=[1, 2])


class Contrast(MapMean):
    """Per row: the map's weighted mean on the image plus `k` times how much more that is than on a
    uniform image of the same mean pixel value. Under a box constraint a map whose filter sums to
    a positive number climbs its plain mean towards a flat white square; the second term is 0 for
    every uniform image, so only structure (edges, strokes) can raise it. A silent map climbs its
    best position's pre-activation until it wakes, as MapMean does."""

    def __init__(self, layer: str, maps, spatial, k: float = 3.0):
        super().__init__(layer, maps, spatial)
        self.k = float(k)

    def signature(self) -> tuple:
        return ("Contrast", self.k) + self.layers()

    def values(self, view, prepared):
        import tensorflow as tf

        z_map, act = self._maps(view, prepared)
        flat = tf.ones_like(view.x) * tf.reduce_mean(view.x, axis=[1, 2, 3], keepdims=True)
        _, flat_map = view.of(flat).row_map(self.layer, prepared["weights"])
        value = act + self.k * (act - tf.reduce_sum(flat_map * prepared["spatial"], axis=[1, 2]))
        if not view.relu(self.layer):
            return value, value
        return value, tf.where(act > 0, value, tf.reduce_max(z_map, axis=[1, 2]))


def spatial_weights(n_rows: int, side: tuple, nodes: Optional[np.ndarray] = None) -> np.ndarray:
    """(n_rows, H, W): the map mean's uniform weights, or a one at each row's node (i, j)."""
    height, width = side
    if nodes is None:
        return np.full((n_rows, height, width), 1.0 / (height * width), np.float32)
    spatial = np.zeros((n_rows, height, width), np.float32)
    nodes = np.asarray(nodes, int).reshape(-1, 2)
    spatial[np.arange(n_rows), nodes[:, 0], nodes[:, 1]] = 1.0
    return spatial


def node(layer: str, maps, nodes, side: tuple) -> MapMean:
    """Per row: map maps[b]'s activation at its node nodes[b] = (i, j)."""
    return MapMean(layer, maps, spatial_weights(len(np.ravel(maps)), side, nodes))


OBJECTIVES = {"mean": MapMean, "preact": Preactivation}


def from_config(name: str, layer: str, maps, spatial) -> Objective:
    """The config's `objective: mean | preact` as an Objective: the one place that reads it."""
    if name not in OBJECTIVES:
        raise ValueError(f"unknown objective {name!r} (expected {' or '.join(OBJECTIVES)})")
    return OBJECTIVES[name](layer, maps, spatial)


# ---- whole layers, groups of rows, classes ---------------------------------------------------------

class LayerMean(Objective):
    """Per row: the mean of every value of a layer's output (the classic DeepDream term)."""

    def __init__(self, layer: str):
        self.layer = layer

    def layers(self) -> tuple:
        return (self.layer,)

    def values(self, view, prepared):
        import tensorflow as tf

        value = tf.reduce_mean(view.output(self.layer), axis=[1, 2, 3])
        return value, value


def layer_dream(weights: dict) -> Objective:
    """A weighted sum of layers' means, {layer: weight}."""
    return sum(float(w) * LayerMean(name) for name, w in weights.items())


class Diversity(Objective):
    """Per row: minus the mean cosine similarity of its layer's Gram matrix to those of the other
    rows of its group (Olah et al. 2017, "Feature Visualization", diversity). Groups are
    consecutive runs of `group` rows; the render keeps each group within one batch."""

    def __init__(self, layer: str, group: int):
        if group < 2:
            raise ValueError("a diversity term needs groups of at least two rows")
        self.layer, self.multiple = layer, int(group)

    def layers(self) -> tuple:
        return (self.layer,)

    def signature(self) -> tuple:
        return ("Diversity", self.layer, self.multiple)

    def values(self, view, prepared):
        import tensorflow as tf

        a = view.output(self.layer)
        rows, height, width, channels = a.shape
        flat = tf.reshape(a, [-1, height * width, channels])
        gram = tf.reshape(tf.matmul(flat, flat, transpose_a=True), [-1, channels * channels])
        gram = tf.math.l2_normalize(gram, axis=-1)
        g = self.multiple
        grouped = tf.reshape(gram, [-1, g, channels * channels])
        cosine = tf.matmul(grouped, grouped, transpose_b=True)  # (groups, g, g)
        others = (tf.reduce_sum(cosine, axis=-1) - tf.linalg.diag_part(cosine)) / (g - 1)
        value = -tf.reshape(others, [-1])
        return value, value


class ClassLogit(Objective):
    """Per row: the logit (output before softmax) of class `classes[b]` of a Dense layer."""

    def __init__(self, layer: str, classes):
        self.layer, self.classes = layer, np.asarray(classes, np.int32).reshape(-1)

    def layers(self) -> tuple:
        return (self.layer,)

    def inputs(self):
        return {"classes": self.classes}

    def values(self, view, prepared):
        import tensorflow as tf

        z = view.preactivation(self.layer)[:, 0, 0, :]
        value = tf.reduce_sum(z * tf.one_hot(prepared["classes"], z.shape[-1]), axis=-1)
        return value, value
