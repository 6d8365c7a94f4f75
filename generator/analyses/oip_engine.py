"""Batched OIP ("original input pattern") search: gradient ascent on the input, many maps at once.

Every (map, start) pair is one row of a single batch, and one compiled TensorFlow loop advances all
rows together, so a whole layer costs about as much as a few large forward/backward passes instead
of thousands of tiny eager ones. Rows never interact: the objective of a row depends only on that
row's image, every random choice (start noise, jitter) is derived from the seed and the row's
(map, start) or the step number, never from the batch layout, so a map searched alone gives the
same pattern as the same map searched among all others.

Knows nothing about HTML or caching; everything is numpy in, numpy out.
"""
from __future__ import annotations

import math
import time
import weakref
from functools import partial
from typing import Callable, Optional, Sequence

import numpy as np

SIDE = 28
# Starts: smooth noise around a dark-grey level, spread over the lower part of the pixel range.
# MNIST images are mostly black background, so a dark start keeps the search near that regime;
# the spread is large enough for every map to see some bright structure to respond to.
START_LEVEL = 0.25  # fraction of the pixel range (0 = black, 1 = white)
START_SPREAD = 0.15  # standard deviation, as a fraction of the pixel range
# Rows per compiled batch. 64..512 rows were measured equally fast per row; 256 keeps the biggest
# tensors (the first layer's activations, ~22 MB per batch) and the number of traces small.
MAX_CHUNK = 256
# Steps per compiled call: long enough to make Python's per-call overhead negligible.
UNROLL = 8
# jit_compile=True (XLA) was measured 5-10x slower per step than TensorFlow's oneDNN kernels for
# these small convolutions on this CPU, besides compiling for much longer.
JIT_COMPILE = False


# ----------------------------------------------------------------------------------------------
# Random starts


def make_starts(noise_scales: Sequence[int], n_maps: int, seed: int,
                pixel_range: tuple[float, float]) -> np.ndarray:
    """Random start images, (n_maps*S, 28, 28, 1) float32, row = map*S + start."""
    return _starts_for(noise_scales, np.arange(n_maps), seed, pixel_range)


def _starts_for(noise_scales: Sequence[int], map_ids: Sequence[int], seed: int,
                pixel_range: tuple[float, float]) -> np.ndarray:
    """Starts of the given maps only; each image depends on (seed, map, start) alone."""
    lo, hi = (float(v) for v in pixel_range)
    scales = [int(s) for s in noise_scales]
    out = np.empty((len(map_ids), len(scales), SIDE, SIDE), np.float32)
    for k, scale in enumerate(scales):
        n = math.ceil(SIDE / scale)
        coarse = np.stack([np.random.default_rng([int(seed), int(m), k]).standard_normal((n, n))
                           for m in map_ids]) if len(map_ids) else np.zeros((0, n, n))
        out[:, k] = _standardize_noise(_upscale(coarse.astype(np.float32)))
    out = lo + (hi - lo) * (START_LEVEL + START_SPREAD * out)
    return np.clip(out, lo, hi).reshape(-1, SIDE, SIDE, 1).astype(np.float32)


def _upscale(coarse: np.ndarray) -> np.ndarray:
    """Smooth (bicubic) upscaling of (N, n, n) noise to (N, 28, 28)."""
    if coarse.shape[1] == SIDE or len(coarse) == 0:
        return coarse
    import tensorflow as tf

    return tf.image.resize(coarse[..., None], (SIDE, SIDE), method="bicubic").numpy()[..., 0]


def _standardize_noise(noise: np.ndarray) -> np.ndarray:
    """Zero mean, unit spread per image, so every length scale starts with the same contrast."""
    centred = noise - noise.mean(axis=(1, 2), keepdims=True)
    return centred / (centred.std(axis=(1, 2), keepdims=True) + 1e-6)


# ----------------------------------------------------------------------------------------------
# The network up to the target layer


def _chain(model, layer_name: str):
    """(layers before the target, the target layer) of a chain (Sequential-like) model."""
    import keras

    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    names = [layer.name for layer in layers]
    if layer_name not in names:
        raise ValueError(f"no layer {layer_name!r} (layers: {', '.join(names)})")
    target = layers[names.index(layer_name)]
    if not (_is_conv2d(target) or isinstance(target, keras.layers.Dense)):
        raise ValueError(f"layer {layer_name!r} is a {target.__class__.__name__}; "
                         "OIPs are searched for Conv2D and Dense layers")
    return layers[: names.index(layer_name)], target


def _is_conv2d(layer) -> bool:
    import keras

    return isinstance(layer, keras.layers.Conv2D)


def _is_relu(layer) -> bool:
    import keras

    return getattr(layer, "activation", None) is keras.activations.relu


def _output_shape(layer) -> tuple[int, int, int]:
    """(H, W, C) of a layer's output; Dense outputs count as 1x1 maps."""
    shape = tuple(int(s) for s in layer.output.shape[1:])
    return shape if len(shape) == 3 else (1, 1, shape[-1])


def _stock_preactivation(layer, h):
    """The layer's full output before its activation, as (B, H, W, C), computed the stock way."""
    import tensorflow as tf

    if _is_conv2d(layer):
        z = layer.convolution_op(h, layer.kernel)
        return z + layer.bias if layer.use_bias else z
    z = tf.matmul(h, layer.kernel)
    z = z + layer.bias if layer.use_bias else z
    return z[:, None, None, :]


def _row_weights(layer, maps):
    """Per row b, the weights of map maps[b] only, laid out for _row_preactivation.

    Computed once per batch, outside the step loop (the gather is not free and never changes).
    """
    import tensorflow as tf

    bias = tf.gather(layer.bias, maps)[:, None, None] if layer.use_bias else tf.zeros([len(maps), 1, 1])
    if not _is_conv2d(layer):
        return tf.transpose(tf.gather(layer.kernel, maps, axis=1)), bias  # (B, in)
    kh, kw, channels, _ = layer.kernel.shape
    kernels = tf.transpose(tf.gather(layer.kernel, maps, axis=3), [0, 1, 3, 2])  # (kh, kw, B, C)
    return tf.reshape(kernels, [kh, kw, -1, 1]), bias


def _row_preactivation(layer, h, weights):
    """Per row b, only its own map of the layer before activation: (B, H, W).

    Computing all C maps and keeping one wastes C-1 of them (the full target convolution was a
    sixth of a Conv2D_3 step and two thirds of a Conv2D_2 step). Folding the batch into the channels turns "each
    row its own kernel" into one depthwise convolution; its channel sum is the row's map.
    """
    import tensorflow as tf

    kernels, bias = weights
    if not _is_conv2d(layer):
        return tf.reduce_sum(h * kernels, axis=1)[:, None, None] + bias
    rows, height, width, channels = h.shape
    folded = tf.reshape(tf.transpose(h, [1, 2, 0, 3]), [1, height, width, rows * channels])
    out = tf.nn.depthwise_conv2d(folded, kernels, strides=[1, *layer.strides, 1],
                                 padding=layer.padding.upper(), dilations=tuple(layer.dilation_rate))
    out = tf.reduce_sum(tf.reshape(out, [out.shape[1], out.shape[2], rows, channels]), axis=-1)
    return tf.transpose(out, [2, 0, 1]) + bias


def _per_row_ok(layer) -> bool:
    """Whether _row_preactivation can compute this target (else: all maps and a one-hot mask)."""
    import keras

    if isinstance(layer, keras.layers.Dense):
        return True
    return layer.groups == 1 and layer.data_format == "channels_last" and (
        tuple(layer.strides) == (1, 1) or tuple(layer.dilation_rate) == (1, 1))


def _below_target(layers, h):
    """Run the layers below the target. A ReLU convolution followed by a max-pool is computed as
    convolution -> pool -> bias -> ReLU: the same values (max commutes with adding a constant and
    with ReLU), but bias and ReLU, forward and backward, touch a quarter of the data."""
    import tensorflow as tf

    i = 0
    while i < len(layers):
        layer = layers[i]
        following = layers[i + 1] if i + 1 < len(layers) else None
        if _is_conv2d(layer) and _is_relu(layer) and _plain_max_pool(following):
            h = _crop_to_pool(layer, following, h)
            z = tf.nn.max_pool2d(_conv_no_bias(layer, h), following.pool_size, following.strides,
                                 following.padding.upper())
            h = tf.nn.relu(z + layer.bias if layer.use_bias else z)
            i += 2
        elif _is_conv2d(layer):
            z = _conv_no_bias(layer, h)
            h = layer.activation(z + layer.bias if layer.use_bias else z)
            i += 1
        else:
            h = layer(h)
            i += 1
    return h


def _crop_to_pool(conv, pool, h):
    """Drop the input rows/columns whose convolution outputs a VALID pool would discard anyway.

    For the seed's Conv2D_2 (11x11 output, pooled to 5x5) this skips a sixth of its work, forward
    and backward. The gradient is a plain pad: TensorFlow's own slice gradient is very slow here.
    """
    import tensorflow as tf

    if (pool.padding != "valid" or tuple(pool.strides) != tuple(pool.pool_size) or conv.padding != "valid"
            or tuple(conv.strides) != (1, 1) or tuple(conv.dilation_rate) != (1, 1)):
        return h
    _, height, width, _ = h.shape
    kh, kw = conv.kernel.shape[:2]
    (ph, pw) = pool.pool_size
    rows = (height - kh + 1) // ph * ph + kh - 1
    cols = (width - kw + 1) // pw * pw + kw - 1
    if (rows, cols) == (height, width):
        return h

    @tf.custom_gradient
    def crop(h):
        def grad(dy):
            return tf.pad(dy, [[0, 0], [0, height - rows], [0, width - cols], [0, 0]])

        return h[:, :rows, :cols, :], grad

    return crop(h)


def _plain_max_pool(layer) -> bool:
    import keras

    return isinstance(layer, keras.layers.MaxPooling2D) and layer.data_format == "channels_last"


def _conv_no_bias(layer, h):
    import tensorflow as tf

    if _single_channel_conv(layer, h):
        return _conv_1ch(h, tf.convert_to_tensor(layer.kernel))
    return layer.convolution_op(h, layer.kernel)


def _single_channel_conv(layer, h) -> bool:
    return (h.shape[-1] == 1 and tuple(layer.strides) == (1, 1) and tuple(layer.dilation_rate) == (1, 1)
            and layer.padding == "valid" and layer.data_format == "channels_last" and layer.groups == 1)


def _conv_1ch(x, kernel):
    """VALID stride-1 convolution of a one-channel image, with a faster input gradient.

    oneDNN's Conv2DBackpropInput is very slow when the input has a single channel (a third of a
    whole Conv2D_3 step); one matmul to per-tap gradients plus nine padded shifts computes the
    same sum in a quarter of the time.
    """
    import tensorflow as tf

    kh, kw, _, cout = kernel.shape
    taps = tf.reshape(kernel, [kh * kw, cout])

    @tf.custom_gradient
    def conv(x):
        def grad(dy):
            rows, oh, ow = dy.shape[0], dy.shape[1], dy.shape[2]
            per_tap = tf.matmul(taps, tf.reshape(dy, [-1, cout]), transpose_b=True)  # (taps, B*oh*ow)
            per_tap = tf.reshape(per_tap, [kh * kw, -1, oh, ow])
            shifted = [tf.pad(per_tap[t], [[0, 0], [t // kw, kh - 1 - t // kw], [t % kw, kw - 1 - t % kw]])
                       for t in range(kh * kw)]
            return tf.add_n(shifted)[..., None]

        return tf.nn.conv2d(x, kernel, 1, "VALID"), grad

    return conv(x)


# ----------------------------------------------------------------------------------------------
# The compiled search


class _Search:
    """Compiled steps and measurement for one (model, layer, objective); reused across calls.

    Weights are read inside the compiled graphs, so later changes to the model's variables are
    seen; a different model object gets its own _Search.
    """

    def __init__(self, model, layer_name: str, objective: str):
        import tensorflow as tf

        self.before, self.target = _chain(model, layer_name)
        self.relu = _is_relu(self.target)
        self.objective = objective
        self._compiled = {}
        self.measure = tf.function(self._measure, jit_compile=JIT_COMPILE)

    def forward(self, x):
        """All maps of the target before activation, (B, H, W, C)."""
        return _stock_preactivation(self.target, _below_target(self.before, x))

    def _per_row(self) -> bool:
        linear = self.target.activation is None or self.target.activation.__name__ == "linear"
        return _per_row_ok(self.target) and (self.relu or linear)

    def _weights(self, maps):
        """Loop-invariant per-row weights of the target (or just the map indices)."""
        return _row_weights(self.target, maps) if self._per_row() else maps

    def _values(self, x, weights, spatial):
        """Per row: (objective value, value to climb while the map is dead), both (B,)."""
        import tensorflow as tf

        h = _below_target(self.before, x)
        if self._per_row():
            z_map = _row_preactivation(self.target, h, weights)  # (B, H, W)
            a_map = tf.nn.relu(z_map) if self.relu else z_map
        else:  # e.g. softmax: the row's unit depends on all units
            z = _stock_preactivation(self.target, h)
            channel = tf.one_hot(weights, z.shape[-1])[:, None, None, :]
            z_map = tf.reduce_sum(z * channel, axis=-1)
            a_map = tf.reduce_sum(self.target.activation(z) * channel, axis=-1)
        act = tf.reduce_sum(a_map * spatial, axis=[1, 2])
        if self.objective == "preact":
            return act, tf.reduce_sum(z_map * spatial, axis=[1, 2])
        # The mean pre-activation of a dead map is maximised by a flat image, which often stays
        # below zero; its best position instead grows one matching patch, which wakes the map.
        return act, tf.reduce_max(tf.where(spatial > 0, z_map, z_map.dtype.min), axis=[1, 2])

    def _measure(self, x, maps, spatial):
        return self._values(x, self._weights(maps), spatial)[0]

    def _step(self, x, weights, spatial, shift, step_size):
        import tensorflow as tf

        xs = tf.roll(x, shift, axis=[1, 2])
        with tf.GradientTape() as tape:
            tape.watch(xs)
            act, pre = self._values(xs, weights, spatial)
            if self.objective == "preact":
                objective = pre
            elif self.relu:
                # A ReLU map at exactly zero has no gradient: climb its pre-activation until it wakes.
                objective = tf.where(act > 0, act, pre)
            else:
                objective = act
            total = tf.reduce_sum(objective)
        grad = tape.gradient(total, xs)
        # Per-row normalisation: every row moves by step_size (RMS per pixel), whatever its scale.
        grad = grad * tf.math.rsqrt(tf.reduce_mean(tf.square(grad), axis=[1, 2, 3], keepdims=True) + 1e-12)
        return tf.roll(xs + step_size * grad, -shift, axis=[1, 2]), act

    def _advance(self, unroll, x, failed, maps, spatial, seed, first_step,
                 step_size, jitter, blur_matrix, blur_every, lo, hi):
        """`unroll` ascent steps on all rows; returns (x, failed, curve (unroll, B)).

        The steps are unrolled in Python rather than run in a tf.while_loop: inside a while loop
        oneDNN's graph rewrite picks the fast MaxPoolGrad only about half the time (10x slower
        otherwise); in a flat graph it always does.
        """
        import tensorflow as tf

        weights = self._weights(maps)
        curve = []
        for k in range(unroll):
            t = first_step + k
            # One shift per step for all rows: depends on (seed, step) only, not on the batch.
            shift = tf.random.stateless_uniform([2], seed=tf.stack([seed, tf.cast(t, tf.int64)]),
                                                minval=-jitter, maxval=jitter + 1, dtype=tf.int32)
            new, act = self._step(x, weights, spatial, shift, step_size)
            # Blurring every step and keeping it once per cycle is cheaper than control flow.
            new = tf.where(_blur_now(t, blur_every), _blur(new, blur_matrix), new)
            new = tf.clip_by_value(new, lo, hi)
            ok = tf.logical_and(tf.reduce_all(tf.math.is_finite(new), axis=[1, 2, 3]), tf.math.is_finite(act))
            failed = tf.logical_or(failed, tf.logical_not(ok))
            x = tf.where(failed[:, None, None, None], x, new)  # a failed row stays frozen
            curve.append(act)
        return x, failed, tf.stack(curve)

    def advance(self, n_steps: int, x, failed, first_step: int, best=None, **settings):
        """n_steps steps, in calls of UNROLL steps and then single steps (two traces per shape).

        With `best` = [pattern, value] per row, each call's result is measured without jitter and
        kept where it beats the best so far: a barely alive map can flicker on and off under jitter
        and blur, and the last step need not be the strongest pattern the ascent found.
        """
        import tensorflow as tf

        curves = []
        done = 0
        for unroll in _call_sizes(n_steps):
            x, failed, curve = self.compiled(unroll)(x, failed, first_step=tf.constant(first_step + done),
                                                     **settings)
            if best is not None:
                _keep_best(best, x, failed, self.measure(x, settings["maps"], settings["spatial"]))
            curves.append(curve)
            done += unroll
        return x, failed, tf.concat(curves, axis=0) if curves else None

    def compiled(self, unroll: int):
        import tensorflow as tf

        if unroll not in self._compiled:
            self._compiled[unroll] = tf.function(partial(self._advance, unroll), jit_compile=JIT_COMPILE)
        return self._compiled[unroll]


_SEARCHES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _search(model, layer_name: str, objective: str) -> _Search:
    """The compiled search for this model and layer, traced once and kept while the model lives."""
    per_model = _SEARCHES.setdefault(model, {})
    key = (layer_name, objective)
    if key not in per_model:
        per_model[key] = _Search(model, layer_name, objective)
    return per_model[key]


def _blur_matrix(sigma: float) -> np.ndarray:
    """(28, 28) matrix G with G @ img @ G.T = gaussian blur of img, mirrored at the borders.

    Two tiny matmuls are much cheaper than a 5x5 convolution of a one-channel image in oneDNN.
    """
    if sigma <= 0:
        return np.eye(SIDE, dtype=np.float32)
    radius = min(SIDE - 1, max(1, math.ceil(2.5 * sigma)))
    taps = np.exp(-np.arange(-radius, radius + 1) ** 2 / (2 * sigma * sigma))
    taps /= taps.sum()
    matrix = np.zeros((SIDE, SIDE))
    for i in range(SIDE):
        for k, weight in enumerate(taps):
            j = abs(i + k - radius)  # mirror at the top/left border (like numpy's "reflect")
            j = 2 * (SIDE - 1) - j if j > SIDE - 1 else j  # and at the bottom/right border
            matrix[i, j] += weight
    return matrix.astype(np.float32)


def _blur_now(step, blur_every):
    """Whether the step blurs: once per blur_every steps, mid-cycle, so that a run ends with a few
    ascent steps rather than a blur that would dull the final pattern's measured activation."""
    return (step + 1) % blur_every == blur_every // 2


def _blur(x, matrix):
    """Blur a (B, 28, 28, 1) batch with a _blur_matrix."""
    import tensorflow as tf

    img = x[..., 0]
    img = tf.einsum("ij,bjk->bik", matrix, img)  # along columns
    img = tf.einsum("bik,lk->bil", img, matrix)  # along rows
    return img[..., None]


# ----------------------------------------------------------------------------------------------
# Public entry points


def snapshot_steps(steps: int, count: int) -> np.ndarray:
    """The steps shown by the snapshot frames: evenly spaced, first = start, last = end."""
    return np.round(np.linspace(0, steps, count)).astype(int)


def layer_oips(model, layer_name: str, cfg, pixel_range: tuple[float, float], seed: int,
               maps: Optional[Sequence[int]] = None, nodes: Optional[Sequence[tuple[int, int]]] = None,
               progress: Optional[Callable[[int, int], None]] = None,
               starts: Optional[np.ndarray] = None) -> dict[str, np.ndarray]:
    """OIPs of all (or the given) maps of a layer, every map from every start, as one batch.

    `starts` replaces the noise starts with given images (rows, 28, 28[, 1]) in standardized units,
    row = map * S + start, S = rows // maps (DeepDream starts from a picture, not from noise).

    Returns arrays shaped (M, S, ...) -- with `nodes` (a list of (i, j) positions), (M, N, S, ...):
    patterns, snapshots (K frames), curve (steps+1), final, failed, plus seconds, maps, nodes and
    snapshot_steps. curve[t] for t < steps is measured on the jittered input that step t+1 saw;
    curve[steps] is `final`: the strongest pattern found, measured without jitter every UNROLL steps
    (`patterns` and the last snapshot are that pattern).
    """
    import tensorflow as tf

    began = time.perf_counter()
    search = _search(model, layer_name, cfg.objective)
    height, width, channels = _output_shape(search.target)
    maps = _checked_maps(maps, channels, layer_name)
    node_list = _check_nodes(nodes, height, width, layer_name)
    n_starts, starts = _start_images(cfg, starts, maps, seed, pixel_range)
    rows = _rows(maps, node_list, n_starts, height, width)
    frames = snapshot_steps(int(cfg.steps), int(cfg.snapshots))
    n_rows = len(rows["start"])
    settings = _ascent_settings(cfg, seed, pixel_range)
    chunks = _chunks(n_rows)
    total, done = len(chunks) * int(cfg.steps), [0]

    def advanced(n: int) -> None:
        done[0] += n
        if progress is not None:
            progress(done[0], total)

    result: dict[str, np.ndarray] = {}
    for index in chunks:
        source = np.minimum(index, n_rows - 1)  # padding rows repeat the last row and are dropped
        chunk = _run_chunk(search, tf.constant(starts[rows["start"][source]]),
                           tf.constant(rows["map"][source], tf.int32), tf.constant(rows["spatial"][source]),
                           frames, settings, advanced)
        keep = index < n_rows
        for key, value in chunk.items():
            result.setdefault(key, np.zeros((n_rows,) + value.shape[1:], value.dtype))[index[keep]] = value[keep]
    lead = (len(maps), len(node_list), n_starts) if nodes is not None else (len(maps), n_starts)
    out = {key: value.reshape(lead + value.shape[1:]) for key, value in result.items()}
    out.update(maps=maps, snapshot_steps=frames, seconds=np.array(time.perf_counter() - began))
    if nodes is not None:
        out["nodes"] = np.asarray(node_list, dtype=int).reshape(-1, 2)
    return out


def _checked_maps(maps, channels: int, layer_name: str) -> np.ndarray:
    maps = np.arange(channels) if maps is None else np.asarray(maps, dtype=int).reshape(-1)
    if len(maps) and (maps.min() < 0 or maps.max() >= channels):
        raise ValueError(f"{layer_name}: map indices must lie in 0..{channels - 1}")
    return maps


def _start_images(cfg, starts, maps: np.ndarray, seed: int, pixel_range) -> tuple[int, np.ndarray]:
    """(starts per map, start images): noise at the configured scales, or the given images."""
    if starts is None:
        return len(cfg.noise_scales), _starts_for(cfg.noise_scales, maps, seed, pixel_range)
    starts = np.asarray(starts, np.float32).reshape(-1, SIDE, SIDE, 1)
    if len(maps) == 0 or len(starts) % len(maps):
        raise ValueError(f"{len(starts)} start images do not divide among {len(maps)} maps")
    return len(starts) // len(maps), starts


def _ascent_settings(cfg, seed: int, pixel_range) -> dict:
    """The compiled step's constant inputs (tensors, so changing a value does not retrace)."""
    import tensorflow as tf

    return dict(seed=tf.constant(int(seed), tf.int64), step_size=tf.constant(float(cfg.step_size)),
                jitter=tf.constant(int(cfg.jitter)), blur_every=tf.constant(int(cfg.blur_every)),
                blur_matrix=tf.constant(_blur_matrix(float(cfg.blur_sigma))),
                lo=tf.constant(float(pixel_range[0])), hi=tf.constant(float(pixel_range[1])))


def _run_chunk(search, x, row_maps, spatial, frames: np.ndarray, settings: dict,
               advanced: Callable[[int], None]) -> dict[str, np.ndarray]:
    """Ascend one batch from frame to frame, keeping snapshots, the curve and each row's best."""
    import tensorflow as tf

    failed = tf.zeros(x.shape[0], tf.bool)
    best = [x, search.measure(x, row_maps, spatial)]
    snaps, curves = [x.numpy()[..., 0]], []
    for a, b in zip(frames[:-1], frames[1:]):
        if b > a:
            x, failed, curve = search.advance(int(b - a), x, failed, int(a), best=best, maps=row_maps,
                                              spatial=spatial, **settings)
            curves.append(curve.numpy().T)
            advanced(int(b - a))
        snaps.append(x.numpy()[..., 0])
    snaps[-1] = best[0].numpy()[..., 0]  # the pattern shown last is the one kept
    final = best[1].numpy()
    return {"patterns": snaps[-1], "snapshots": np.stack(snaps, axis=1),
            "curve": np.concatenate(curves + [final[:, None]], axis=1), "final": final,
            "failed": failed.numpy()}


def _call_sizes(n_steps: int) -> list[int]:
    """Steps per compiled call: UNROLL at a time, then single steps for the rest."""
    full, rest = divmod(int(n_steps), UNROLL)
    return [UNROLL] * full + [1] * rest


def _checkpoints(frames: np.ndarray) -> set[int]:
    """Step counts after which the engine measures and keeps the best (the end of each call)."""
    points = set()
    for a, b in zip(frames[:-1], frames[1:]):
        for done in np.cumsum(_call_sizes(b - a)):
            points.add(int(a + done))
    return points


def _keep_best(best: list, x, failed, value) -> None:
    """Replace best = [patterns, values] row by row where `value` is as high and the row is sound."""
    import tensorflow as tf

    # Ties go to the later pattern, so a map that never wakes shows where its climb ended, not noise.
    better = tf.logical_and(tf.logical_not(failed), value >= best[1])
    best[0] = tf.where(better[:, None, None, None], x, best[0])
    best[1] = tf.where(better, value, best[1])


def _check_nodes(nodes, height: int, width: int, layer_name: str) -> list[tuple[int, int]]:
    """[(i, j), ...] of the requested nodes; one dummy entry when the whole map is the objective."""
    if nodes is None:
        return [(-1, -1)]
    node_list = [(int(i), int(j)) for i, j in nodes]
    for i, j in node_list:
        if not (0 <= i < height and 0 <= j < width):
            raise ValueError(f"{layer_name}: node ({i}, {j}) outside its {height}x{width} maps")
    return node_list


def _rows(maps, node_list, n_starts: int, height: int, width: int) -> dict:
    """Per row (map-major, then node, then start): its start image, map and spatial weights."""
    n_nodes = len(node_list)
    m_idx = np.repeat(np.arange(len(maps)), n_nodes * n_starts)
    node_idx = np.tile(np.repeat(np.arange(n_nodes), n_starts), len(maps))
    start_idx = np.tile(np.arange(n_starts), len(maps) * n_nodes)
    spatial = np.full((len(m_idx), height, width), 1.0 / (height * width), np.float32)
    if node_list[0] != (-1, -1):
        spatial[:] = 0.0
        ij = np.asarray(node_list)[node_idx]
        spatial[np.arange(len(m_idx)), ij[:, 0], ij[:, 1]] = 1.0
    return {"start": m_idx * n_starts + start_idx, "map": maps[m_idx], "spatial": spatial}


def _chunks(n_rows: int) -> list[np.ndarray]:
    """Row indices per batch: equal-sized batches of at most MAX_CHUNK rows, the last padded.

    Padding indices point past the end (>= n_rows) and are mapped onto the last row for computing.
    """
    if n_rows == 0:
        return []
    count = math.ceil(n_rows / MAX_CHUNK)
    size = math.ceil(n_rows / count)
    return [np.arange(k * size, (k + 1) * size) for k in range(count)]


def naive_oips(model, layer_name: str, cfg, pixel_range: tuple[float, float], seed: int,
               maps: Sequence[int], steps: int) -> dict[str, np.ndarray]:
    """The seed's slow method, for benchmarks: eager, one map and one start at a time.

    Same starts, jitter, blur, clipping, objective and best-keeping checkpoints as layer_oips, so
    `final` (M, S) and `patterns` (M, S, 28, 28) should agree with it up to float rounding.
    """
    import tensorflow as tf

    began = time.perf_counter()
    before, target = _chain(model, layer_name)
    relu = _is_relu(target)
    maps = np.asarray(maps, dtype=int).reshape(-1)
    n_starts = len(cfg.noise_scales)
    starts = _starts_for(cfg.noise_scales, maps, seed, pixel_range)
    blur_matrix = tf.constant(_blur_matrix(float(cfg.blur_sigma)))
    lo, hi = float(pixel_range[0]), float(pixel_range[1])

    def values(x, m):
        h = x
        for layer in before:
            h = layer(h)
        z = _stock_preactivation(target, h)
        a = tf.nn.relu(z[..., m]) if relu else target.activation(z)[..., m]
        climb = tf.reduce_mean(z[..., m]) if cfg.objective == "preact" else tf.reduce_max(z[..., m])
        return tf.reduce_mean(a), climb

    final = np.zeros((len(maps), n_starts), np.float32)
    patterns = np.zeros((len(maps), n_starts, SIDE, SIDE), np.float32)
    checkpoints = _checkpoints(snapshot_steps(steps, int(cfg.snapshots)))
    for a, m in enumerate(maps):
        for s in range(n_starts):
            x = tf.constant(starts[a * n_starts + s][None])
            best_x, best_v = x, float(values(x, int(m))[0])
            for t in range(steps):
                shift = tf.random.stateless_uniform([2], seed=tf.constant([int(seed), t], tf.int64),
                                                    minval=-int(cfg.jitter), maxval=int(cfg.jitter) + 1,
                                                    dtype=tf.int32)
                xs = tf.roll(x, shift, axis=[1, 2])
                with tf.GradientTape() as tape:
                    tape.watch(xs)
                    act, pre = values(xs, int(m))
                    objective = pre if cfg.objective == "preact" or (relu and act <= 0) else act
                grad = tape.gradient(objective, xs)
                grad = grad * tf.math.rsqrt(tf.reduce_mean(tf.square(grad)) + 1e-12)
                x = tf.roll(xs + float(cfg.step_size) * grad, -shift, axis=[1, 2])
                if _blur_now(t, int(cfg.blur_every)):
                    x = _blur(x, blur_matrix)
                x = tf.clip_by_value(x, lo, hi)
                if t + 1 in checkpoints and (v := float(values(x, int(m))[0])) >= best_v:
                    best_x, best_v = x, v
            final[a, s] = best_v
            patterns[a, s] = best_x.numpy()[0, ..., 0]
    return {"final": final, "patterns": patterns, "seconds": np.array(time.perf_counter() - began)}


def map_statistics(model, layer_name: str, x_test: np.ndarray, y_test: np.ndarray, top: int = 9,
                   batch_size: int = 500) -> dict[str, np.ndarray]:
    """How the test images drive each map, in the same units as the OIP objective.

    mean_act (N, M): each image's mean activation per map; max_point (M,): largest single value
    anywhere; best_test (M,); top_indices / top_values (M, top), descending; class_means (M, 10),
    NaN for a class without images; alive (M,): max_point > 0.
    """
    import tensorflow as tf

    search = _search(model, layer_name, "mean")
    activation = search.target.activation

    @tf.function(jit_compile=JIT_COMPILE)
    def activations(x):
        a = activation(search.forward(x))
        return tf.reduce_mean(a, axis=[1, 2]), tf.reduce_max(a, axis=[0, 1, 2])

    x_test = np.asarray(x_test, np.float32).reshape(-1, SIDE, SIDE, 1)
    y_test = np.asarray(y_test).reshape(-1)
    channels = _output_shape(search.target)[2]
    mean_act = np.zeros((len(x_test), channels), np.float32)
    max_point = np.full(channels, -np.inf, np.float32)
    for begin in range(0, len(x_test), batch_size):
        batch = x_test[begin:begin + batch_size]
        padded = np.concatenate([batch, np.repeat(batch[-1:], batch_size - len(batch), axis=0)])
        means, peaks = activations(tf.constant(padded))  # one fixed shape: traced once
        mean_act[begin:begin + len(batch)] = means.numpy()[: len(batch)]
        max_point = np.maximum(max_point, peaks.numpy())
    top = min(int(top), len(x_test))
    order = np.argsort(-mean_act, axis=0, kind="stable")[:top].T  # (M, top), ties by image index
    class_means = np.full((channels, 10), np.nan, np.float32)
    for label in range(10):
        if np.any(y_test == label):
            class_means[:, label] = mean_act[y_test == label].mean(axis=0)
    return {
        "mean_act": mean_act,
        "max_point": max_point,
        "best_test": mean_act.max(axis=0) if len(x_test) else np.zeros(channels, np.float32),
        "top_indices": order,
        "top_values": np.take_along_axis(mean_act.T, order, axis=1),
        "class_means": class_means,
        "alive": max_point > 0,
    }
