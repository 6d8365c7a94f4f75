"""Attribution methods for many images at once: which input pixels raise a class score.

Every method works on a whole list of images in a few compiled calls: the rows of all images (every
SmoothGrad sample, every integrated-gradients step, every occlusion patch) are stacked and run in
chunks of CHUNK rows of one fixed shape, so each tf.function is traced once. A score is a weighted
sum of the class logits per image (`weights` (N, K)): one-hot of the predicted class for the usual
attributions, one-hot(true) − one-hot(predicted) for the contrast of a mistake.

All attributions come back as (N, H, W) float32 in the score's units per pixel (channels summed).
"""
from __future__ import annotations

import numpy as np

from generator.model.batching import padded

CHUNK = 1024              # rows per compiled call
SMOOTH_SAMPLES = 16       # SmoothGrad: noisy copies per image
SMOOTH_NOISE = 0.15       # ... noise std as a share of the pixel range (Smilkov et al. suggest 10-20 %)
IG_STEPS = 20             # integrated gradients: midpoint Riemann sum over this many steps
OCCLUSION_PATCH, OCCLUSION_STRIDE = 4, 4  # non-overlapping squares: 49 on a 28×28 image
BLUR_SIGMA = 3.0          # the blurred baseline of integrated gradients (pixels)


class Scorer:
    """Compiled score gradients of one model: logits from the image, and Grad-CAM at a map layer."""

    def __init__(self, model, cam_layer: str | None):
        import tensorflow as tf

        from generator.model import score, taps

        self.logits = score.logits(model)
        self._grad = tf.function(self._gradient)
        self._forward = tf.function(lambda x: self.logits(x))
        self.cam_layer = cam_layer
        if cam_layer is not None:
            self._below_cam = taps.submodel(model, [cam_layer])
            self._after_cam = score.logits_after(model, cam_layer)
            self._cam = tf.function(self._gradcam)

    def _gradient(self, x, w):
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tape.watch(x)
            score = tf.reduce_sum(self.logits(x) * w)
        return tape.gradient(score, x)

    def _gradcam(self, x, w):
        import tensorflow as tf

        a = self._below_cam(x, training=False)
        with tf.GradientTape() as tape:
            tape.watch(a)
            score = tf.reduce_sum(self._after_cam(a) * w)
        alpha = tf.reduce_mean(tape.gradient(score, a), axis=[1, 2], keepdims=True)
        cam = tf.nn.relu(tf.reduce_sum(alpha * a, axis=-1, keepdims=True))
        return tf.image.resize(cam, x.shape[1:3], method="bilinear")[..., 0]

    def gradient(self, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        return chunked(self._grad, x, w)

    def scores(self, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        """(N,) weighted logit sums."""
        return (chunked(lambda v, _w: self._forward(v), x, w) * w).sum(axis=1)

    def gradcam(self, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        return chunked(self._cam, x, w)


def chunked(fn, x: np.ndarray, w: np.ndarray, size: int = CHUNK) -> np.ndarray:
    """fn(x_rows, w_rows) over all rows, CHUNK at a time, the last chunk padded to the same shape."""
    x, w = np.asarray(x, np.float32), np.asarray(w, np.float32)
    size = min(size, len(x))
    parts = []
    for begin in range(0, len(x), size):
        xs, ws = x[begin:begin + size], w[begin:begin + size]
        parts.append(np.asarray(fn(padded(xs, size), padded(ws, size)), np.float32)[: len(xs)])
    return np.concatenate(parts)


def _pixels(a: np.ndarray) -> np.ndarray:
    return a.sum(axis=-1) if a.ndim == 4 else a


def vanilla(s: Scorer, x, w) -> np.ndarray:
    return _pixels(s.gradient(x, w))


def smoothgrad(s: Scorer, x, w, pixel_range: tuple[float, float], seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    sigma = SMOOTH_NOISE * (pixel_range[1] - pixel_range[0])
    rows = np.repeat(x, SMOOTH_SAMPLES, axis=0)
    rows = rows + rng.normal(0.0, sigma, rows.shape).astype(np.float32)
    g = s.gradient(rows, np.repeat(w, SMOOTH_SAMPLES, axis=0))
    return _pixels(g.reshape((len(x), SMOOTH_SAMPLES) + x.shape[1:]).mean(axis=1))


def integrated(s: Scorer, x, w, baseline: np.ndarray, steps: int = IG_STEPS) -> np.ndarray:
    """(x − baseline) × the mean gradient on the straight path (midpoints): sums to about
    score(x) − score(baseline) (completeness)."""
    alphas = ((np.arange(steps) + 0.5) / steps).astype(np.float32)[None, :, None, None, None]
    path = baseline[:, None] + alphas * (x - baseline)[:, None]
    g = s.gradient(path.reshape((-1,) + x.shape[1:]), np.repeat(w, steps, axis=0))
    return _pixels(g.reshape((len(x), steps) + x.shape[1:]).mean(axis=1) * (x - baseline))


def occlusion(s: Scorer, x, w, fill: float) -> np.ndarray:
    """Score drop when a PATCH×PATCH square is set to `fill`, averaged over the squares covering a pixel."""
    n, h, wd = x.shape[:3]
    tops = range(0, h - OCCLUSION_PATCH + 1, OCCLUSION_STRIDE)
    lefts = range(0, wd - OCCLUSION_PATCH + 1, OCCLUSION_STRIDE)
    boxes = [(t, l) for t in tops for l in lefts]
    masks = np.zeros((len(boxes), h, wd), bool)
    for k, (t, l) in enumerate(boxes):
        masks[k, t:t + OCCLUSION_PATCH, l:l + OCCLUSION_PATCH] = True
    rows = np.where(masks[None, :, :, :, None], np.float32(fill), x[:, None]).reshape((-1,) + x.shape[1:])
    drop = s.scores(x, w)[:, None] - s.scores(rows, np.repeat(w, len(boxes), axis=0)).reshape(n, len(boxes))
    cover = masks.sum(axis=0)
    return (np.tensordot(drop, masks.astype(np.float32), axes=1) / np.maximum(cover, 1)).astype(np.float32)


def blurred(x: np.ndarray, sigma: float = BLUR_SIGMA) -> np.ndarray:
    """Each image blurred with a Gaussian (separable, edges reflected): the blurred baseline."""
    radius = int(3 * sigma)
    k = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    k /= k.sum()
    pad = np.pad(x, ((0, 0), (radius, radius), (radius, radius), (0, 0)), mode="reflect")
    rows = sum(k[i] * pad[:, i:i + x.shape[1]] for i in range(len(k)))
    return sum(k[i] * rows[:, :, i:i + x.shape[2]] for i in range(len(k))).astype(np.float32)
