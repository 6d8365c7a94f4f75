"""The arithmetic of class influence: for every map (or hidden dense node) of every layer at once, the
mean over each class's test images of gradient × activation of that class's own logit, summed over
the unit's positions.

One forward pass, with every wanted layer's output recorded, and one backward pass give the gradients
at all of them together (not one pass per layer); for a chain of layers or any graph (see _forward).
"""
from __future__ import annotations

import numpy as np

from generator.model import fast_cut, taps

CHUNK = 500


def _step(model, names: tuple, n_classes: int):
    """A compiled f(x, y) -> {layer: (K, C) summed influence per class and unit} for one chunk."""
    import tensorflow as tf

    forward = _forward(model, names)

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


def _forward(model, names: tuple):
    """f(x) -> ({layer: output}, class logits), every step inside the caller's tape. A chain runs layer
    by layer; any other graph (residual Add, Concatenate) through a sub-model that also returns the
    input of the class layer, whose logits are its output before the softmax."""
    layers_ = taps.chain(model)
    if layers_ is not None:
        wanted = set(names)

        def chain_forward(x):
            h, kept = x, {}
            for lay in layers_[:-1]:
                h = lay(h, training=False)
                if lay.name in wanted:
                    kept[lay.name] = h
            return kept, fast_cut.stock_preactivation(layers_[-1], h)[:, 0, 0, :]

        return chain_forward
    import keras

    last = class_layer(model)
    sub = keras.Model(model.inputs, [model.get_layer(n).output for n in names] + [last.input])

    def graph_forward(x):
        out = sub(x, training=False)
        z = fast_cut.stock_preactivation(last, out[-1])
        return dict(zip(names, out[:-1])), (z[:, 0, 0, :] if len(z.shape) == 4 else z)

    return graph_forward


def class_layer(model):
    """The Dense layer whose output (before its softmax) is the model's output, or None."""
    import keras

    nodes = taps.node_layers(model)
    last = model.get_layer(nodes[-1].name) if nodes else None
    return last if last is not None and isinstance(last, keras.layers.Dense) and model.outputs[0] is last.output else None


def influence(model, names: list[str], x: np.ndarray, y: np.ndarray, n_classes: int) -> dict[str, np.ndarray]:
    """{layer: float32 (K, C)}: mean influence of each unit on each class's own logit over that class's
    images. x: standardized images, y: labels. A chain model, or any whose output is a Dense layer's."""
    if not names:
        return {}
    step = _step(model, tuple(names), n_classes)
    total = {name: 0.0 for name in names}
    for begin in range(0, len(x), CHUNK):
        xs, ys = x[begin:begin + CHUNK], y[begin:begin + CHUNK].astype(np.int32)
        pad = CHUNK - len(xs) if len(x) > CHUNK else 0  # one shape, one trace
        if pad:
            xs = np.concatenate([xs, np.zeros((pad,) + xs.shape[1:], xs.dtype)])
            ys = np.concatenate([ys, np.full(pad, -1, np.int32)])  # one_hot(-1) is 0: padding adds nothing
        found = step(xs, ys)
        for name in names:
            total[name] = total[name] + np.asarray(found[name], np.float64)
    sizes = np.bincount(y, minlength=n_classes)
    return {name: (total[name] / np.maximum(sizes, 1)[:, None]).astype(np.float32) for name in names}
