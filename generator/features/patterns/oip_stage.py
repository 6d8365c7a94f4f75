"""Stage: OIPs for every map of the chosen layers, with the test-set evidence to judge them.

Per layer one cached artifact: the batched ascent's patterns, snapshots and curves, node-level
patterns for small maps, and each map's statistics on the test set (its strongest images, its
per-class profile, whether any test image wakes it at all).
"""
from __future__ import annotations

import sys

import numpy as np

from generator.cache import Artifact
from generator.config import as_dict
from generator.errors import UserError
from generator.registry import Stage
from generator.features.patterns.oip_results import NAME, best_final


def check_config(cfg, layers=None) -> None:
    """oip.layers against the model's map layers (taps.LayerInfo's; None: the seed network's)."""
    if cfg.layers is None:
        return  # every map layer of the model, whatever it is
    from generator.model.support import map_layer_names, seed_layers

    names = map_layer_names(seed_layers() if layers is None else layers)
    for layer in cfg.layers:
        if layer not in names:
            raise UserError(f"oip.layers: unknown layer {layer!r} (choose from {', '.join(names)})")


def _check(cfg, root) -> None:
    if cfg.oip.layers is not None:
        from generator.checks import config_layers

        check_config(cfg.oip, config_layers(cfg, root))


def _depends(build, layer: str) -> list:
    from generator.model.support import summary_shape

    side = summary_shape(build.model_info["summary"], layer)[0]
    return [_settings(build.cfg.oip, layer, side), build.cfg.seed, layer]


def _settings(cfg, layer: str, side: int) -> dict:
    """What one layer's result depends on: not the list of layers (adding one must not redo the
    others), and the node settings only for layers small enough to get node-level OIPs."""
    settings = {k: v for k, v in as_dict(cfg).items() if k != "layers"}
    if side > cfg.node_max_side:
        settings.pop("node_max_side"), settings.pop("node_steps")
    return settings


def _compute(build, layer: str) -> Artifact:
    from generator.features.patterns import map_stats, oip_engine

    cfg, model = build.ascent(build.cfg.oip), build.model
    stats = map_stats.map_statistics(model, layer, build.x_test(), build.dataset.y_test, top=cfg.top_images,
                                     classes=build.dataset.n_classes)
    result = oip_engine.layer_oips(model, layer, cfg, build.pixel_range(), build.cfg.seed,
                                   progress=_progress(f"[oip] {layer}"))
    arrays = {f"stat_{k}": np.asarray(v) for k, v in stats.items() if k != "mean_act"}
    arrays.update({k: np.asarray(v) for k, v in result.items()})
    arrays.update(_image_starts(build, layer, arrays))
    side = int(model.get_layer(layer).output.shape[1])
    if 0 < side <= cfg.node_max_side:
        arrays.update(_node_oips(build, layer, side))
    return Artifact("", arrays, {"layer": layer, "seconds": float(np.asarray(result["seconds"]))})


def _image_starts(build, layer: str, a: dict) -> dict[str, np.ndarray]:
    """For a map that test images fire but no noise start matches (a faint map whose ReLU is closed for
    almost every noise image, so the gradient is 0): one more ascent, from the test image that drives it
    hardest, without jitter and blur: such a map fires at a few positions of its best image, and a shift
    of one pixel closes them again. When that beats every noise start it replaces the weakest one, and
    `start_image` (maps, starts; -1 for noise) says which start began from which test image."""
    from dataclasses import replace

    from generator.features.patterns import oip_engine

    start_image = np.full(a["final"].shape, -1, dtype=int)
    noise_best = best_final(a["final"], a["failed"])
    weak = np.flatnonzero((a["stat_best_test"] > 0) & (noise_best < a["stat_best_test"]))
    if len(weak):
        index = a["stat_top_indices"][weak, 0]
        still = replace(build.ascent(build.cfg.oip), jitter=0, blur_sigma=0.0)
        res = oip_engine.layer_oips(build.model, layer, still, build.pixel_range(), build.cfg.seed,
                                    maps=weak, starts=build.x_test()[index])
        keys = ("patterns", "snapshots", "curve", "final", "failed")
        for i, m in enumerate(weak):
            if res["failed"][i, 0] or not res["final"][i, 0] > noise_best[m]:
                continue
            s = int(np.where(a["failed"][m], -np.inf, a["final"][m]).argmin())
            for key in keys:
                a[key][m, s] = res[key][i, 0]
            start_image[m, s] = index[i]
    return {"start_image": start_image}


def _node_oips(build, layer: str, side: int) -> dict[str, np.ndarray]:
    """One pattern per spatial node of each map, from pixel noise: every (map, node) in one batch."""
    from dataclasses import replace

    from generator.features.patterns import oip_engine

    cfg = replace(build.ascent(build.cfg.oip), noise_scales=[build.cfg.oip.noise_scales[0]], steps=build.cfg.oip.node_steps)
    nodes = [(i, j) for i in range(side) for j in range(side)]
    res = oip_engine.layer_oips(build.model, layer, cfg, build.pixel_range(), build.cfg.seed, nodes=nodes,
                                progress=_progress(f"[oip] {layer} nodes"))
    n_maps, image = res["patterns"].shape[0], res["patterns"].shape[3:]
    return {"node_patterns": res["patterns"][:, :, 0].reshape((n_maps, side, side) + image),
            "node_final": res["final"][:, :, 0].reshape(n_maps, side, side),
            "node_failed": res["failed"][:, :, 0].reshape(n_maps, side, side)}


def _progress(label: str):
    """A Keras progress bar on a terminal; a few plain lines in a log."""
    state = {"bar": None, "last": -1}

    def update(done: int, total: int) -> None:
        if sys.stdout.isatty():
            if state["bar"] is None:
                import keras

                print(label)
                state["bar"] = keras.utils.Progbar(total, unit_name="step")
            state["bar"].update(done)
        else:
            quarter = 4 * done // max(total, 1)
            if quarter != state["last"]:
                state["last"] = quarter
                print(f"{label}: {done}/{total} steps", flush=True)

    return update


STAGE = Stage(NAME, _compute, _depends, per_layer=True, settings="oip", check=_check)
