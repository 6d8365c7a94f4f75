"""The arithmetic of class influence: for every map (or hidden dense node) of every layer at once, the
mean over each class's test images of gradient × activation of that class's own logit, summed over
the unit's positions.

One forward pass, with every wanted layer's output recorded, and one backward pass give the gradients
at all of them together (not one pass per layer); for a chain of layers or any graph
(see model.score.logits_with).
"""
from __future__ import annotations

import numpy as np

from generator.model import score, taps
from generator.model.batching import padded

CHUNK = 500


def _step(model, names: tuple, n_classes: int):
    """A compiled f(x, y) -> {layer: (K, C) summed influence per class and unit} for one chunk."""
    import tensorflow as tf

    forward = score.logits_with(model, names)

    def run(x, y):
        with tf.GradientTape() as tape:
            kept, logits = forward(x)
            own = tf.reduce_sum(logits * tf.one_hot(y, n_classes))  # each image's own class logit
        grads = tape.gradient(own, [kept[n] for n in names])
        onehot = tf.one_hot(y, n_classes)
        out = {}
        for name, g in zip(names, grads):
            a = kept[name]
            per_unit = tf.reduce_sum(tf.reshape(g * a, [tf.shape(a)[0], -1, a.shape[-1]]), axis=1)  # (n, C)
            out[name] = tf.matmul(onehot, per_unit, transpose_a=True)                             # (K, C)
        return out

    return taps.cached(model, ("influence-step", names, n_classes), lambda: tf.function(run))


def influence(model, names: list[str], x: np.ndarray, y: np.ndarray, n_classes: int) -> dict[str, np.ndarray]:
    """{layer: float32 (K, C)}: mean influence of each unit on each class's own logit over that class's
    images. x: standardized images, y: labels. A chain model, or any whose output is a Dense layer's."""
    if not names:
        return {}
    step = _step(model, tuple(names), n_classes)
    total = {name: 0.0 for name in names}
    for begin in range(0, len(x), CHUNK):
        xs, ys = x[begin:begin + CHUNK], y[begin:begin + CHUNK].astype(np.int32)
        if len(x) > CHUNK:  # one shape, one trace; one_hot(-1) is 0, so padding adds nothing
            xs, ys = padded(xs, CHUNK, 0), padded(ys, CHUNK, -1)
        found = step(xs, ys)
        for name in names:
            total[name] = total[name] + np.asarray(found[name], np.float64)
    sizes = np.bincount(y, minlength=n_classes)
    return {name: (total[name] / np.maximum(sizes, 1)[:, None]).astype(np.float32) for name in names}
