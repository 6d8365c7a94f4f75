"""OIPs ("original input patterns"): for every map of a layer, from every start, the image that
drives the map hardest, found by the ascent core (generator.ascent) with the OIP settings.

Every (map, [node,] start) is one row of one render, so a whole layer is searched in a few large
batches; rows never interact, and a map searched alone gives the same pattern as among others.
Knows nothing about HTML or caching; everything is numpy in, numpy out.
"""
from __future__ import annotations

import time
from typing import Callable, Optional, Sequence

import numpy as np

from generator.ascent import callbacks, objectives, render, transforms
from generator.ascent.param import noise_starts as _starts_for
from generator.model import taps


def snapshot_steps(steps: int, count: int) -> np.ndarray:
    """The steps shown by the snapshot frames: evenly spaced, first = start, last = end."""
    return np.round(np.linspace(0, steps, count)).astype(int)


def layer_oips(model, layer_name: str, cfg, pixel_range: tuple[float, float], seed: int,
               maps: Optional[Sequence[int]] = None, nodes: Optional[Sequence[tuple[int, int]]] = None,
               progress: Optional[Callable[[int, int], None]] = None,
               starts: Optional[np.ndarray] = None) -> dict[str, np.ndarray]:
    """OIPs of all (or the given) maps of a layer, every map from every start, as one batch.

    `starts` replaces the noise starts with given images (rows, H, W[, 1]) in standardized units,
    row = map * S + start, S = rows // maps (DeepDream starts from a picture, not from noise).

    Returns arrays shaped (M, S, ...) -- with `nodes` (a list of (i, j) positions), (M, N, S, ...):
    patterns, snapshots (K frames), curve (steps+1), final, failed, plus seconds, maps, nodes and
    snapshot_steps. curve[t] for t < steps is measured on the jittered input that step t+1 saw;
    curve[steps] is `final`: the strongest pattern found, measured without jitter at the end of
    every compiled call (`patterns` and the last snapshot are that pattern).
    """
    began = time.perf_counter()
    info = _target(model, layer_name)
    height, width = info.side or (1, 1)
    maps = _checked_maps(maps, info.channels, layer_name)
    node_list = _check_nodes(nodes, height, width, layer_name)
    n_starts, start_images = _start_images(cfg, starts, maps, seed, pixel_range, taps.input_shape(model))
    rows = _rows(maps, node_list, n_starts, (height, width))
    frames = snapshot_steps(int(cfg.steps), int(cfg.snapshots))
    snaps, curve = callbacks.Snapshots(frames), callbacks.Curve()
    watchers = [snaps, curve] + ([callbacks.Progress(progress)] if progress is not None else [])
    objective = objectives.from_config(cfg.objective, layer_name, rows["map"], rows["spatial"])
    result = render.render(model, objective, start_images[rows["start"]], cfg.steps, cfg.step_size, seed,
                           transforms.from_config(cfg, pixel_range), callbacks=watchers)
    gray = taps.input_shape(model)[-1] == 1  # gray patterns are (H, W); colour ones keep (H, W, 3)
    images, frames_ = (result["images"][..., 0], snaps.result()[..., 0]) if gray else (result["images"], snaps.result())
    out = {"patterns": images, "snapshots": frames_, "curve": curve.result(),
           "final": result["values"], "failed": result["failed"]} if len(rows["map"]) else {}
    lead = (len(maps), len(node_list), n_starts) if nodes is not None else (len(maps), n_starts)
    out = {key: value.reshape(lead + value.shape[1:]) for key, value in out.items()}
    out.update(maps=maps, snapshot_steps=frames, seconds=np.array(time.perf_counter() - began))
    if nodes is not None:
        out["nodes"] = np.asarray(node_list, dtype=int).reshape(-1, 2)
    return out


def _target(model, layer_name: str) -> taps.LayerInfo:
    taps.cut(model, layer_name)  # only map (convolution) and Dense layers can be searched
    return taps.layer(model, layer_name)


def _checked_maps(maps, channels: int, layer_name: str) -> np.ndarray:
    maps = np.arange(channels) if maps is None else np.asarray(maps, dtype=int).reshape(-1)
    if len(maps) and (maps.min() < 0 or maps.max() >= channels):
        raise ValueError(f"{layer_name}: map indices must lie in 0..{channels - 1}")
    return maps


def _start_images(cfg, starts, maps: np.ndarray, seed: int, pixel_range, shape) -> tuple[int, np.ndarray]:
    """(starts per map, start images): noise at the configured scales, or the given images."""
    if starts is None:
        return len(cfg.noise_scales), _starts_for(cfg.noise_scales, maps, seed, pixel_range,
                                                  shape[0] if shape[0] == shape[1] and shape[2] == 1 else shape)
    starts = np.asarray(starts, np.float32).reshape((-1,) + tuple(shape))
    if len(maps) == 0 or len(starts) % len(maps):
        raise ValueError(f"{len(starts)} start images do not divide among {len(maps)} maps")
    return len(starts) // len(maps), starts


def _check_nodes(nodes, height: int, width: int, layer_name: str) -> list[tuple[int, int]]:
    """[(i, j), ...] of the requested nodes; one dummy entry when the whole map is the objective."""
    if nodes is None:
        return [(-1, -1)]
    node_list = [(int(i), int(j)) for i, j in nodes]
    for i, j in node_list:
        if not (0 <= i < height and 0 <= j < width):
            raise ValueError(f"{layer_name}: node ({i}, {j}) outside its {height}x{width} maps")
    return node_list


def _rows(maps, node_list, n_starts: int, side: tuple) -> dict:
    """Per row (map-major, then node, then start): its start image, map and spatial weights."""
    n_nodes = len(node_list)
    m_idx = np.repeat(np.arange(len(maps)), n_nodes * n_starts)
    node_idx = np.tile(np.repeat(np.arange(n_nodes), n_starts), len(maps))
    start_idx = np.tile(np.arange(n_starts), len(maps) * n_nodes)
    at = None if node_list[0] == (-1, -1) else np.asarray(node_list)[node_idx]
    return {"start": m_idx * n_starts + start_idx, "map": maps[m_idx],
            "spatial": objectives.spatial_weights(len(m_idx), side, at)}
