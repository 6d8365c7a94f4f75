"""Stage: every layer's activations for the configured image sets, and the comparisons between sets.

Only the set images pass through the network (not the whole test set). Arrays:
  set/<slug>/indices              int64 (n,) test image numbers, in the order the pages show them
  set/<slug>/<layer>              float32 (n, ...) that layer's output for each image
  cmp/<i>/<layer>/only_a|only_b|common   bool, shaped like one image's activation of the layer
Meta: the layers shown, the sets (name, slug, title) and per comparison the counts, cut-offs and the
maps/nodes holding distinguishing points (see compare.compare_sets).
"""
from __future__ import annotations

import numpy as np

from generator.cache import Artifact
from generator.config import as_dict
from generator.data.dataset import standardize
from generator.features.sets.activations import layer_activations
from generator.features.sets.compare import compare_sets
from generator.registry import Stage
from generator.features.sets.image_sets import check_indices, display_title, resolve_set, slug, validate_sets

NAME = "sets"
MASKS = ("only_a", "only_b", "common")


def depends(build) -> dict:
    """What the arrays depend on; colour map and scaling only change the pictures, not the numbers."""
    plain = as_dict(build.cfg.activations)
    return {key: plain[key] for key in ("image_sets", "comparisons", "threshold")}


def set_key(set_slug: str, what: str) -> str:
    return f"set/{set_slug}/{what}"


def cmp_key(position: int, layer: str, mask: str) -> str:
    return f"cmp/{position}/{layer}/{mask}"


def _compute(build) -> Artifact:
    acfg = build.cfg.activations
    if not acfg.image_sets:
        return Artifact("", {}, {"layers": [], "shapes": {}, "sets": [], "comparisons": []})
    probs = build.results["evaluation"].arrays["probs"]
    x_test, y_test = build.dataset.x_test, build.dataset.y_test
    chosen = [(s, resolve_set(s, probs, y_test, len(x_test))) for s in acfg.image_sets]
    unique = np.unique(np.concatenate([indices for _, indices in chosen]))
    acts = layer_activations(build.model, standardize(x_test[unique], build.mean, build.std))
    row_of = {int(index): row for row, index in enumerate(unique)}

    arrays: dict[str, np.ndarray] = {}
    per_set: dict[str, dict[str, np.ndarray]] = {}
    sets_meta = []
    for set_cfg, indices in chosen:
        key = slug(set_cfg.name)
        rows = [row_of[int(i)] for i in indices]
        per_set[set_cfg.name] = {layer: values[rows] for layer, values in acts.items()}
        arrays[set_key(key, "indices")] = indices.astype(np.int64)
        for layer, values in per_set[set_cfg.name].items():
            arrays[set_key(key, layer)] = values.astype(np.float32)
        sets_meta.append({"name": set_cfg.name, "slug": key, "title": display_title(set_cfg),
                          "count": int(len(indices))})

    comparisons = []
    for position, comparison in enumerate(acfg.comparisons):
        result = compare_sets(per_set[comparison.a], per_set[comparison.b], acfg.threshold)
        layers_meta = {}
        for layer, outcome in result.items():
            for mask in MASKS:
                arrays[cmp_key(position, layer, mask)] = np.asarray(outcome[mask], dtype=bool)
            table = outcome["by_map"]
            unit = table.columns[0]
            held = table[(table["distinct"] + table["common"]) > 0]
            layers_meta[layer] = {"counts": outcome["counts"], "cutoff": float(outcome["cutoff"]),
                                  "layer_max": float(outcome["layer_max"]), "unit": unit,
                                  "by_map": [_plain_row(row) for row in held.to_dict("records")]}
        comparisons.append({"a": comparison.a, "b": comparison.b, "a_slug": slug(comparison.a),
                            "b_slug": slug(comparison.b), "threshold": float(acfg.threshold),
                            "layers": layers_meta})
    meta = {"layers": list(acts), "shapes": {layer: list(v.shape[1:]) for layer, v in acts.items()},
            "sets": sets_meta, "comparisons": comparisons}
    return Artifact("", arrays, meta)


def _plain_row(row: dict) -> dict:
    return {key: (int(value) if isinstance(value, (int, np.integer)) else float(value))
            for key, value in row.items()}


def _check(cfg, root) -> None:
    validate_sets(cfg.activations)
    _check_colormap(cfg.activations.colormap)


def _check_colormap(name: str) -> None:
    from matplotlib import colormaps

    if name not in colormaps:
        from generator.errors import UserError

        raise UserError(f"activations.colormap: unknown colour map {name!r} (e.g. viridis, magma, gray, jet)")


STAGE = Stage(NAME, _compute, depends, requires=("evaluation",), settings="activations", check=_check,
              check_data=lambda cfg, dataset: check_indices(cfg.activations, len(dataset.x_test)))
