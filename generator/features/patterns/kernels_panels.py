"""The first layer's filter weights beside each map's input patterns."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from generator import imaging
from generator.features.patterns.kernels import CMAP, NAME
from generator.pages import urls
from generator.pages.model import Panel, Topic
from generator.pages.section import Section, in_build
from generator.pages.numbers import signed


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
    imaging.colorbar(out / _colorbar(layer), CMAP, -top, top, "weight (per unit of the layer's input)")


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
                      [[signed(w, 3) for w in row] for row in kernel], signed(bias, 3), signed(total, 3),
                      _reading(total, bound(art.arrays["kernel"])), f"{layer} map {m}: its {side} kernel, "
                      f"red positive and blue negative weights")
    return [Panel("kernel", f"The filter: its {side} kernel", "panels/kernels.html", view)]



# ---- what the guide says about this feature, and the terms that link there ----

def _kernel_topic() -> Topic:
    return Topic("kernels", "Kernels", [
        "A map of the first convolutional layer is one weighted sum of the pixels under its small kernel, plus a "
        "bias, then a ReLU. Its map page shows the kernel's weights in numbers and in colour. When the weights "
        "add up to a clearly positive (negative) number, a uniformly bright (dark) image drives the map, which is "
        "why some first-layer patterns are flat squares.",
    ])


def guide_topics(build) -> list:
    return [_kernel_topic()]


SECTION = Section(NAME, depends=lambda build: [_art(build).key], draw=draw, 
                  enabled=enabled, map_top_panels=map_panel, guide_topics=guide_topics)
