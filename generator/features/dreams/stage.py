"""Stage: DeepDream on a real picture — pattern carving for chosen maps (analyses.carving), and
multi-octave layer dreams (analyses.layer_dream). This module chooses the maps, checks the
config against the model's layers, and stores the results.

Pictures are the model's kind, (h, w) gray or (h, w, 3) colour, in pixel units (0..255 scale, not
clipped: a dream may overshoot); carving dreams on tiles of the model's input size.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from generator.cache import Artifact
from generator.config import as_dict
from generator.errors import UserError
from generator.model import taps
from generator.registry import Stage
from generator.features.dreams import dream_picture as dp
from generator.features.dreams.carving import carve, match_matrix
from generator.features.dreams.layer_dream import layer_dream
from generator.features.patterns.map_stats import map_means
from generator.features.patterns.oip_results import best_final, best_start, stage_name

NAME = "dreams"


# ---- the stage ---------------------------------------------------------------------------------

def _picture(build) -> np.ndarray:
    cfg = build.cfg.dreams
    return dp.load_picture(cfg.picture, cfg.picture_size, build.root, model_input(build))


def _depends(build) -> list:
    cfg = build.cfg.dreams
    oip = build.results.get(stage_name(cfg.layer))
    return [as_dict(cfg), as_dict(build.cfg.oip), build.cfg.seed, dp.picture_hash(_picture(build)),
            oip.key if oip is not None else None]


def model_input(build) -> tuple[int, int, int]:
    """(H, W, C) of the model's input without loading it: the data's image shape, which the model was
    built for or checked to take (`_compute` checks it against the loaded model)."""
    return tuple(int(v) for v in build.dataset.image_shape)


def check_config(cfg, layers=None) -> None:
    """The dream settings against the model's own layers (taps.LayerInfo's of the given model or,
    None, of the seed network): checked with the config, before any data is read."""
    for i, d in enumerate(cfg.layer_dreams):
        if not d.layers:
            raise UserError(f"dreams.layer_dreams[{i}].layers: name at least one layer")
    seen: dict[str, str] = {}
    for i, d in enumerate(cfg.layer_dreams):
        name, key = dream_name(d, i), dream_slug(dream_name(d, i))
        if key in seen:
            raise UserError(f"dreams.layer_dreams: '{seen[key]}' and '{name}' would share the page "
                            f"'{key}.html'; give them distinct names")
        seen[key] = name
    if cfg.layer is not None or cfg.layer_dreams or cfg.maps is not None:
        from generator.model.support import seed_layers

        _check_layers(cfg, seed_layers() if layers is None else layers)


def _check_layers(cfg, layers) -> None:
    maps_layers, spatial = _layer_names(layers)
    layer = cfg.layer if cfg.layer is not None else maps_layers[-1]
    if layer not in maps_layers:
        raise UserError(f"dreams.layer: unknown layer {layer!r} (choose from {', '.join(maps_layers)})")
    for i, d in enumerate(cfg.layer_dreams):
        for name in d.layers:
            if name not in spatial:
                raise UserError(f"dreams.layer_dreams[{i}].layers: unknown layer {name!r} "
                                f"(choose from {', '.join(spatial)})")
    if cfg.maps is not None:
        n_maps = next(i.channels for i in layers if i.name == layer)
        bad = [m for m in cfg.maps if m >= n_maps]
        if bad:
            raise UserError(f"dreams.maps: {layer} has maps 0 to {n_maps - 1}, got {bad[0]}")


def _layer_names(layers) -> tuple[list[str], list[str]]:
    """(map layers that can carve, layers with maps a layer dream can read)."""
    return [i.name for i in layers if i.kind == "map"], [i.name for i in layers if i.side is not None]


def dream_name(d, i: int) -> str:
    return d.name or "+".join(d.layers) or f"dream {i + 1}"


def dream_slug(name: str) -> str:
    """The page name of a layer dream (two names that clean up alike would collide)."""
    clean = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")
    return f"layer-{clean or 'dream'}"


def _compute(build) -> Artifact:
    picture = _picture(build)
    from generator.features.patterns.oip_stage import _progress

    cfg, model = build.cfg.dreams, build.model
    check_config(cfg, taps.layers(model))  # against the model's own layers, now that it is loaded
    if taps.input_shape(model) != model_input(build):
        raise ValueError(f"the model takes {taps.input_shape(model)} images, the data has {model_input(build)}")
    maps, rule = choose_maps(build)
    arrays: dict[str, np.ndarray] = {"picture": picture.astype(np.float32), "maps": np.asarray(maps, np.int64),
                                     "tile": np.asarray(taps.input_shape(model), np.int64)}
    meta: dict = {"layer": cfg.layer, "rule": rule, "picture": picture_label(cfg.picture),
                  "layer_dreams": [dream_name(d, i) for i, d in enumerate(cfg.layer_dreams)]}
    units = (build.mean, build.std)
    if maps:
        carving = carve(model, cfg.layer, maps, picture, cfg.rounds, ascent_config(build, cfg.steps),
                        build.pixel_range(), units,
                        build.cfg.seed, tiles=1, progress=_progress("[dreams] carving"))
        arrays.update({f"carve_{k}": _stored(v) for k, v in carving.items() if k != "seconds"})
        meta["carve_seconds"] = carving["seconds"]
        meta["carve_rows"] = len(maps)
        build.log(f"[dreams] carved {len(maps)} maps × {cfg.rounds} rounds in one batch per round: "
                  f"{carving['seconds']:.1f} s")
        oip = build.results.get(stage_name(cfg.layer))
        if oip is not None:
            change = carving["small"][:, -1] - carving["start"][:, 0]
            arrays["carve_match"] = match_matrix(change, best_oips(oip.arrays, maps)).astype(np.float32)
        if cfg.tiled:
            tiled = carve(model, cfg.layer, maps, picture, cfg.rounds, ascent_config(build, cfg.tiled_steps),
                          build.pixel_range(), units,
                          build.cfg.seed + 1, tiles=cfg.tiles, progress=_progress("[dreams] tiled"))
            arrays.update({f"tiled_{k}": _stored(v) for k, v in tiled.items() if k != "seconds"})
            meta["tiled_seconds"] = tiled["seconds"]
            meta["tiled_rows"] = len(maps) * cfg.tiles ** 2
            build.log(f"[dreams] tiled: {len(maps)} maps × {cfg.tiles ** 2} tiles × {cfg.rounds} rounds: "
                      f"{tiled['seconds']:.1f} s")
    if cfg.layer_dreams:
        frames, objective, seconds = [], [], []
        for i, d in enumerate(cfg.layer_dreams):
            octave = replace(cfg, octave_step_size=cfg.octave_step_size * build.step_scale)  # model units
            result = layer_dream(model, d.layers, picture, octave, build.pixel_range(), units, build.cfg.seed + 10 + i)
            frames.append(result["frames"])
            objective.append(result["objective"])
            seconds.append(result["seconds"])
            build.log(f"[dreams] layer dream {dream_name(d, i)}: {result['seconds']:.1f} s")
        arrays["layer_frames"] = np.stack(frames).astype(np.float32)
        arrays["layer_objective"] = np.stack(objective).astype(np.float32)
        arrays["layer_sizes"] = result["sizes"]  # (octaves, 2): each octave's (h, w), the same for every dream
        meta["layer_seconds"] = seconds
    return Artifact("", arrays, meta)


def _stored(a: np.ndarray) -> np.ndarray:
    return a.astype(np.float32) if a.dtype == np.float64 else a


def picture_label(name: str | None) -> str:
    return dp.DEFAULT_LABEL if not name else str(name)


def ascent_config(build, steps: int):
    """The OIP search's settings (jitter, blur, objective) with the dream's step count and size."""
    cfg = build.cfg.dreams
    return build.ascent(replace(build.cfg.oip, steps=steps, step_size=cfg.step_size,
                                noise_scales=[build.cfg.oip.noise_scales[0]]))


# ---- which maps dream ------------------------------------------------------------------------------

def choose_maps(build) -> tuple[list[int], str]:
    """The configured maps, or the `count` maps with the strongest OIPs (largest mean activation of
    the best start, dead and failed maps left out); without OIPs for the layer, the maps with the
    largest mean activation over the test images."""
    cfg = build.cfg.dreams
    n_maps = taps.layer(build.model, cfg.layer).channels
    if cfg.maps is not None:  # ranges were checked with the config
        return list(dict.fromkeys(int(m) for m in cfg.maps)), "chosen in the config"
    count = min(cfg.count, n_maps)
    art = build.results.get(stage_name(cfg.layer))
    if art is not None:
        return strongest_oips(art.arrays, count), (
            f"the {count} maps with the strongest OIPs (largest mean activation of the best start; "
            f"dead and failed maps left out)")
    means = test_means(build.model, cfg.layer, build.x_test())
    return [int(m) for m in np.argsort(-means, kind="stable")[:count]], (
        f"the {count} maps with the largest mean activation over the {len(build.dataset.x_test):,} test "
        f"images (the OIP stage did not run for {cfg.layer})")


def strongest_oips(arrays: dict, count: int) -> list[int]:
    final = best_final(arrays["final"], arrays["failed"])
    # not dead (some test image or start wakes it) and not failed (some start finished)
    usable = (arrays["stat_alive"] | (final > 0)) & ~arrays["failed"].all(axis=1) & np.isfinite(final)
    order = [int(m) for m in np.argsort(-final, kind="stable") if usable[m]]
    return order[:count]


def test_means(model, layer: str, x: np.ndarray) -> np.ndarray:
    """Each map's mean activation over the images x."""
    return map_means(model, layer, x)[0].astype(np.float64).mean(axis=0)


def best_oips(arrays: dict, maps: list[int]) -> np.ndarray:
    """Each map's OIP from its strongest start, (maps, H, W[, 3])."""
    best = best_start(arrays["final"], arrays["failed"])
    return np.stack([arrays["patterns"][m, best[m]] for m in maps])


def _check(cfg, root) -> None:
    if cfg.dreams.enabled:
        from generator.checks import config_layers

        needs_layers = cfg.dreams.layer is not None or cfg.dreams.layer_dreams or cfg.dreams.maps is not None
        check_config(cfg.dreams, config_layers(cfg, root) if needs_layers else [])
        dp.load_picture(cfg.dreams.picture, 8, root)  # a missing or foreign picture fails now (read small)


STAGE = Stage(NAME, _compute, _depends, requires=("oip",), enabled=lambda build: build.cfg.dreams.enabled,
              settings="dreams", check=_check)
