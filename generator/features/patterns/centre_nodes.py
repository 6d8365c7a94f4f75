"""Stage: the node pattern of each map's central position, for the layers whose maps are too big
for a pattern per node (the OIP stage gives those only to maps of side <= oip.node_max_side).

One position sees only its receptive field, so its pattern is a small, readable picture of what
the map looks for, where the whole-map pattern repeats it over the image. Its own stage (not part
of the OIP stage), so adding it leaves the expensive whole-map ascent cached.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from generator.cache import Artifact
from generator.config import as_dict
from generator.registry import Stage, layer_result

NAME = "centre"


def stage_name(layer: str) -> str:
    return layer_result(NAME, layer)


def centre(side: int) -> int:
    """The central position of a side-long map (the upper-left of the middle four when even)."""
    return (int(side) - 1) // 2


def _needs_stage(build, layer: str, cfg) -> bool:
    from generator.model.support import summary_shape

    side = summary_shape(build.model_info["summary"], layer)[0]  # the model card's rows: no model load
    return side > cfg.node_max_side


def _depends(build, layer: str) -> list:
    settings = {k: v for k, v in as_dict(build.cfg.oip).items() if k in ("node_steps", "step_size", "jitter", "blur",
                                                                          "objective", "noise_scales")}
    return [settings, build.cfg.seed, layer]


def _layers(build) -> list[str]:
    return [layer for layer in build.cfg.oip.layers if _needs_stage(build, layer, build.cfg.oip)]


def _compute(build, layer: str) -> Artifact:
    from generator.features.patterns import oip_engine

    oip = build.ascent(build.cfg.oip)
    cfg = replace(oip, noise_scales=[oip.noise_scales[0]], steps=oip.node_steps)
    c = centre(build.model.get_layer(layer).output.shape[1])
    res = oip_engine.layer_oips(build.model, layer, cfg, build.pixel_range(), build.cfg.seed, nodes=[(c, c)])
    arrays = {"patterns": res["patterns"][:, 0, 0], "final": res["final"][:, 0, 0],
              "failed": res["failed"][:, 0, 0], "position": np.array([c, c])}
    return Artifact("", arrays, {"layer": layer, "seconds": float(np.asarray(res["seconds"]))})


def centre_patterns(build, layer: str, oip_arrays: dict) -> dict | None:
    """patterns (M, H, W), final (M,), position (row, col) of each map's central node, from this
    stage or, for small maps, from the OIP stage's node patterns; None when there are none."""
    if stage_name(layer) in build.results:
        a = build.results[stage_name(layer)].arrays
        return {"patterns": a["patterns"], "final": a["final"], "position": tuple(int(v) for v in a["position"])}
    if "node_patterns" in oip_arrays:
        c = centre(oip_arrays["node_patterns"].shape[1])
        return {"patterns": oip_arrays["node_patterns"][:, c, c], "final": oip_arrays["node_final"][:, c, c],
                "position": (c, c)}
    return None


STAGE = Stage(NAME, _compute, _depends, per_layer=True, layers=_layers)
