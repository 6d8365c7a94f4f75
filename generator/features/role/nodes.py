"""Stage: what each node of the hidden dense layers responds to and what it feeds — the evidence of
the dense-node pages (generator/features/role/pages.py).

Per hidden dense layer (every Dense layer but the output): each node's input patterns (the ascent
core with the OIP settings, every node from every start in one batch), its activation over the whole
test set (how many images fire it, the strongest ones, its mean per class) and its weights into the
next Dense layer (for the last hidden layer: the classes).
"""
from __future__ import annotations

import numpy as np

from generator.cache import Artifact
from generator.config import as_dict
from generator.registry import Stage

NAME = "nodes"


def _depends(build) -> list:
    settings = {k: v for k, v in as_dict(build.cfg.oip).items() if k not in ("layers", "node_max_side", "node_steps")}
    return [settings, build.cfg.seed]


def hidden(model) -> list[str]:
    """The hidden dense layers: every node layer but the last (the class scores)."""
    from generator.model import taps

    return [info.name for info in taps.node_layers(model)][:-1]


def _compute(build) -> Artifact:
    model = build.model
    layers = hidden(model)
    arrays: dict[str, np.ndarray] = {}
    feeds = {}
    for layer in layers:
        arrays.update({f"{layer}.{k}": v for k, v in _statistics(build, layer).items()})
        arrays.update({f"{layer}.{k}": v for k, v in _patterns(build, layer).items()})
        nxt, weights = _next_dense(model, layer)
        arrays[f"{layer}.out"] = weights
        feeds[layer] = nxt
    return Artifact("", arrays, {"layers": layers, "feeds": feeds})


def _statistics(build, layer: str) -> dict[str, np.ndarray]:
    """Firing count, mean per class and the strongest test images that fire each node (-1: none)."""
    from generator.model import taps

    acts = taps.outputs(build.model, [layer], build.x_test(), batch_size=500)[layer]  # (N, U)
    y, k, top = build.dataset.y_test, build.dataset.n_classes, build.cfg.oip.top_images
    order = np.argsort(-acts, axis=0, kind="stable")[:top].T                        # (U, top)
    values = np.take_along_axis(acts.T, order, axis=1)
    indices = np.where(values > 0, order, -1)
    sizes = np.maximum(np.bincount(y, minlength=k), 1)
    class_means = np.stack([acts[y == c].sum(axis=0) for c in range(k)], axis=1) / sizes  # (U, K)
    return {"fire": (acts > 0).sum(axis=0).astype(np.int64), "mean": acts.mean(axis=0),
            "top_indices": indices.astype(np.int64), "top_values": np.where(values > 0, values, 0.0),
            "class_means": class_means.astype(np.float32)}


def _patterns(build, layer: str) -> dict[str, np.ndarray]:
    from generator.features.patterns import oip_engine

    res = oip_engine.layer_oips(build.model, layer, build.ascent(build.cfg.oip), build.pixel_range(), build.cfg.seed)
    return {"patterns": res["patterns"], "final": res["final"], "failed": res["failed"],
            "seconds": np.asarray(res["seconds"])}


def _next_dense(model, layer: str) -> tuple[str, np.ndarray]:
    """The next Dense layer's name and its weights from each of this layer's nodes, (U, next units)."""
    from generator.model import taps

    names = [info.name for info in taps.node_layers(model)]
    nxt = names[names.index(layer) + 1]
    return nxt, np.asarray(model.get_layer(nxt).kernel.numpy(), np.float32)


STAGE = Stage(NAME, _compute, _depends)
