"""Stage: DeepDream on a real picture — pattern carving for chosen maps, and multi-octave layer dreams.

Pattern carving (the seed's recipe): scale the picture down to 28×28, keep the detail that loses,
then for a few rounds run the OIP ascent for one map starting from the small picture, scale the
result up, add the detail back and scale down again. All chosen maps dream in one batch per round
(one row per map); the tiled variant dreams every 28×28 tile of a larger copy of the picture for
every map in one batch per round (one row per map and tile), shifting the tiles each round.

Layer dreams (the classic algorithm): gradient ascent on a weighted sum of layers' mean activations,
octave by octave from small to large, on tiles, with the dream's detail carried up between octaves.
The conv/pool layers are fully convolutional, so a sub-model on (None, None, 1) inputs reuses them.

Arrays are in pixel units (0..255 scale, not clipped: a dream may overshoot).
"""
from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from ..cache import Artifact, code_version
from ..config import as_dict
from ..errors import UserError
from ..model.architecture import CHANNELS, CONV_LAYERS
from ..registry import Analysis
from . import dream_picture as dp
from .oip_results import best_final, best_start, stage_name

NAME = "dreams"
FEATURE_LAYERS = ["Conv2D_1", "Max_Pool_1", "Conv2D_2", "Max_Pool_2", "Conv2D_3"]


# ---- the stage ---------------------------------------------------------------------------------

def run(build) -> Artifact | None:
    cfg = build.cfg.dreams
    if not cfg.enabled:
        return None
    picture = dp.load_picture(cfg.picture, cfg.picture_size, build.root)
    oip = build.results.get(stage_name(cfg.layer))
    depends = [as_dict(cfg), as_dict(build.cfg.oip), build.cfg.seed, dp.picture_hash(picture),
               oip.key if oip is not None else None]
    return build.stage(NAME, code_version(__name__), depends, lambda: _compute(build, picture))


def check_config(cfg) -> None:
    if cfg.layer not in CONV_LAYERS:
        raise UserError(f"dreams.layer: unknown layer {cfg.layer!r} (choose from {', '.join(CONV_LAYERS)})")
    for i, d in enumerate(cfg.layer_dreams):
        if not d.layers:
            raise UserError(f"dreams.layer_dreams[{i}].layers: name at least one layer")
        for layer in d.layers:
            if layer not in FEATURE_LAYERS:
                raise UserError(f"dreams.layer_dreams[{i}].layers: unknown layer {layer!r} "
                                f"(choose from {', '.join(FEATURE_LAYERS)})")
    seen: dict[str, str] = {}
    for i, d in enumerate(cfg.layer_dreams):
        name, key = dream_name(d, i), dream_slug(dream_name(d, i))
        if key in seen:
            raise UserError(f"dreams.layer_dreams: '{seen[key]}' and '{name}' would share the page "
                            f"'{key}.html'; give them distinct names")
        seen[key] = name
    if cfg.maps is not None:
        n_maps = CHANNELS[cfg.layer]
        bad = [m for m in cfg.maps if m >= n_maps]
        if bad:
            raise UserError(f"dreams.maps: {cfg.layer} has maps 0 to {n_maps - 1}, got {bad[0]}")


def dream_name(d, i: int) -> str:
    return d.name or "+".join(d.layers) or f"dream {i + 1}"


def dream_slug(name: str) -> str:
    """The page name of a layer dream (two names that clean up alike would collide)."""
    clean = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")
    return f"layer-{clean or 'dream'}"


def _compute(build, picture: np.ndarray) -> Artifact:
    from .oip_stage import _progress

    cfg, model = build.cfg.dreams, build.model
    maps, rule = choose_maps(build)
    arrays: dict[str, np.ndarray] = {"picture": picture.astype(np.float32), "maps": np.asarray(maps, np.int64)}
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
            result = layer_dream(model, d.layers, picture, cfg, build.pixel_range(), units, build.cfg.seed + 10 + i)
            frames.append(result["frames"])
            objective.append(result["objective"])
            seconds.append(result["seconds"])
            build.log(f"[dreams] layer dream {dream_name(d, i)}: {result['seconds']:.1f} s")
        arrays["layer_frames"] = np.stack(frames).astype(np.float32)
        arrays["layer_objective"] = np.stack(objective).astype(np.float32)
        arrays["layer_sizes"] = np.asarray(octave_sizes(cfg.picture_size, cfg.octaves, cfg.octave_scale))
        meta["layer_seconds"] = seconds
    return Artifact("", arrays, meta)


def _stored(a: np.ndarray) -> np.ndarray:
    return a.astype(np.float32) if a.dtype == np.float64 else a


def picture_label(name: str | None) -> str:
    return dp.DEFAULT_LABEL if not name else str(name)


def ascent_config(build, steps: int):
    """The OIP search's settings (jitter, blur, objective) with the dream's step count and size."""
    cfg = build.cfg.dreams
    return replace(build.cfg.oip, steps=steps, step_size=cfg.step_size,
                   noise_scales=[build.cfg.oip.noise_scales[0]])


# ---- which maps dream ------------------------------------------------------------------------------

def choose_maps(build) -> tuple[list[int], str]:
    """The configured maps, or the `count` maps with the strongest OIPs (largest mean activation of
    the best start, dead and failed maps left out); without OIPs for the layer, the maps with the
    largest mean activation over the test images."""
    cfg = build.cfg.dreams
    n_maps = CHANNELS[cfg.layer]
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
    usable = np.isin(arrays["status"], ["ok", "weak"]) & np.isfinite(final)
    order = [int(m) for m in np.argsort(-final, kind="stable") if usable[m]]
    return order[:count]


def test_means(model, layer: str, x: np.ndarray) -> np.ndarray:
    sub = feature_model(model, [layer], spatial=False)
    return np.concatenate([_call(sub, x[i:i + 500]).mean(axis=(1, 2)) for i in range(0, len(x), 500)]).mean(axis=0)


def _call(sub, x: np.ndarray) -> np.ndarray:
    """A direct call (no Keras predict loop, no tf.data pipeline) for a few small batches."""
    return np.asarray(sub(np.asarray(x, np.float32), training=False), np.float64)


def best_oips(arrays: dict, maps: list[int]) -> np.ndarray:
    """Each map's OIP from its strongest start, (maps, 28, 28)."""
    best = best_start(arrays["final"], arrays["failed"])
    return np.stack([arrays["patterns"][m, best[m]] for m in maps])


def match_matrix(changes: np.ndarray, oips: np.ndarray, shift: int = 3) -> np.ndarray:
    """[i, j]: how much what carving carved for map i (the 28×28 change) looks like map j's OIP —
    the largest Pearson correlation over shifts of up to `shift` pixels (patterns carved into a
    picture keep their shape but not their exact position)."""
    out = np.zeros((len(changes), len(oips)))
    for i, a in enumerate(changes):
        for j, b in enumerate(oips):
            out[i, j] = max(_corr(a[max(0, dy):dp.TILE + min(0, dy), max(0, dx):dp.TILE + min(0, dx)],
                                  b[max(0, -dy):dp.TILE + min(0, -dy), max(0, -dx):dp.TILE + min(0, -dx)])
                            for dy in range(-shift, shift + 1) for dx in range(-shift, shift + 1))
    return out


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    norm = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / norm) if norm > 0 else 0.0


# ---- pattern carving ---------------------------------------------------------------------------------

def carve(model, layer: str, maps: list[int], picture: np.ndarray, rounds: int, ascent_cfg,
          pixel_range: tuple[float, float], units: tuple[float, float], seed: int, tiles: int = 1,
          progress=None, ascend=None) -> dict[str, np.ndarray]:
    """Carve every map's pattern into the picture, all maps (and tiles) in one batch per round.

    tiles=1 is the single-map recipe on 28×28; tiles=k dreams a (28k)×(28k) copy cut into k×k
    tiles, shifted by a random offset each round (wrapping around) so seams move.
    Returns per map and round: `start` and `small` (the small picture before and after the
    ascent), `result` (dream scaled up plus the detail), `act` (the map's mean activation on the
    small picture before and after the ascent, averaged over tiles), and `offsets` per round.
    """
    ascend = ascend or oip_ascent
    mean, std = units
    side = dp.TILE * tiles
    small, detail = dp.split_detail(picture, side)
    n_maps, n_tiles = len(maps), tiles * tiles
    offsets = dp.random_offsets(rounds, seed) if tiles > 1 else np.zeros((rounds, 2), np.int64)
    current = np.repeat(small[None], n_maps, axis=0)  # one small picture per map
    starts = np.zeros((n_maps, rounds, side, side))
    dreamt = np.zeros_like(starts)
    results = np.zeros((n_maps, rounds) + picture.shape)
    acts = np.zeros((n_maps, rounds, 2), np.float32)
    started = time.perf_counter()
    for r in range(rounds):
        starts[:, r] = current
        pieces = np.stack([dp.cut_tiles(c, offsets[r]) for c in current])  # (maps, tiles, 28, 28)
        rows = ((pieces.reshape(-1, dp.TILE, dp.TILE, 1) - mean) / std).astype(np.float32)
        out, before, after = ascend(model, layer, maps, rows, ascent_cfg, pixel_range, seed + r,
                                    _round_progress(progress, r, rounds))
        # The ascent's change, in pixel units: zero steps leave the small picture exactly as it was.
        change = (np.asarray(out, np.float64) - rows[..., 0]).reshape(n_maps, n_tiles, dp.TILE, dp.TILE) * std
        acts[:, r, 0] = before.reshape(n_maps, n_tiles).mean(axis=1)
        acts[:, r, 1] = after.reshape(n_maps, n_tiles).mean(axis=1)
        for i in range(n_maps):
            dreamt[i, r] = current[i] + dp.join_tiles(change[i], (side, side), offsets[r])
            results[i, r] = dp.add_detail(dreamt[i, r], detail)
            current[i] = dp.resize(results[i, r], side)
    return {"start": starts, "small": dreamt, "result": results, "act": acts, "offsets": offsets,
            "seconds": time.perf_counter() - started}


def _round_progress(progress, r: int, rounds: int):
    if progress is None:
        return None
    return lambda done, total: progress(r * total + done, rounds * total)


def oip_ascent(model, layer: str, maps: list[int], rows: np.ndarray, cfg, pixel_range, seed: int,
               progress=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The OIP engine's ascent from given start images, one batch for all rows (row = map × S + start).
    Returns (dreamt rows (N, 28, 28) in standardized units, activation before, activation after)."""
    from . import oip_engine

    rows = np.asarray(rows, np.float32)
    if cfg.steps == 0:
        out = rows[..., 0].copy()
    else:
        result = oip_engine.layer_oips(model, layer, cfg, pixel_range, seed, maps=list(maps), starts=rows,
                                       progress=progress)
        out = np.asarray(result["patterns"], np.float32).reshape(len(rows), dp.TILE, dp.TILE)
    per_row = np.repeat(np.asarray(maps), len(rows) // len(maps))
    return out, map_activation(model, layer, rows, per_row), map_activation(model, layer, out, per_row)


def map_activation(model, layer: str, x: np.ndarray, maps: np.ndarray) -> np.ndarray:
    """Mean activation of map maps[i] on image x[i] (standardized, 28×28)."""
    x = np.asarray(x, np.float32).reshape(-1, dp.TILE, dp.TILE, 1)
    sub = feature_model(model, [layer], spatial=False)
    acts = np.concatenate([_call(sub, x[i:i + 512]).mean(axis=(1, 2)) for i in range(0, len(x), 512)])
    return acts[np.arange(len(x)), np.asarray(maps)].astype(np.float32)


# ---- layer dreams --------------------------------------------------------------------------------------

_FEATURE_MODELS: dict = {}


def feature_model(model, layers, spatial: bool = True):
    """A model from an image to the listed layers' outputs, reusing the trained layers; with
    spatial=True its input is (None, None, 1), so it runs on pictures of any size ≥ 18 px."""
    import keras

    key = (id(model), tuple(layers), spatial)
    if key in _FEATURE_MODELS and _FEATURE_MODELS[key][0] is model:
        return _FEATURE_MODELS[key][1]
    wanted = set(layers)
    last = max(FEATURE_LAYERS.index(name) for name in wanted)
    inp = keras.Input((None, None, 1) if spatial else (28, 28, 1))
    x, outputs = inp, {}
    for name in FEATURE_LAYERS[:last + 1]:
        x = model.get_layer(name)(x)
        if name in wanted:
            outputs[name] = x
    out = [outputs[name] for name in layers]
    sub = keras.Model(inp, out if len(out) > 1 else out[0])
    _FEATURE_MODELS[key] = (model, sub)
    return sub


def octave_sizes(size: int, octaves: int, scale: float) -> list[int]:
    """Picture sides from small to large, the last the picture's own, none below 28."""
    return [max(dp.TILE, int(round(size / scale ** k))) for k in reversed(range(octaves))]


def layer_dream(model, weights: dict[str, float], picture: np.ndarray, cfg, pixel_range, units,
                seed: int) -> dict:
    """The classic multi-octave DeepDream. Returns `frames` (octaves, size, size): the picture after
    each octave scaled to full size, `objective` (octaves, 2) before and after each octave's ascent."""
    import tensorflow as tf

    mean, std = units
    names = list(weights)
    sub = feature_model(model, names)
    w = tf.constant([float(weights[n]) for n in names], tf.float32)

    @tf.function(reduce_retracing=True)
    def gradient(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            outs = sub(x, training=False)
            outs = outs if isinstance(outs, (list, tuple)) else [outs]
            loss = tf.add_n([w[i] * tf.reduce_sum(tf.reduce_mean(o, axis=[1, 2, 3])) for i, o in enumerate(outs)])
        return tape.gradient(loss, x), loss

    rng = np.random.default_rng(seed)
    base_std = (np.asarray(picture, np.float64) - mean) / std
    sizes = octave_sizes(picture.shape[0], cfg.octaves, cfg.octave_scale)
    lo, hi = pixel_range
    detail = np.zeros((sizes[0], sizes[0]))
    frames, objective = [], []
    started = time.perf_counter()
    for k, size in enumerate(sizes):
        base = dp.resize(base_std, size)
        if k:
            detail = dp.resize(detail, size)
        x = base + detail
        objective_before = _objective(gradient, x)
        for _ in range(cfg.octave_steps):
            g = tiled_gradient(gradient, x, cfg.tile_size, rng)
            x = np.clip(x + cfg.octave_step_size * g / (g.std() + 1e-8), lo, hi)
        objective.append((objective_before, _objective(gradient, x)))
        detail = x - base
        frames.append(dp.resize(x, picture.shape) * std + mean)
    return {"frames": np.stack(frames), "objective": np.asarray(objective),
            "seconds": time.perf_counter() - started}


def _objective(gradient, x: np.ndarray) -> float:
    _, loss = gradient(np.asarray(x, np.float32)[None, ..., None])
    return float(loss)


def tiled_gradient(gradient, x: np.ndarray, tile: int, rng) -> np.ndarray:
    """The objective's gradient for a picture, computed on tile×tile pieces in one batch: the picture
    is shifted by a random offset (wrapping around) and padded by reflection to whole tiles."""
    h, w = x.shape
    tile = min(tile, h, w)
    dy, dx = (int(v) for v in rng.integers(0, tile, size=2))
    shifted = np.roll(x, (-dy, -dx), axis=(0, 1))
    ph, pw = -h % tile, -w % tile
    padded = np.pad(shifted, ((0, ph), (0, pw)), mode="reflect") if ph or pw else shifted
    H, W = padded.shape
    pieces = padded.reshape(H // tile, tile, W // tile, tile).swapaxes(1, 2).reshape(-1, tile, tile, 1)
    g, _ = gradient(pieces.astype(np.float32))
    g = np.asarray(g, np.float64).reshape(H // tile, W // tile, tile, tile).swapaxes(1, 2).reshape(H, W)
    return np.roll(g[:h, :w], (dy, dx), axis=(0, 1))


def _check(cfg, root) -> None:
    if cfg.dreams.enabled:
        check_config(cfg.dreams)
        dp.load_picture(cfg.dreams.picture, dp.TILE, root)  # a missing or foreign picture fails now


ANALYSIS = Analysis("dreams", settings="dreams", check=_check, run=run, section="generator.pages.dreams")
