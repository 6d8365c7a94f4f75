"""What the decision analyses (ablation, influence, connections, separation) share on the pages: their
stage's result, whether their panels have pages to sit on, and the units they talk about — a map of a
map layer, or a node of a hidden dense layer — with the page and thumbnail each unit has in this build.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generator.pages import urls
from generator.pages.section import in_build
from generator.pages.numbers import signed

NODES = "nodes"  # the stage (and section) of the dense-node pages


class StageResult:
    """One stage's result as the page sections read it."""

    def __init__(self, name: str):
        self.name = name

    def art(self, build):
        return build.results.get(self.name)

    def enabled(self, build) -> bool:
        """The result is there and the layer gallery its panels sit on is part of the build."""
        return self.art(build) is not None and in_build(build, "layers") is not None

    def has(self, build, key: str) -> bool:
        art = self.art(build)
        return art is not None and key in art.arrays


def node_layers(build) -> list[str]:
    """The hidden dense layers whose nodes have pages in this build."""
    art = build.results.get(NODES)
    return list(art.meta["layers"]) if art is not None and in_build(build, NODES) is not None else []


def with_pages(build) -> list[str]:
    """Every layer whose units have pages: the map layers of the gallery, then the dense layers."""
    return list(build.cfg.oip.layers or ()) + node_layers(build)


def word(build, layer: str) -> str:
    """"node" for a dense layer, else "map"."""
    return "node" if layer in node_layers(build) or _is_dense(build, layer) else "map"


def _is_dense(build, layer: str) -> bool:
    kinds = (build.results.get("connections").meta.get("kinds", {}) if build.results.get("connections") else {})
    return kinds.get(layer) == "node"


def page(build, layer: str, i: int) -> str | None:
    """The unit's page, when this build writes it."""
    if layer in node_layers(build):
        return urls.node_page(layer, i)
    return urls.map_page(layer, i) if layer in (build.cfg.oip.layers or ()) and in_build(build, "layers") else None


def thumb(build, layer: str, i: int) -> str | None:
    """The unit's pattern thumbnail, when drawn."""
    if layer in node_layers(build):
        return urls.node_asset(layer, i, "thumb.png")
    return urls.map_asset(layer, i, "thumb.png") if page(build, layer, i) else None


def label(build, layer: str, i: int) -> str:
    return f"{layer} {word(build, layer)} {i}"


@dataclass
class Bar:
    """One signed bar of a table of bars (red right of the axis, blue left)."""
    label: str
    value: str
    width: float   # percent of the half-width
    positive: bool


def signed_bars(values, labels) -> list[Bar]:
    """Bars for signed values, scaled to the largest magnitude, each value written to 3 decimals."""
    values = np.asarray(values, np.float64)
    top = float(np.abs(values).max()) if values.size else 0.0
    top = top or 1.0
    return [Bar(labels[k], signed(v, 3), round(50 * abs(float(v)) / top, 1), bool(v >= 0))
            for k, v in enumerate(values)]
