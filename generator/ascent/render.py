"""The render loop: gradient ascent of an objective on a batch of images, many rows at once.

One compiled TensorFlow loop advances all rows of a batch together, so a whole layer's maps cost
about as much as a few large forward/backward passes instead of thousands of tiny eager ones.
Rows interact only through objectives that say so (a diversity term); every random choice comes
from the seed and the step, never from the batch layout, so a row rendered alone gives the same
image as among others. Per step: frame transforms (jitter), the gradient of the objective's climb
through view transforms, a step of `step_size` (RMS per pixel) per row, the frame undone, then
the `after` transforms (blur, clipping); a row that turns NaN or infinite is frozen and marked
failed. Every compiled call ends with measuring each row without transforms and keeping its best
image so far.
"""
from __future__ import annotations

import math
from functools import partial
from typing import Optional, Sequence

import numpy as np

from ..model import taps
from .callbacks import Callback, Plan
from .param import PIXEL
from .views import FastTap

# Rows per compiled batch. 64..512 rows were measured equally fast per row; 256 keeps the biggest
# tensors (the first layer's activations, ~22 MB per batch) and the number of traces small.
MAX_CHUNK = 256
# ... and at most this many bytes of activations per batch for a bigger model: the chunk of rows
# follows the memory a row needs (the seed's rows, ~87 KB each, still make chunks of MAX_CHUNK).
CHUNK_BYTES = 24 * 2**20
# Steps per compiled call: long enough to make Python's per-call overhead negligible.
UNROLL = 8
# jit_compile=True (XLA) was measured 5-10x slower per step than TensorFlow's oneDNN kernels for
# these small convolutions on this CPU, besides compiling for much longer.
JIT_COMPILE = False

def render(model, objective, starts: np.ndarray, steps: int, step_size: float, seed: int,
           transforms: Sequence = (), param=PIXEL, callbacks: Sequence[Callback] = (),
           tap=None) -> dict[str, np.ndarray]:
    """Ascend `objective` from start images (N, H, W, C), row by row.

    Returns images (N, H, W, C): each row's best image (measured at the end of every compiled call
    without transforms; ties go to the later one), values (N,) their objective values, failed (N,).
    """
    tap = tap or FastTap(model)
    starts = np.asarray(starts, np.float32)
    n_rows, steps = len(starts), int(steps)
    _check(objective, transforms, param, n_rows)
    loop = _loop(model, tap, objective, transforms, param)
    stops = sorted({0, steps} | {int(s) for cb in callbacks for s in cb.stops(steps)})
    constants = tuple(t.constants(starts.shape[1:]) for t in transforms)
    run = partial(loop.run, stops=stops, callbacks=callbacks, constants=constants,
                  seed=_tf_constant(int(seed), "int64"), step_size=_tf_constant(float(step_size)))
    inputs = objective.inputs()
    chunks = batches(n_rows, objective.multiple, chunk_rows(model, objective.layers()))
    plan = Plan(n_rows, steps, len(chunks))
    out: dict[str, np.ndarray] = {}
    for index in chunks:
        source = np.minimum(index, n_rows - 1)  # padding rows repeat the last row and are dropped
        rows = index[index < n_rows]
        chunk = run(param.init(starts[source]), _rows_of(inputs, source), rows, plan)
        for key, value in chunk.items():
            out.setdefault(key, np.zeros((n_rows,) + value.shape[1:], value.dtype))[rows] = value[: len(rows)]
    return out or {"images": starts.copy(), "values": np.zeros(0, np.float32), "failed": np.zeros(0, bool)}


def _check(objective, transforms, param, n_rows: int) -> None:
    if n_rows % objective.multiple:
        raise ValueError(f"{n_rows} rows do not make whole groups of {objective.multiple}")
    if not param.pixel and any(t.stage == "frame" for t in transforms):
        raise ValueError("frame transforms (jitter) need the pixel parameterization; "
                         "use them as view transforms with this one")


def _tf_constant(value, dtype: Optional[str] = None):
    import tensorflow as tf

    return tf.constant(value, dtype)


def _rows_of(inputs, source: np.ndarray):
    import tensorflow as tf

    return tf.nest.map_structure(lambda a: tf.constant(np.asarray(a)[source]), inputs)


def chunk_rows(model, targets: Sequence[str]) -> int:
    """Rows per batch for an objective on `targets`: CHUNK_BYTES over the float32 activations of one
    row in the largest layer up to the deepest target (and the input), at most MAX_CHUNK."""
    infos = taps.layers(model)
    names = [info.name for info in infos]
    last = max((names.index(t) for t in targets if t in names), default=len(infos) - 1)
    sizes = [math.prod(taps.input_shape(model))] + [math.prod(info.shape) for info in infos[:last + 1]]
    return int(max(1, min(MAX_CHUNK, CHUNK_BYTES // (4 * max(sizes)))))


def batches(n_rows: int, multiple: int = 1, max_rows: int = MAX_CHUNK) -> list[np.ndarray]:
    """Row indices per batch: equal-sized batches of at most max_rows rows (a multiple of
    `multiple`, so groups stay whole), the last padded with indices past the end (>= n_rows)."""
    if n_rows == 0:
        return []
    count = math.ceil(n_rows / max(max_rows // multiple * multiple, multiple))
    size = math.ceil(math.ceil(n_rows / count) / multiple) * multiple
    return [np.arange(k * size, (k + 1) * size) for k in range(count)]


def call_sizes(n_steps: int) -> list[int]:
    """Steps per compiled call: UNROLL at a time, then single steps for the rest."""
    full, rest = divmod(int(n_steps), UNROLL)
    return [UNROLL] * full + [1] * rest


def checkpoints(stops: Sequence[int]) -> set[int]:
    """Step counts after which the loop measures and keeps the best (the end of each call); the naive
    loop of `make bench` keeps its best at the same steps, so the two agree."""
    stops = sorted(set(int(s) for s in stops))
    points = set()
    for a, b in zip(stops[:-1], stops[1:]):
        for done in np.cumsum(call_sizes(b - a)):
            points.add(int(a + done))
    return points


def values(model, objective, images: np.ndarray, tap=None) -> tuple[np.ndarray, np.ndarray]:
    """(value, climb) per row of the objective on images (N, H, W, C), no transforms, one batch."""
    import tensorflow as tf

    tap = tap or FastTap(model)
    inputs = tf.nest.map_structure(tf.constant, objective.inputs())
    value, climb = objective.values(tap.view(tf.constant(np.asarray(images, np.float32))),
                                    objective.setup(tap, inputs))
    return value.numpy(), climb.numpy()


def gradient(tap, objective):
    """A compiled (x) -> (gradient of the summed climb, summed climb) for images of any size,
    e.g. a layer dream's tiles, which the dream steps itself. For objectives without per-row
    inputs (any number of rows)."""
    import tensorflow as tf

    inputs = objective.inputs()

    @tf.function(reduce_retracing=True)
    def run(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            _, climb = objective.values(tap.view(x), objective.setup(tap, inputs))
            total = tf.reduce_sum(climb)
        return tape.gradient(total, x), total

    return run


# ---- the compiled loop -------------------------------------------------------------------------------

def _loop(model, tap, objective, transforms, param) -> "_Loop":
    """The compiled loop for this model and structure, traced once and kept while the model lives."""
    key = (tap.signature(), objective.signature(), tuple(t.signature() for t in transforms), param.signature())
    return taps.cached(model, ("render",) + key, lambda: _Loop(tap, objective, transforms, param))


class _Loop:
    """Compiled steps and measurement for one structure; per-row arrays and constants are inputs,
    so another objective or transform of the same signature reuses the traces."""

    def __init__(self, tap, objective, transforms, param):
        import tensorflow as tf

        self.tap, self.objective, self.param = tap, objective, param
        self.transforms = list(transforms)
        self._compiled: dict = {}
        self.measure = tf.function(self._measure, jit_compile=JIT_COMPILE)

    def _of(self, stage: str, consts):
        return [(t, c) for t, c in zip(self.transforms, consts) if t.stage == stage]

    def _measure(self, p, inputs):
        view = self.tap.view(self.param.image(p))
        return self.objective.values(view, self.objective.setup(self.tap, inputs))[0]

    def _step(self, p, prepared, consts, seed, t, step_size):
        import tensorflow as tf

        frames = self._of("frame", consts)
        for transform, c in frames:
            p = transform.apply(p, c, seed, t)
        with tf.GradientTape() as tape:
            tape.watch(p)
            x = self.param.image(p)
            for transform, c in self._of("view", consts):
                x = transform.apply(x, c, seed, t)
            value, climb = self.objective.values(self.tap.view(x), prepared)
            total = tf.reduce_sum(climb)
        grad = tape.gradient(total, p)
        # Per-row normalisation: every row moves by step_size (RMS per pixel), whatever its scale.
        grad = grad * tf.math.rsqrt(tf.reduce_mean(tf.square(grad), axis=[1, 2, 3], keepdims=True) + 1e-12)
        p = p + step_size * grad
        for transform, c in reversed(frames):
            p = transform.invert(p, c, seed, t)
        return p, value

    def _advance(self, unroll, p, failed, first_step, inputs, consts, seed, step_size):
        """`unroll` ascent steps on all rows; returns (p, failed, values (unroll, B)).

        The steps are unrolled in Python rather than run in a tf.while_loop: inside a while loop
        oneDNN's graph rewrite picks the fast MaxPoolGrad only about half the time (10x slower
        otherwise); in a flat graph it always does.
        """
        import tensorflow as tf

        prepared = self.objective.setup(self.tap, inputs)
        curve = []
        for k in range(unroll):
            t = first_step + k
            new, value = self._step(p, prepared, consts, seed, t, step_size)
            for transform, c in self._of("after", consts):
                new = transform.apply(new, c, seed, t)
            ok = tf.logical_and(tf.reduce_all(tf.math.is_finite(new), axis=[1, 2, 3]), tf.math.is_finite(value))
            failed = tf.logical_or(failed, tf.logical_not(ok))
            p = tf.where(failed[:, None, None, None], p, new)  # a failed row stays frozen
            curve.append(value)
        return p, failed, tf.stack(curve)

    def compiled(self, unroll: int):
        import tensorflow as tf

        if unroll not in self._compiled:
            self._compiled[unroll] = tf.function(partial(self._advance, unroll), jit_compile=JIT_COMPILE)
        return self._compiled[unroll]

    def run(self, p, inputs, rows, plan, stops, callbacks, constants, seed, step_size) -> dict:
        """One batch from stop to stop, in calls of UNROLL steps and then single steps (two traces
        per shape). Each call's result is measured without jitter and kept where it beats the
        best so far: a barely alive map can flicker on and off under jitter and blur, and the
        last step need not be the strongest pattern the ascent found."""
        import tensorflow as tf

        p = tf.constant(p)
        failed = tf.zeros(p.shape[0], tf.bool)
        best = [p, self.measure(p, inputs)]
        for cb in callbacks:
            cb.on_begin(rows, self._images(p), best[1], plan)
        done = 0
        for a, b in zip(stops[:-1], stops[1:]):
            for unroll in call_sizes(b - a):
                p, failed, values = self.compiled(unroll)(p, failed, first_step=tf.constant(done), inputs=inputs,
                                                          consts=constants, seed=seed, step_size=step_size)
                _keep_best(best, p, failed, self.measure(p, inputs))
                done += unroll
                for cb in callbacks:
                    cb.on_step(rows, done, self._images(p), values)
        images = self._images(best[0])
        for cb in callbacks:
            cb.on_end(rows, images, best[1], failed)
        return {"images": np.asarray(images), "values": best[1].numpy(), "failed": failed.numpy()}

    def _images(self, p):
        return p if self.param.pixel else self.param.image(p)


def _keep_best(best: list, x, failed, value) -> None:
    """Replace best = [images, values] row by row where `value` is as high and the row is sound."""
    import tensorflow as tf

    # Ties go to the later image, so a map that never wakes shows where its climb ended, not noise.
    better = tf.logical_and(tf.logical_not(failed), value >= best[1])
    best[0] = tf.where(better[:, None, None, None], x, best[0])
    best[1] = tf.where(better, value, best[1])
