"""Connections: the strongest weights into and out of each map, in the spirit of the Circuits weight
explorer. Weights, not guesses: for a map m and a map i of the layer before it, the summed absolute
kernel weights from i to m (the size of the connection) and their plain sum (its sign: does i excite
or inhibit m). A convolution's outputs feed the next weighted layer (through pooling, which keeps the
channels); the last one's feeds dense nodes through the flatten.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..cache import Artifact, code_version
from ..pages.colour_keys import pattern_key
from ..pages.model import Panel
from ..pages import units
from ..pages.section import Section
from ..registry import Analysis

NAME = "connections"
TOP = 6


def run(build) -> Artifact:
    return build.stage(NAME, code_version(__name__), {}, lambda: _compute(build))


def _conv(k: np.ndarray) -> np.ndarray:
    """(inputs, outputs, weights per connection) of a Conv2D kernel (kh, kw, in, out)."""
    return np.moveaxis(k.reshape(-1, k.shape[2], k.shape[3]), 0, -1)


def _dense(k: np.ndarray, shape: tuple) -> np.ndarray:
    """The same for a Dense fed by a Flatten of (h, w, C): row r belongs to channel r % C."""
    channels = shape[-1]
    rows = k.reshape(-1, channels, k.shape[1])  # (h*w, C, units)
    return np.moveaxis(rows, 0, -1)             # (C, units, h*w)


def _compute(build) -> Artifact:
    from ..model import taps

    model = build.model
    chain = taps.chain(model)
    if chain is None:
        return Artifact("", {}, {"pairs": []})
    weighted = [lay for lay in chain if lay.__class__.__name__ in ("Conv2D", "Dense")]
    arrays, pairs = {}, []
    for before, lay in zip(weighted, weighted[1:]):
        k = np.asarray(lay.kernel.numpy(), np.float32)
        w = _conv(k) if k.ndim == 4 else _dense(k, _source_shape(chain, before))
        arrays[f"{lay.name}.abs"] = np.abs(w).sum(axis=-1)
        arrays[f"{lay.name}.sum"] = w.sum(axis=-1)
        pairs.append([before.name, lay.name])
    kinds = {info.name: info.kind for info in taps.layers(model)}
    return Artifact("", arrays, {"pairs": pairs, "kinds": kinds})


def _source_shape(chain, before) -> tuple:
    """The shape just before the flatten that follows `before` (pooling may have shrunk it)."""
    names = [lay.name for lay in chain]
    shape = tuple(int(s) for s in before.output.shape[1:])
    for lay in chain[names.index(before.name) + 1:]:
        if lay.__class__.__name__ == "Flatten":
            return tuple(int(s) for s in lay.input.shape[1:])
        if lay.__class__.__name__ == "Dense":
            return shape
    return shape


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
    inputs, outputs = strongest(build, layer, m)
    if not inputs and not outputs:
        return []
    unit = units.word(build, layer)
    data = Wiring(inputs, outputs, f"The strongest inputs into {unit} {m}", f"What {unit} {m} feeds most")
    return [Panel("connections", "Connections: the strongest weights in and out", "panels/connections.html", data,
                  colours=pattern_key(build))]


SECTION = Section(NAME, depends=lambda build: [_art(build).key], draw=lambda build, out: None,
                  pages=lambda build: [], enabled=enabled, panels={"map": map_panel, "node": map_panel})
ANALYSIS = Analysis(NAME, run=run, section=__name__)
