"""How the ascent's variable becomes an image (lucid's "parameterizations"), and random starts.

The render loop keeps a parameter per row and asks the parameterization for the image the model
sees. Pixel: the parameter is the image. A Fourier parameterization (Olah et al. 2017: the image
as scaled 2-D Fourier coefficients, which decorrelates pixels and steers the ascent away from
high-frequency noise) fits the same protocol: `init` takes images to coefficients (an inverse
FFT's inverse), `image` is a differentiable inverse FFT, and `pixel = False` tells the loop to
apply jitter as a view transform inside the tape rather than in the parameter's frame.
"""
from __future__ import annotations

import math
from typing import Protocol, Sequence

import numpy as np

# Starts: smooth noise around a dark-grey level, spread over the lower part of the pixel range.
# MNIST images are mostly black background, so a dark start keeps the search near that regime;
# the spread is large enough for every map to see some bright structure to respond to.
START_LEVEL = 0.25  # fraction of the pixel range (0 = black, 1 = white)
START_SPREAD = 0.15  # standard deviation, as a fraction of the pixel range


class Param(Protocol):
    pixel: bool  # whether the parameter is laid out like the image (frame transforms allowed)

    def signature(self) -> tuple: ...

    def init(self, images: np.ndarray) -> np.ndarray:
        """Start parameters for start images (B, H, W, C)."""

    def image(self, params):
        """The images (B, H, W, C) for parameters, differentiable (a tensor op)."""


class Pixel:
    pixel = True

    def signature(self) -> tuple:
        return ("pixel",)

    def init(self, images: np.ndarray) -> np.ndarray:
        return images

    def image(self, params):
        return params


PIXEL = Pixel()


def noise_starts(noise_scales: Sequence[int], ids: Sequence[int], seed: int,
                 pixel_range: tuple[float, float], side=28) -> np.ndarray:
    """One start per (id, scale), (len(ids)*S, H, W, C) float32, row = id*S + scale index:
    smooth noise whose image depends on (seed, id, scale index) alone, not on the other ids.
    `side` is a number (a square gray image) or the model's input shape (H, W, C); a colour start
    is the gray noise in every channel (the ascent finds the colours)."""
    if not isinstance(side, (int, np.integer)):
        height, width, channels = (int(v) for v in side)
        square = noise_starts(noise_scales, ids, seed, pixel_range, max(height, width))
        return np.ascontiguousarray(np.repeat(square[:, :height, :width], channels, axis=-1))
    lo, hi = (float(v) for v in pixel_range)
    scales = [int(s) for s in noise_scales]
    out = np.empty((len(ids), len(scales), side, side), np.float32)
    for k, scale in enumerate(scales):
        n = math.ceil(side / scale)
        coarse = np.stack([np.random.default_rng([int(seed), int(m), k]).standard_normal((n, n))
                           for m in ids]) if len(ids) else np.zeros((0, n, n))
        out[:, k] = _standardize_noise(_upscale(coarse.astype(np.float32), side))
    out = lo + (hi - lo) * (START_LEVEL + START_SPREAD * out)
    return np.clip(out, lo, hi).reshape(-1, side, side, 1).astype(np.float32)


def _upscale(coarse: np.ndarray, side: int) -> np.ndarray:
    """Smooth (bicubic) upscaling of (N, n, n) noise to (N, side, side)."""
    if coarse.shape[1] == side or len(coarse) == 0:
        return coarse
    import tensorflow as tf

    return tf.image.resize(coarse[..., None], (side, side), method="bicubic").numpy()[..., 0]


def _standardize_noise(noise: np.ndarray) -> np.ndarray:
    """Zero mean, unit spread per image, so every length scale starts with the same contrast."""
    centred = noise - noise.mean(axis=(1, 2), keepdims=True)
    return centred / (centred.std(axis=(1, 2), keepdims=True) + 1e-6)
