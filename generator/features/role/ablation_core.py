"""The arithmetic of ablation: test accuracy per class with one map of a layer switched off, for every
map at once, and the class scores (logits) that give it.

The layer's outputs for a chunk of test images are computed once; each compiled call then fills one
channel of them per copy (k maps × n images in one batch) and runs the rest of the network on that,
so no model is rebuilt per map. The copy after the last ablated one is left untouched: it gives the
unablated baseline through the very same arithmetic.
"""
from __future__ import annotations

import numpy as np

from generator.cache import Artifact
from generator.model import fast_cut, score, taps
from generator.model.batching import padded

CHUNK = 1000               # test images per call (at most)
BUDGET = 12_000_000        # floats of ablated activations per call (about 50 MB), caps images per call


def _counts(logits, y, copies: int, n_classes: int):
    """Correct answers per (copy, class) from logits (copies * n, K); padded images have y = -1."""
    import tensorflow as tf

    pred = tf.reshape(tf.argmax(logits, -1, output_type=tf.int32), [copies, -1])
    right = tf.cast(tf.equal(pred, y[None]), tf.float32)
    return tf.matmul(right, tf.one_hot(y, n_classes))                  # (copies, K)


def _step(model, layer: str, n_classes: int):
    """The general path (a chain, or a graph whose output is a Dense layer's): a compiled
    f(a, fill, maps, y, images) -> correct answers per (map, class) for one chunk. The images feed the
    branches that bypass the layer in a graph; on a chain TensorFlow prunes their copies unused."""
    import tensorflow as tf

    logits = score.logits_replacing(model, layer)

    def run(a, fill, maps, y, images):
        rank, k = len(a.shape), tf.shape(maps)[0]
        mask = tf.one_hot(maps, tf.shape(a)[-1])                      # (k, C); row of zeros for map C
        mask = tf.reshape(mask, tf.concat([tf.shape(maps), tf.ones([rank - 1], tf.int32), [-1]], 0))
        h = a[None] * (1.0 - mask) + fill[None, None] * mask          # (k, n, ...)
        copies = tf.reshape(tf.tile(images[None], tf.concat([[k], tf.ones([len(images.shape)], tf.int32)], 0)),
                            tf.concat([[-1], tf.shape(images)[1:]], 0))
        out = logits(copies, tf.reshape(h, tf.concat([[-1], tf.shape(a)[1:]], 0)))
        return _counts(out, y, k, n_classes)

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
    modes = list(fills)
    if fast is not None:
        scores = _fast_scores(model, name, *fast)
        step = _fast_step(model, name, n_classes, len(modes), scores)
        per_image = (len(modes) * channels + 1) * int(np.prod(fast[1].output.shape[1:]))
        n = int(np.clip(BUDGET // per_image, 16, CHUNK))
    else:
        step, n = _step(model, name, n_classes), CHUNK
    n = min(n, len(x))
    stacked = np.stack([fills[mode] for mode in modes])
    found = {mode: 0.0 for mode in modes}
    for begin in range(0, len(x), n):
        xs, ys = padded(x[begin:begin + n], n), padded(y[begin:begin + n].astype(np.int32), n, -1)
        a = taps.outputs(model, [name], xs, batch_size=n)[name]
        if fast is not None:
            rows = np.asarray(step(a, stacked, ys))                      # (modes * C + 1, K)
            for j, mode in enumerate(modes):
                found[mode] = found[mode] + np.concatenate([rows[j * channels:(j + 1) * channels], rows[-1:]])
        else:
            for mode in modes:
                found[mode] = found[mode] + _all_maps(step, a, fills[mode], ys, xs)
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


def _fast_scores(model, name: str, between: list, target):
    """f(a, fills) -> logits (M * C + 1, n, K): with each map m of `name` refilled by each fill
    (M fills, shaped like one image's output), fill-major, then the untouched copy last."""
    import tensorflow as tf

    spatial = [lay for lay in between if lay.__class__.__name__ != "Flatten"]
    conv = target.__class__.__name__ == "Conv2D"
    logits = (lambda z: z[:, 0, 0, :] if len(z.shape) == 4 else z) if target is taps.chain(model)[-1] \
        else (lambda z, f=score.logits_after(model, target.name): f(target.activation(z)))

    def through(h):
        for lay in spatial:
            h = lay(h, training=False)
        return h

    def deltas(p):
        """(C, n, ...): per map m, channel m of p alone through the target's kernel."""
        k = target.kernel
        if conv:
            kh, kw, c, out = k.shape
            s = target.strides[0]
            pt = tf.image.extract_patches(p, [1, kh, kw, 1], [1, s, s, 1], [1, 1, 1, 1], target.padding.upper())
            shape = tf.shape(pt)
            pt = tf.transpose(tf.reshape(pt, [-1, kh * kw, c]), [2, 0, 1])             # (C, n*H*W, kh*kw)
            d = tf.matmul(pt, tf.transpose(tf.reshape(k, [kh * kw, c, out]), [1, 0, 2]))  # (C, n*H*W, out)
            return tf.reshape(d, tf.concat([[c], shape[:3], [out]], 0))
        n, c = tf.shape(p)[0], p.shape[-1]
        return tf.einsum("nsc,scu->cnu", tf.reshape(p, [n, -1, c]), tf.reshape(k, [-1, c, k.shape[-1]]))

    def run(a, fills):
        p = through(a)
        z = fast_cut.stock_preactivation(target, p if conv else tf.reshape(p, [tf.shape(p)[0], -1]))
        z = z if conv else z[:, 0, 0, :]
        kept = z[None] - deltas(p)                                        # (C, n, ...): map m's share taken out
        offset = tf.transpose(deltas(through(fills)), [1, 0] + list(range(2, len(z.shape) + 1)))  # (M, C, ...)
        z_off = kept[None] + tf.expand_dims(offset, 2)                    # (M, C, n, ...): map m refilled
        out = logits(tf.reshape(z_off, tf.concat([[-1], tf.shape(z)[1:]], 0)))
        return tf.concat([out, logits(z)], 0)

    return run


def _fast_step(model, name: str, n_classes: int, n_fills: int, scores):
    """Compiled f(a, fills, y) -> correct answers per (fill-major copy, class), untouched copy last."""
    import tensorflow as tf

    channels = taps.layer(model, name).channels

    def run(a, fills, y):
        return _counts(scores(a, fills), y, n_fills * channels + 1, n_classes)

    return taps.cached(model, ("ablation-fast", name, n_classes, n_fills), lambda: tf.function(run))


def refilled_logits(model, name: str, x: np.ndarray, fill: np.ndarray) -> np.ndarray | None:
    """Logits (C + 1, n, K) of images x with each map of `name` refilled by `fill` (row C: untouched),
    for a few images (e.g. an image set); None where only the general path would apply."""
    import tensorflow as tf

    fast = _plan(model, name)
    if fast is None:
        return None
    scores = taps.cached(model, ("ablation-scores", name), lambda: tf.function(_fast_scores(model, name, *fast)))
    a = taps.outputs(model, [name], x, batch_size=len(x))[name]
    out = np.asarray(scores(a, np.asarray(fill, np.float32)[None]))
    return out.reshape(taps.layer(model, name).channels + 1, len(x), -1)


def _all_maps(step, a: np.ndarray, fill: np.ndarray, y: np.ndarray, x: np.ndarray) -> np.ndarray:
    channels = a.shape[-1]
    k = max(1, min(channels + 1, BUDGET // max(1, a.size)))
    maps = np.arange(channels + 1, dtype=np.int32)
    rows = []
    for begin in range(0, len(maps), k):
        batch = maps[begin:begin + k]
        rows.append(np.asarray(step(a, fill, padded(batch, k), y, x))[: len(batch)])
    return np.concatenate(rows)


def compute(build, modes) -> Artifact:
    """The stage: every map of every map layer, over the whole test set, in each mode."""
    model, x = build.model, build.x_test()
    y = build.dataset.y_test.astype(np.int32)
    # A chain is run on from the layer; a graph again from the image with the layer's output swapped.
    # Only a graph whose class scores are not a Dense layer's gets no ablation, and its pages say why
    # (meta "unsupported") rather than show nothing or guess.
    hidden = [info.name for info in taps.node_layers(model)][:-1]  # dense layers but the class scores
    supported = taps.chain(model) is not None or score.class_layer(model) is not None
    # The gallery's map layers only (oip.layers): a big model's other layers would cost hours and no page shows them.
    shown = set(build.cfg.oip.layers or ())
    layers = [info.name for info in taps.map_layers(model) if info.name in shown] + hidden if supported else []
    means = layer_means(model, layers, x) if layers else {}
    fills = {name: {"zero": np.zeros_like(means[name]), "mean": means[name]} for name in layers}
    fills = {name: {mode: f[mode] for mode in modes} for name, f in fills.items()}
    found = ablate(model, layers, x, y, build.dataset.n_classes, fills)
    arrays = {f"{name}.{mode}": found[name][mode] for name in layers for mode in modes}
    arrays.update({f"{name}.fill_mean": means[name] for name in layers})  # for ablations of other image sets
    arrays["per_class"] = np.bincount(y, minlength=build.dataset.n_classes).astype(np.int64)
    return Artifact("", arrays, {"layers": layers, "unsupported": "" if supported else unsupported(model)})


def unsupported(model) -> str:
    """Why a model gets no ablation or class influence, in one sentence for its pages."""
    merge = taps.first_merge(model)
    where = f" (its branches merge at {merge}, {model.get_layer(merge).__class__.__name__})" if merge else ""
    return (f"Ablation is not computed for this model: it reruns the graph up to the class layer, a Dense "
            f"layer whose outputs are the class scores, and this model's output is not one{where}.")
