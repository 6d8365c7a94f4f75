"""What tells two image sets apart, per layer, as the comparison pages show it: counts in words, the
maps or nodes that hold the separating points, and the layers a summary shows."""
from __future__ import annotations

import numpy as np

from generator.features.sets.stage import MASKS, cmp_key
from generator import registry
from generator.pages import urls
from generator.features.sets.page_data import ComparisonView, LayerComparison, LayerView, SetView, Unit, UnitRow

TOP_UNITS = 6


def overlay_asset(a_slug: str, b_slug: str, layer: str) -> str:
    return f"compare/img/{a_slug}-vs-{b_slug}/{urls.layer_slug(layer)}.png"


def comparison_views(build, art, sets: list[SetView], layers: list[LayerView], linked: bool,
                     note: str) -> list[ComparisonView]:
    by_name = {s.name: s for s in sets}
    by_layer = {lv.name: lv for lv in layers}
    oip_layers = set(build.cfg.oip.layers or ())  # None until a build resolves it from the model
    views = []
    for position, c in enumerate(art.meta["comparisons"]):
        rows = []
        for layer, info in c["layers"].items():
            link = linked and layer in oip_layers
            page = (lambda n: urls.map_page(layer, n)) if link else (lambda n: None)
            table = info["by_map"]
            unit = info["unit"]
            top = [UnitRow(r[unit], r["only_a"], r["only_b"], r["common"], r["mean_a"], r["mean_b"],
                           page(r[unit]), r["distinct"])
                   for r in table if r["distinct"] > 0][:TOP_UNITS]
            counts = info["counts"]
            units = [_units(art, position, layer, mask, page) for mask in MASKS]
            rows.append(LayerComparison(
                by_layer[layer], overlay_asset(c["a_slug"], c["b_slug"], layer), unit,
                counts["points"], counts["only_a"], counts["only_b"], counts["common"], info["cutoff"], top,
                *units, _words(unit, counts, units)))
        key_names = key_layers(art.meta)
        key = [r for r in rows if r.layer.name in key_names]
        a, b = by_name[c["a"]], by_name[c["b"]]
        views.append(ComparisonView(f"{a.title} vs {b.title}", urls.comparison(c["a_slug"], c["b_slug"]),
                                    a, b, c["threshold"], rows, key, linked, note,
                                    build.dataset.class_names, registry.comparison_panels(build, position)))
    return views


def key_layers(meta: dict) -> list[str]:
    """The layers a comparison's summary shows: the last layer of maps (what the convolutions leave)
    and the first hidden dense layer (what the network makes of it)."""
    shapes = meta["shapes"]
    maps = [name for name in meta["layers"] if len(shapes[name]) == 3]
    nodes = [name for name in meta["layers"] if len(shapes[name]) == 1]
    return maps[-1:] + nodes[:1] if len(nodes) > 1 else maps[-1:]


def key_note(meta: dict) -> str:
    """What the summary table's numbers count, per key layer, e.g. "Conv2D_3 counts positions in its
    128 maps of 3×3"."""
    parts = []
    for name in key_layers(meta):
        shape = meta["shapes"][name]
        parts.append(f"{name} counts positions in its {shape[2]} maps of {shape[0]}×{shape[1]}" if len(shape) == 3
                     else f"{name} counts its {shape[0]} nodes")
    return "; ".join(parts) + "." if parts else ""


def count_text(n: int, unit: str) -> str:
    """"1 point", "3 points", "1 node": a dense layer's points are its nodes."""
    word = "node" if unit == "node" else "point"
    return f"{n} {word}{'' if n == 1 else 's'}"


def _words(unit: str, counts: dict, units: list[list[Unit]]) -> dict[str, str]:
    words = {f"{k}_text": count_text(counts[k], unit) for k in MASKS}
    words.update({f"units_{k}": unit + ("s" if len(u) > 1 else "") for k, u in zip(("a", "b", "common"), units)})
    words.update(title=unit.capitalize(), heading=f"{unit.capitalize()}s with most separating points")
    return words


def _units(art, position: int, layer: str, mask: str, page) -> list[Unit]:
    """Maps (or nodes) holding points of one kind, the ones with most such points first."""
    marked = art.arrays[cmp_key(position, layer, mask)]
    counts = marked.reshape(-1, marked.shape[-1]).sum(axis=0) if marked.ndim == 3 else marked.astype(np.int64)
    held = np.flatnonzero(counts)
    return [Unit(int(u), page(int(u))) for u in held[np.argsort(-counts[held], kind="stable")]]
