"""The first convolutional layer's filters, drawn beside each map's input patterns.

A map of the first layer is one weighted sum of the pixels under its kernel (plus a bias, then a
ReLU), so its kernel *is* what it looks for; the OIP ascent can only rediscover it. The sum of the
weights says why some of these maps' best patterns are flat squares: a kernel whose weights add up
to a positive number answers most to a uniformly bright image, one with a negative sum to a dark one.

This module is the whole analysis: its stage (the weights, cached so a rebuild needs no TensorFlow),
its pictures and its panel on the map pages. It shows how an analysis is added (see the README).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import imaging
from ..cache import Artifact, code_version
from ..pages import urls
from ..pages.model import Panel
from ..pages.section import Section, in_build
from ..registry import Analysis

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


def run(build) -> Artifact:
    return build.stage(NAME, code_version(__name__), {}, lambda: _compute(build))


def _compute(build) -> Artifact:
    layer = first_conv(build.model)
    if layer is None:
        return Artifact("", {}, {"layer": None})
    kernel = np.asarray(layer.kernel.numpy(), np.float32)  # (kh, kw, channels in, maps)
    bias = np.asarray(layer.bias.numpy(), np.float32) if layer.use_bias else np.zeros(kernel.shape[-1], np.float32)
    return Artifact("", {"kernel": kernel, "bias": bias}, {"layer": layer.name})


# ---- pictures and the map-page panel -----------------------------------------------------------

@dataclass
class KernelView:
    image: str
    colorbar: str
    weights: list[list[str]]  # rows of the kernel (first input channel), formatted
    bias: str
    total: str
    reading: str
    alt: str


def _art(build):
    return build.results.get(NAME)


def _layer(build) -> str | None:
    art = _art(build)
    return art.meta["layer"] if art is not None else None


def enabled(build) -> bool:
    layer = _layer(build)
    return layer is not None and layer in build.cfg.oip.layers and in_build(build, "layers") is not None


def _asset(layer: str, m: int) -> str:
    return urls.map_asset(layer, m, "kernel.png")


def _colorbar(layer: str) -> str:
    return f"layers/{urls.layer_slug(layer)}/img/kernel-colorbar.png"


def bound(kernel: np.ndarray) -> float:
    """One symmetric colour range for the whole layer, so equal colours mean equal weights."""
    return float(np.abs(kernel).max()) or 1.0


def draw(build, out: Path) -> None:
    art, layer = _art(build), _layer(build)
    kernel = art.arrays["kernel"]
    top = bound(kernel)
    for m in range(kernel.shape[-1]):
        imaging.save_array_png(out / _asset(layer, m), kernel[:, :, 0, m], CMAP, -top, top)
    imaging.colorbar(out / _colorbar(layer), CMAP, -top, top, "weight (per standardized pixel)")


def _reading(total: float, top: float) -> str:
    if abs(total) < 0.25 * top:
        return ("The weights nearly cancel: a uniform image gives this map little, an edge or a stroke "
                "across the kernel gives it most.")
    side = "brightest" if total > 0 else "darkest"
    return (f"The weights add up to {total:+.3g}: of all uniform images the {side} drives this map most, so "
            f"its input pattern can end up a flat square rather than a shape.")


def map_panel(build, layer: str, m: int) -> list[Panel]:
    if layer != _layer(build):
        return []
    art = _art(build)
    kernel, bias = art.arrays["kernel"][:, :, 0, m], float(art.arrays["bias"][m])
    total = float(kernel.sum())
    side = f"{kernel.shape[0]}×{kernel.shape[1]}"
    view = KernelView(_asset(layer, m), _colorbar(layer),
                      [[f"{w:+.3f}" for w in row] for row in kernel], f"{bias:+.3f}", f"{total:+.3f}",
                      _reading(total, bound(art.arrays["kernel"])), f"{layer} map {m}: its {side} kernel, "
                      f"red positive and blue negative weights")
    return [Panel("kernel", f"The filter: its {side} kernel", "panels/kernels.html", view)]


SECTION = Section(NAME, depends=lambda build: [_art(build).key], draw=draw, pages=lambda build: [],
                  enabled=enabled, panels={"map-top": map_panel})
ANALYSIS = Analysis(NAME, run=run, section=__name__)
