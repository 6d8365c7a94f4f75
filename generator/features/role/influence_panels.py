"""Class influence on the pages: a bar per class on a map's page, a heat map on a layer's page."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
import numpy as np
from generator import imaging
from generator.pages import urls
from generator.pages.model import Panel
from generator.features.role import page_units as units
from generator.pages.section import Section
from generator.features.role.influence import CMAP, NAME, UNITS
from generator.pages.numbers import signed


@dataclass
class MapInfluence:
    bars: list[units.Bar]
    reading: str
    unit: str = "map"  # or "node"


@dataclass
class LayerInfluence:
    image: str
    colorbar: str
    alt: str
    reading: str
    scale: int


RESULT = units.StageResult(NAME)
_art, enabled = RESULT.art, RESULT.enabled


def _has(build, layer: str) -> bool:
    return RESULT.has(build, layer) and layer in units.with_pages(build)


def _heat(layer: str) -> str:
    return f"layers/{urls.layer_slug(layer)}/img/influence.png"


def _bar(layer: str) -> str:
    return f"layers/{urls.layer_slug(layer)}/img/influence-colorbar.png"


def _bound(a: np.ndarray) -> float:
    return float(np.abs(a).max()) or 1.0


def draw(build, out: Path) -> None:
    art = _art(build)
    for layer in art.meta["layers"]:
        if not _has(build, layer):
            continue
        a = art.arrays[layer]
        top = _bound(a)
        imaging.save_array_png(out / _heat(layer), a, CMAP, -top, top)
        imaging.colorbar(out / _bar(layer), CMAP, -top, top, "logit units")


def map_panel(build, layer: str, m: int) -> list[Panel]:
    if not enabled(build) or not _has(build, layer):
        return []
    a = _art(build).arrays[layer]
    col, names = a[:, m], build.dataset.class_names
    word = units.word(build, layer)
    if not np.any(col):  # never active on a test image: gradient × activation is 0 for every class
        reading = (f"{word.capitalize()} {m} has no influence to show: its activation is 0 on every test image, "
                   "so gradient × activation is 0 for every class.")
        return [Panel("influence", f"Which classes this {word} pushes towards", "panels/influence.html",
                      MapInfluence([], reading, word))]
    bars = units.signed_bars(col, names)
    best, worst = int(np.argmax(col)), int(np.argmin(col))
    against = signed(col[worst], 3)
    reading = (f"{units.word(build, layer).capitalize()} {m} pushes most towards class {names[best]} ({signed(col[best], 3)} "
               f"logit units on average over its test images)"
               + (f" and most against {names[worst]} ({against})." if against.startswith("−") else "."))
    return [Panel("influence", f"Which classes this {units.word(build, layer)} pushes towards", "panels/influence.html", MapInfluence(bars, reading, units.word(build, layer)))]


def layer_panel(build, layer: str) -> list[Panel]:
    if not enabled(build) or not _has(build, layer):
        return []
    a = _art(build).arrays[layer]
    k, c = a.shape
    scale = max(1, min(12, 900 // c))
    unit = units.word(build, layer)
    reading = (f"Rows: the {k} classes; columns: the {c} {unit}s, in order. Each cell: the mean influence of the {unit} on "
               f"the class's own logit over that class's test images, in {UNITS.format(unit=unit)}; the colour range is ±{_bound(a):.3g}.")
    return [Panel("influence", f"Class × {unit} influence in {layer}", "panels/influence_layer.html",
                  LayerInfluence(_heat(layer), _bar(layer), f"{layer}: class by {unit} influence heat map", reading, scale))]


SECTION = Section(NAME, depends=lambda build: [_art(build).key, units.with_pages(build)], draw=draw,
                   enabled=enabled,
                  map_panels=map_panel, layer_panels=layer_panel, node_panels=map_panel, node_layer_panels=layer_panel)
