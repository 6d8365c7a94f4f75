"""Connections: the strongest weights into and out of each map, in the spirit of the Circuits weight
explorer. Weights, not guesses: for a map m and a map i of the layer before it, the summed absolute
kernel weights from i to m (the size of the connection) and their plain sum (its sign: does i excite
or inhibit m). A convolution's outputs feed the next weighted layer (through pooling, which keeps the
channels); the last one's feeds dense nodes through the flatten.
"""
from __future__ import annotations


import numpy as np

from generator.registry import Stage
from generator.cache import Artifact

NAME = "connections"
TOP = 6




def _conv(k: np.ndarray) -> np.ndarray:
    """(inputs, outputs, weights per connection) of a Conv2D kernel (kh, kw, in, out)."""
    return np.moveaxis(k.reshape(-1, k.shape[2], k.shape[3]), 0, -1)


def _dense(k: np.ndarray, shape: tuple) -> np.ndarray:
    """The same for a Dense fed by a Flatten of (h, w, C): row r belongs to channel r % C."""
    channels = shape[-1]
    rows = k.reshape(-1, channels, k.shape[1])  # (h*w, C, units)
    return np.moveaxis(rows, 0, -1)             # (C, units, h*w)


def _compute(build) -> Artifact:
    from generator.model import taps

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

STAGE = Stage(NAME, _compute)
