"""The first convolutional layer's filters, drawn beside each map's input patterns.

A map of the first layer is one weighted sum of the pixels under its kernel (plus a bias, then a
ReLU), so its kernel *is* what it looks for; the OIP ascent can only rediscover it. The sum of the
weights says why some of these maps' best patterns are flat squares: a kernel whose weights add up
to a positive number answers most to a uniformly bright image, one with a negative sum to a dark one.

This module is the whole analysis: its stage (the weights, cached so a rebuild needs no TensorFlow),
its pictures and its panel on the map pages. It shows how an analysis is added (see the README).
"""
from __future__ import annotations


import numpy as np

from generator.registry import Stage
from generator.cache import Artifact

NAME = "kernels"
CMAP = "RdBu_r"  # diverging: red weights brighten the map's input sum, blue ones darken it
SCALE = 32       # a 3×3 kernel shown 96 px wide, each weight a crisp square


# ---- the stage ---------------------------------------------------------------------------------

def first_conv(model):
    """The first convolution that sees the image itself (its kernel lives in pixel space), or None."""
    import keras

    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D) and not isinstance(layer, keras.layers.DepthwiseConv2D):
            return layer
    return None




def _compute(build) -> Artifact:
    layer = first_conv(build.model)
    if layer is None:
        return Artifact("", {}, {"layer": None})
    kernel = np.asarray(layer.kernel.numpy(), np.float32)  # (kh, kw, channels in, maps)
    bias = np.asarray(layer.bias.numpy(), np.float32) if layer.use_bias else np.zeros(kernel.shape[-1], np.float32)
    return Artifact("", {"kernel": kernel, "bias": bias}, {"layer": layer.name})


# ---- pictures and the map-page panel -----------------------------------------------------------


STAGE = Stage(NAME, _compute)
