"""Pattern carving (the seed's recipe): scale the picture down to the model's input size H×W, keep
the detail that loses, then for a few rounds run the OIP ascent for each chosen map starting from
the small picture, scale the result up, add the detail back and scale down again. All chosen maps
dream in one batch per round (one row per map); the tiled variant dreams every H×W tile of a
larger copy of the picture for every map in one batch per round (one row per map and tile),
shifting the tiles each round. Pictures are gray (h, w) for a one-channel model and colour
(h, w, 3) for a three-channel one, in pixel units (0..255 scale, not clipped: a dream may overshoot).
"""
from __future__ import annotations

import time

import numpy as np

from generator.model import taps
from generator.features.dreams import dream_picture as dp
from generator.features.patterns import oip_engine
from generator.features.patterns.map_stats import map_means


def carve(model, layer: str, maps: list[int], picture: np.ndarray, rounds: int, ascent_cfg,
          pixel_range: tuple[float, float], units: tuple[float, float], seed: int, tiles: int = 1,
          progress=None, ascend=None) -> dict[str, np.ndarray]:
    """Carve every map's pattern into the picture, all maps (and tiles) in one batch per round.

    tiles=1 is the single-map recipe on the model's input size H×W; tiles=k dreams a (kH)×(kW) copy
    cut into k×k tiles, shifted by a random offset each round (wrapping around) so seams move.
    Returns per map and round: `start` and `small` (the small picture before and after the
    ascent), `result` (dream scaled up plus the detail), `act` (the map's mean activation on the
    small picture before and after the ascent, averaged over tiles), and `offsets` per round.
    """
    ascend = ascend or oip_ascent
    mean, std = units
    shape = taps.input_shape(model)
    tile = shape[:2]
    side = (tile[0] * tiles, tile[1] * tiles)
    small, detail = dp.split_detail(picture, side)
    n_maps, n_tiles = len(maps), tiles * tiles
    offsets = dp.random_offsets(rounds, seed, tile) if tiles > 1 else np.zeros((rounds, 2), np.int64)
    current = np.repeat(small[None], n_maps, axis=0)  # one small picture per map
    starts = np.zeros((n_maps, rounds) + small.shape)
    dreamt = np.zeros_like(starts)
    results = np.zeros((n_maps, rounds) + picture.shape)
    acts = np.zeros((n_maps, rounds, 2), np.float32)
    started = time.perf_counter()
    for r in range(rounds):
        starts[:, r] = current
        pieces = np.stack([dp.cut_tiles(c, offsets[r], tile) for c in current])  # (maps, tiles, H, W[, 3])
        rows = ((pieces.reshape((-1,) + shape) - mean) / std).astype(np.float32)
        out, before, after = ascend(model, layer, maps, rows, ascent_cfg, pixel_range, seed + r,
                                    _round_progress(progress, r, rounds))
        # The ascent's change, in pixel units: zero steps leave the small picture exactly as it was.
        change = (np.asarray(out, np.float64) - rows.reshape(np.shape(out))).reshape(pieces.shape) * std
        acts[:, r, 0] = before.reshape(n_maps, n_tiles).mean(axis=1)
        acts[:, r, 1] = after.reshape(n_maps, n_tiles).mean(axis=1)
        for i in range(n_maps):
            dreamt[i, r] = current[i] + dp.join_tiles(change[i], side, offsets[r])
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
    Returns (dreamt rows (N, H, W[, 3]) in standardized units, activation before, activation after)."""
    rows = np.asarray(rows, np.float32)
    pixels = (len(rows),) + dp.pixels_shape(taps.input_shape(model))
    if cfg.steps == 0:
        out = rows.reshape(pixels).copy()
    else:
        result = oip_engine.layer_oips(model, layer, cfg, pixel_range, seed, maps=list(maps), starts=rows,
                                       progress=progress)
        out = np.asarray(result["patterns"], np.float32).reshape(pixels)
    per_row = np.repeat(np.asarray(maps), len(rows) // len(maps))
    return out, map_activation(model, layer, rows, per_row), map_activation(model, layer, out, per_row)


def map_activation(model, layer: str, x: np.ndarray, maps: np.ndarray) -> np.ndarray:
    """Mean activation of map maps[i] on image x[i] (standardized, the model's input size)."""
    means, _ = map_means(model, layer, x, batch_size=512)
    return means[np.arange(len(means)), np.asarray(maps)].astype(np.float32)


def match_matrix(changes: np.ndarray, oips: np.ndarray, shift: int = 3) -> np.ndarray:
    """[i, j]: how much what carving carved for map i (the change, the model's input size) looks like
    map j's OIP — the largest Pearson correlation over shifts of up to `shift` pixels (patterns
    carved into a picture keep their shape but not their exact position); colour channels count
    as more pixels."""
    out = np.zeros((len(changes), len(oips)))
    h, w = np.shape(changes)[1:3]
    for i, a in enumerate(changes):
        for j, b in enumerate(oips):
            out[i, j] = max(_corr(a[max(0, dy):h + min(0, dy), max(0, dx):w + min(0, dx)],
                                  b[max(0, -dy):h + min(0, -dy), max(0, -dx):w + min(0, -dx)])
                            for dy in range(-shift, shift + 1) for dx in range(-shift, shift + 1))
    return out


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    norm = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / norm) if norm > 0 else 0.0
