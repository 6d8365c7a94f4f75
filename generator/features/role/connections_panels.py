"""Connections on the pages: the strongest weights into and out of a map or node."""
from __future__ import annotations

from dataclasses import dataclass
import numpy as np
from generator.pages.colour_keys import pattern_key
from generator.pages.model import Panel
from generator.features.role import page_units as units
from generator.pages.section import Section
from generator.features.role.connections import NAME, TOP
from generator.features.evidence.firing import stage_name as firing_stage


@dataclass
class Edge:
    label: str
    url: str | None
    thumb: str | None
    strength: str
    sign: str


@dataclass
class Wiring:
    inputs: list[Edge]
    outputs: list[Edge]
    into: str
    out_of: str


RESULT = units.StageResult(NAME)
_art, enabled = RESULT.art, RESULT.enabled


def _edges(build, layer: str, size: np.ndarray, total: np.ndarray) -> list[Edge]:
    out = []
    for i in np.argsort(-size, kind="stable")[:TOP]:
        i = int(i)
        out.append(Edge(units.label(build, layer, i), units.page(build, layer, i), units.thumb(build, layer, i),
                        f"{size[i]:.3f}", "excites" if total[i] >= 0 else "inhibits"))
    return out


def strongest(build, layer: str, m: int) -> tuple[list[Edge], list[Edge]]:
    """The strongest connections into unit m of `layer` and out of it (the next weighted layer's units)."""
    art = _art(build)
    pairs = {b: a for a, b in art.meta["pairs"]}
    feeds = {a: b for a, b in art.meta["pairs"]}
    inputs = outputs = []
    if layer in pairs:
        inputs = _edges(build, pairs[layer], art.arrays[f"{layer}.abs"][:, m], art.arrays[f"{layer}.sum"][:, m])
    if layer in feeds and feeds[layer] != art.meta["pairs"][-1][1]:  # into the classes: the node page's bars
        nxt = feeds[layer]
        outputs = _edges(build, nxt, art.arrays[f"{nxt}.abs"][m], art.arrays[f"{nxt}.sum"][m])
    return inputs, outputs


def map_panel(build, layer: str, m: int) -> list[Panel]:
    if not enabled(build):
        return []
    firing = build.results.get(firing_stage(layer))
    if firing is not None and int(firing.arrays["fire_mean"][m]) == 0:
        # Weights into and out of a map that is 0 on every test image carry nothing on this data.
        return [Panel("connections", "Connections", "panels/note.html",
                      f"No connections are listed: no test image fires map {m}, so on this data nothing flows "
                      f"through its weights to the next layer.")]
    inputs, outputs = strongest(build, layer, m)
    if not inputs and not outputs:
        return []
    unit = units.word(build, layer)
    data = Wiring(inputs, outputs, f"The strongest inputs into {unit} {m}", f"What {unit} {m} feeds most")
    return [Panel("connections", "Connections: the strongest weights in and out", "panels/connections.html", data,
                  colours=pattern_key(build))]


SECTION = Section(NAME, depends=lambda build: [_art(build).key], 
                   enabled=enabled, map_panels=map_panel, node_panels=map_panel)
