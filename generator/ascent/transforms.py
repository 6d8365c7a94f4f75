"""What happens to the image around each ascent step: jitter, scale, blur, clipping.

Every transform is stateless: its output is a function of its input, its constants, the seed
and the step number alone (random choices come from stateless generators seeded by (seed, step)),
never of the batch layout or of earlier calls. Constants are tensors handed to the compiled loop,
so changing a value (the jitter's size, the clipping range) does not retrace it.

Where a transform acts (`stage`):
  frame  the step is taken in the transformed frame and the transform undone after it; exact for
         a permutation such as a roll (the pixel parameterization only)
  view   applied inside the gradient tape, so the gradient flows through it (lucid-style)
  after  applied to the image after each step (a projection: blur, clipping)
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np


class Transform:
    stage = "after"

    def constants(self, shape: tuple) -> dict:
        """Tensors for images of `shape` (H, W, C)."""
        return {}

    def apply(self, x, consts: dict, seed, step):
        raise NotImplementedError

    def invert(self, x, consts: dict, seed, step):
        raise NotImplementedError(f"{type(self).__name__} cannot be undone")

    def signature(self) -> tuple:
        return (type(self).__name__, self.stage)


class Jitter(Transform):
    """Roll every image by the same random shift of up to `pixels` per axis, drawn per step."""

    stage = "frame"

    def __init__(self, pixels: int):
        self.pixels = int(pixels)

    def constants(self, shape: tuple) -> dict:
        import tensorflow as tf

        return {"pixels": tf.constant(self.pixels)}

    def shift(self, consts: dict, seed, step):
        import tensorflow as tf

        # One shift per step for all rows: depends on (seed, step) only, not on the batch.
        return tf.random.stateless_uniform([2], seed=tf.stack([seed, tf.cast(step, tf.int64)]),
                                           minval=-consts["pixels"], maxval=consts["pixels"] + 1,
                                           dtype=tf.int32)

    def apply(self, x, consts, seed, step):
        import tensorflow as tf

        return tf.roll(x, self.shift(consts, seed, step), axis=[1, 2])

    def invert(self, x, consts, seed, step):
        import tensorflow as tf

        return tf.roll(x, -self.shift(consts, seed, step), axis=[1, 2])


class Scale(Transform):
    """Zoom every image by one of `factors`, drawn per step, cropped or padded back to its size."""

    stage = "view"

    def __init__(self, factors: Sequence[float]):
        self.factors = [float(f) for f in factors]

    def constants(self, shape: tuple) -> dict:
        import tensorflow as tf

        return {"factors": tf.constant(self.factors, tf.float32)}

    def apply(self, x, consts, seed, step):
        import tensorflow as tf

        pick = tf.random.stateless_uniform([], seed=tf.stack([seed, tf.cast(step, tf.int64) + (1 << 32)]),
                                           maxval=len(self.factors), dtype=tf.int32)
        height, width = x.shape[1], x.shape[2]
        factor = tf.gather(consts["factors"], pick)
        size = tf.cast(tf.round(factor * tf.constant([height, width], tf.float32)), tf.int32)
        return tf.image.resize_with_crop_or_pad(tf.image.resize(x, size, method="bilinear"), height, width)


class Blur(Transform):
    """Gaussian blur once every `every` steps (mid-cycle), mirrored at the borders."""

    def __init__(self, sigma: float, every: int):
        self.sigma, self.every = float(sigma), int(every)

    def constants(self, shape: tuple) -> dict:
        import tensorflow as tf

        return {"rows": tf.constant(blur_matrix(self.sigma, shape[0])),
                "cols": tf.constant(blur_matrix(self.sigma, shape[1])), "every": tf.constant(self.every)}

    def apply(self, x, consts, seed, step):
        import tensorflow as tf

        # Blurring every step and keeping it once per cycle is cheaper than control flow.
        return tf.where(blur_now(step, consts["every"]), blur(x, consts["rows"], consts["cols"]), x)


class Clip(Transform):
    """Keep every pixel within [lo, hi] (the pixel range in standardized units)."""

    def __init__(self, lo: float, hi: float):
        self.lo, self.hi = float(lo), float(hi)

    def constants(self, shape: tuple) -> dict:
        import tensorflow as tf

        return {"lo": tf.constant(self.lo), "hi": tf.constant(self.hi)}

    def apply(self, x, consts, seed, step):
        import tensorflow as tf

        return tf.clip_by_value(x, consts["lo"], consts["hi"])

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """The same on a numpy array (the layer dream's float64 steps)."""
        return np.clip(x, self.lo, self.hi)


class TileShift:
    """The layer dream's random tile offsets, one (dy, dx) per step with 0 <= d < bounds[step].

    Drawn up front from one generator seeded by `seed`, in step order, so a step's offset is a
    function of (seed, step) and the bound schedule, whatever is asked before it.
    """

    def __init__(self, seed: int, bounds: Sequence[int]):
        rng = np.random.default_rng(seed)
        self.offsets = [tuple(int(v) for v in rng.integers(0, int(b), size=2)) for b in bounds]

    def __call__(self, step: int) -> tuple[int, int]:
        return self.offsets[step]


def from_config(cfg, pixel_range: tuple[float, float]) -> list[Transform]:
    """The OIP settings' jitter, blur and clipping, in the order the loop applies them."""
    return [Jitter(cfg.jitter), Blur(cfg.blur_sigma, cfg.blur_every), Clip(*pixel_range)]


def blur_matrix(sigma: float, side: int) -> np.ndarray:
    """(side, side) matrix G with G @ img @ G.T = gaussian blur of img, mirrored at the borders.

    Two tiny matmuls are much cheaper than a 5x5 convolution of a one-channel image in oneDNN.
    """
    if sigma <= 0:
        return np.eye(side, dtype=np.float32)
    radius = min(side - 1, max(1, math.ceil(2.5 * sigma)))
    taps = np.exp(-np.arange(-radius, radius + 1) ** 2 / (2 * sigma * sigma))
    taps /= taps.sum()
    matrix = np.zeros((side, side))
    for i in range(side):
        for k, weight in enumerate(taps):
            j = abs(i + k - radius)  # mirror at the top/left border (like numpy's "reflect")
            j = 2 * (side - 1) - j if j > side - 1 else j  # and at the bottom/right border
            matrix[i, j] += weight
    return matrix.astype(np.float32)


def blur_now(step, every):
    """Whether the step blurs: once per `every` steps, mid-cycle, so that a run ends with a few
    ascent steps rather than a blur that would dull the final pattern's measured activation."""
    return (step + 1) % every == every // 2


def blur(x, rows, cols):
    """Blur a (B, H, W, C) batch with blur_matrix()es for its height and width."""
    import tensorflow as tf

    if x.shape[-1] != 1:
        return tf.einsum("bikc,lk->bilc", tf.einsum("ij,bjkc->bikc", rows, x), cols)
    img = x[..., 0]
    img = tf.einsum("ij,bjk->bik", rows, img)  # along columns
    img = tf.einsum("bik,lk->bil", img, cols)  # along rows
    return img[..., None]
