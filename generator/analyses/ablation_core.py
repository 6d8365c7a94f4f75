"""The arithmetic of ablation: test accuracy per class with one map of a layer switched off, for every
map at once.

The layer's outputs for a chunk of test images are computed once; each compiled call then fills one
channel of them per copy (k maps × n images in one batch) and runs the rest of the network on that
(taps.after), so no model is rebuilt per map. A copy with "map" number C (one past the last) is left
untouched: it gives the unablated baseline through the very same arithmetic.
"""
from __future__ import annotations

import numpy as np

from ..cache import Artifact
from ..model import taps

CHUNK = 1000               # test images per call (at most)
BUDGET = 24_000_000        # floats of ablated activations per call (about 100 MB), caps maps per call


def _step(model, layer: str, n_classes: int):
    """The general path (any chain model): a compiled f(a, fill, maps, y) -> correct answers per (map, class) for one chunk."""
    import tensorflow as tf

    rest = taps.after(model, layer)

    def run(a, fill, maps, y):
        rank = len(a.shape)
        mask = tf.one_hot(maps, tf.shape(a)[-1])                      # (k, C); row of zeros for map C
        mask = tf.reshape(mask, tf.concat([tf.shape(maps), tf.ones([rank - 1], tf.int32), [-1]], 0))
        x = a[None] * (1.0 - mask) + fill[None, None] * mask          # (k, n, ...)
        out = rest(tf.reshape(x, tf.concat([[-1], tf.shape(a)[1:]], 0)), training=False)
        pred = tf.reshape(tf.argmax(out, -1, output_type=tf.int32), [tf.shape(maps)[0], -1])
        right = tf.cast(tf.equal(pred, y[None]), tf.float32)           # padded images have y = -1
        return tf.matmul(right, tf.one_hot(y, n_classes))              # (k, K)

    return taps.cached(model, ("ablation-step", layer, n_classes), lambda: tf.function(run))


def layer_means(model, layers: list[str], x: np.ndarray) -> dict[str, np.ndarray]:
    """The mean output of each layer over the images, per position and channel (the gentle fill)."""
    total = {name: 0.0 for name in layers}
    for begin in range(0, len(x), CHUNK):
        outs = taps.outputs(model, layers, x[begin:begin + CHUNK])
        for name in layers:
            total[name] = total[name] + outs[name].sum(axis=0, dtype=np.float64)
    return {name: (total[name] / len(x)).astype(np.float32) for name in layers}


def ablate(model, layers: list[str], x: np.ndarray, y: np.ndarray, n_classes: int,
           fills: dict[str, dict[str, np.ndarray]]) -> dict[str, dict[str, np.ndarray]]:
    """{layer: {mode: correct (C + 1, K)}}: correct answers per class with each map filled by
    fills[layer][mode] (row C: nothing filled). x: standardized images, y: labels."""
    return {name: _ablate_layer(model, name, x, y, n_classes, fills[name]) for name in layers}


def _ablate_layer(model, name, x, y, n_classes, fills) -> dict[str, np.ndarray]:
    fast = _plan(model, name)
    channels = taps.layer(model, name).channels
    if fast is not None:
        step = _fast_step(model, name, n_classes, *fast)
        per_image = channels * int(np.prod(fast[1].output.shape[1:]))
        n = int(np.clip(BUDGET // per_image, 50, CHUNK))
    else:
        step, n = _step(model, name, n_classes), CHUNK
    n = min(n, len(x))
    found = {mode: 0.0 for mode in fills}
    for begin in range(0, len(x), n):
        xs, ys = _padded(x[begin:begin + n], y[begin:begin + n], n)
        a = taps.outputs(model, [name], xs, batch_size=n)[name]
        for mode, fill in fills.items():
            found[mode] = found[mode] + (np.asarray(step(a, fill, ys)) if fast is not None
                                         else _all_maps(step, a, fill, ys))
    return {mode: np.rint(v).astype(np.int64) for mode, v in found.items()}


# ---- the fast path: through the next weighted layer's linearity -------------------------------------
# The layers between the ablated layer and the next Conv2D/Dense act on each channel alone (pooling,
# dropout, elementwise activations, flatten), so refilling map m changes that layer's pre-activation
# by exactly (its input's channel m − the fill's) convolved with the kernel slice of m. One depthwise
# convolution gives that change for every map at once; only the network after that layer is rerun.

PER_CHANNEL = {"MaxPooling2D", "AveragePooling2D", "Dropout", "SpatialDropout2D", "Activation", "ReLU",
               "LeakyReLU", "BatchNormalization"}


def _plan(model, name: str):
    """(layers between, next weighted layer) when the fast path applies, else None."""
    layers_ = taps.chain(model)
    if layers_ is None:
        return None
    between = []
    for lay in layers_[[lay.name for lay in layers_].index(name) + 1:]:
        cls = lay.__class__.__name__
        if cls == "Conv2D" and _plain_conv(lay) and not any(b.__class__.__name__ == "Flatten" for b in between):
            return between, lay
        if cls == "Dense":
            return between, lay
        if cls not in PER_CHANNEL and cls != "Flatten":
            return None
        between.append(lay)
    return None


def _plain_conv(lay) -> bool:
    return (lay.groups == 1 and lay.data_format == "channels_last" and tuple(lay.dilation_rate) == (1, 1)
            and lay.strides[0] == lay.strides[1])


def _fast_step(model, name: str, n_classes: int, between: list, target):
    import tensorflow as tf

    rest = taps.after(model, target.name)
    spatial = [lay for lay in between if lay.__class__.__name__ != "Flatten"]
    conv = target.__class__.__name__ == "Conv2D"

    def through(h):
        for lay in spatial:
            h = lay(h, training=False)
        return h

    def run(a, fill, y):
        p = through(a)
        diff = p - through(fill[None])                              # (n, ..., C)
        k = target.kernel
        if conv:
            z = target.convolution_op(p, k)
            s = target.strides[0]
            d = tf.nn.depthwise_conv2d(diff, k, [1, s, s, 1], target.padding.upper())
            c, out = k.shape[2], k.shape[3]
            d = tf.transpose(tf.reshape(d, tf.concat([tf.shape(d)[:3], [c, out]], 0)), [3, 0, 1, 2, 4])
        else:
            n, c = tf.shape(p)[0], p.shape[-1]
            z = tf.matmul(tf.reshape(p, [n, -1]), k)
            d = tf.einsum("nsc,scu->cnu", tf.reshape(diff, [n, -1, c]), tf.reshape(k, [-1, c, k.shape[-1]]))
        if target.use_bias:
            z = z + target.bias
        z = tf.concat([z[None] - d, z[None]], 0)                     # (C + 1, n, ...): last row untouched
        h = target.activation(tf.reshape(z, tf.concat([[-1], tf.shape(z)[2:]], 0)))
        pred = tf.reshape(tf.argmax(rest(h, training=False), -1, output_type=tf.int32), [c + 1, -1])
        right = tf.cast(tf.equal(pred, y[None]), tf.float32)
        return tf.matmul(right, tf.one_hot(y, n_classes))

    return taps.cached(model, ("ablation-fast", name, n_classes), lambda: tf.function(run))


def _padded(x: np.ndarray, y: np.ndarray, n: int):
    """A chunk of the one fixed size (one trace), padded with a copy of its last image, labelled -1."""
    pad = n - len(x)
    return (np.concatenate([x, np.repeat(x[-1:], pad, axis=0)]),
            np.concatenate([y, np.full(pad, -1)]).astype(np.int32))


def _all_maps(step, a: np.ndarray, fill: np.ndarray, y: np.ndarray) -> np.ndarray:
    channels = a.shape[-1]
    k = max(1, min(channels + 1, BUDGET // max(1, a.size)))
    maps = np.arange(channels + 1, dtype=np.int32)
    rows = []
    for begin in range(0, len(maps), k):
        batch = maps[begin:begin + k]
        padded = np.concatenate([batch, np.repeat(batch[-1:], k - len(batch))])  # one shape, one trace
        rows.append(np.asarray(step(a, fill, padded, y))[: len(batch)])
    return np.concatenate(rows)


def compute(build, modes) -> Artifact:
    """The stage: every map of every map layer, over the whole test set, in each mode."""
    model, x = build.model, build.x_test()
    y = build.dataset.y_test.astype(np.int32)
    # Running the network on from a layer needs a chain of layers; a branching model (a residual Add)
    # gets no ablation, and its pages say nothing about it rather than something untrue.
    layers = [info.name for info in taps.map_layers(model)] if taps.chain(model) is not None else []
    means = layer_means(model, layers, x) if layers else {}
    fills = {name: {"zero": np.zeros_like(means[name]), "mean": means[name]} for name in layers}
    fills = {name: {mode: f[mode] for mode in modes} for name, f in fills.items()}
    found = ablate(model, layers, x, y, build.dataset.n_classes, fills)
    arrays = {f"{name}.{mode}": found[name][mode] for name in layers for mode in modes}
    arrays["per_class"] = np.bincount(y, minlength=build.dataset.n_classes).astype(np.int64)
    return Artifact("", arrays, {"layers": layers})
