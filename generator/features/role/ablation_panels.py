"""Ablation on the pages: what each map or node costs each class when it is switched off."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generator.features.role import page_units as units
from generator.features.role.ablation import MODE_WORDS, MODES, NAME, WORST
from generator.pages import urls
from generator.pages.glossary import Term
from generator.pages.model import Link, Panel, Topic
from generator.pages.section import Card, Section
from generator.pages.numbers import signed
from generator.features.role.findings import findings


@dataclass
class Effect:
    """One map's ablation in one mode, in words and numbers."""
    mode: str
    accuracy: str      # "99.21 %"
    change: str        # "−0.15 points"
    images: int        # net test images that change from right to wrong (negative: wrong to right)
    sentence: str
    worst: list[str]   # "4 (−1.2 points, 12 images)"


@dataclass
class MapAblation:
    base: str
    effects: list[Effect]
    total: int
    unit: str = "map"  # or "node"


@dataclass
class Row:
    index: int
    url: str
    accuracy: str
    drop: float        # accuracy points lost with the map set to 0 (for sorting)
    change: str
    change_mean: str
    classes: list[str]  # recall change per class, points


@dataclass
class LayerAblation:
    base: str
    total: int
    classes: list[str]
    rows: list[Row]
    per_class: list[tuple[str, list[Link]]]  # class name, the maps whose loss hurts it most
    note: str
    unit: str = "map"  # or "node"


RESULT = units.StageResult(NAME)
_art, enabled = RESULT.art, RESULT.enabled


def _has(build, layer: str) -> bool:
    return RESULT.has(build, f"{layer}.zero")


def _pct(v: float) -> str:
    return f"{100 * v:.2f} %"


def _points(v: float) -> str:
    return f"{signed(100 * v)} points"


def _numbers(art, layer: str, mode: str):
    """Correct per (map, class), the baseline row, and the class sizes."""
    correct = art.arrays[f"{layer}.{mode}"]
    return correct[:-1], correct[-1], art.arrays["per_class"]


def _recall(correct, sizes):
    return correct / np.maximum(sizes, 1)


def effect(build, layer: str, m: int, mode: str) -> Effect:
    art = _art(build)
    maps, base, sizes = _numbers(art, layer, mode)
    total = int(sizes.sum())
    acc, base_acc = maps[m].sum() / total, base.sum() / total
    lost = int(base.sum() - maps[m].sum())
    change = _recall(maps[m], sizes) - _recall(base, sizes)
    names, unit = build.dataset.class_names, units.word(build, layer)
    order = [int(k) for k in np.argsort(change, kind="stable")[:WORST] if base[k] > maps[m][k]]
    worst = [f"{names[k]} ({_points(change[k])}, {int(base[k] - maps[m][k])} of {int(sizes[k])} images)"
             for k in order]
    sentence = f"With {unit} {m} {MODE_WORDS[mode]}, test accuracy is {_pct(acc)} ({_points(acc - base_acc)}): "
    if lost == 0 and not worst:
        sentence += f"no class gets a single answer more wrong; the decision does not need this {unit}."
    elif lost == 0:
        sentence += f"as many answers right as with the {unit} intact, though some classes trade images."
    else:
        sentence += (f"{_images(lost)} more {'wrong' if lost > 0 else 'right'} than with the {unit} intact"
                     + (" — a few images, within noise." if abs(lost) <= 2 else "."))
    return Effect(mode, _pct(acc), _points(acc - base_acc), lost, sentence, worst)


def _images(n: int) -> str:
    n = abs(n)
    return f"{n:,} test image" + ("" if n == 1 else "s")


def map_panel(build, layer: str, m: int) -> list[Panel]:
    why = _unsupported(build)
    if why:
        return [Panel("ablation", f"What the decision loses without this {units.word(build, layer)} (ablation)",
                      "panels/note.html", why)]
    if not enabled(build) or not _has(build, layer):
        return []
    art = _art(build)
    _, base, sizes = _numbers(art, layer, "zero")
    unit = units.word(build, layer)
    data = MapAblation(_pct(base.sum() / sizes.sum()), [effect(build, layer, m, mode) for mode in MODES],
                       int(sizes.sum()), unit)
    return [Panel("ablation", f"What the decision loses without this {unit} (ablation)", "panels/ablation.html",
                  data, [Link(f"every {unit} of {layer} by its ablation", urls.layer(layer) + "#ablation")])]


def layer_numbers(build, layer: str) -> LayerAblation:
    art = _art(build)
    maps, base, sizes = _numbers(art, layer, "zero")
    mean_maps = _numbers(art, layer, "mean")[0]
    total = int(sizes.sum())
    base_acc = base.sum() / total
    recall = _recall(maps, sizes) - _recall(base, sizes)  # (C, K)
    drops = base_acc - maps.sum(axis=1) / total
    rows = [Row(m, units.page(build, layer, int(m)), _pct(maps[m].sum() / total), float(drops[m]), _points(-drops[m]),
                _points(mean_maps[m].sum() / total - base_acc), [signed(100 * v, 1) for v in recall[m]])
            for m in np.argsort(-drops, kind="stable")]
    names = build.dataset.class_names
    unit = units.word(build, layer)
    per_class = [(names[k], [Link(f"{unit} {int(m)} ({signed(100 * recall[m, k], 1)})", units.page(build, layer, int(m)))
                             for m in np.argsort(recall[:, k], kind="stable")[:WORST] if recall[m, k] < 0])
                 for k in range(len(sizes))]
    one = 100 / total
    note = (f"One test image is {one:.2f} points of accuracy; a change of one or two images is within noise. "
            f"Recall changes are in points of each class's own test images.")
    return LayerAblation(_pct(base_acc), total, list(names), rows, per_class, note, unit)


def _unsupported(build) -> str:
    """The sentence saying why this model has no ablation, or "" (see ablation_core.unsupported)."""
    return _art(build).meta.get("unsupported", "") if enabled(build) else ""


def layer_panel(build, layer: str) -> list[Panel]:
    why = _unsupported(build)
    if why:
        return [Panel("ablation", "What the decision needs (ablation)", "panels/note.html", why)]
    if not enabled(build) or not _has(build, layer):
        return []
    return [Panel("ablation", f"Which {units.word(build, layer)}s of {layer} the decision needs (ablation)", "panels/ablation_layer.html",
                  layer_numbers(build, layer))]


def cards(build) -> list[Card]:
    lines = []
    for layer in build.cfg.oip.layers:
        if _has(build, layer):
            d = layer_numbers(build, layer)
            top = d.rows[0]
            lines.append(f"{layer}: without map {top.index} (set to 0) accuracy is {top.accuracy} ({top.change})")
    why = _unsupported(build)
    if why:
        lines = [why]
    if not lines:
        return []
    return [Card("Ablation — what each map is for", urls.layer(build.cfg.oip.layers[0]) + "#ablation", lines)]



# ---- what the guide says about this feature, and the terms that link there ----

def _ablation_topic() -> Topic:
    return Topic("ablation", "Ablation", [
        "To see what a map does for the decision, its output is replaced for every test image — by 0, or by its "
        "mean over the test set — and the rest of the network runs on unchanged. The change in test accuracy and "
        "in each class's recall is the map's share of the decision; changes of a few images are within noise.",
        "Changes are in points: percentage points of accuracy (or of a class's recall), so on 10,000 test images "
        "one image is 0.01 points. A change that rounds to nothing is written 0.00, without a sign.",
    ])


def guide_topics(build) -> list:
    return [_ablation_topic()]


def glossary() -> list:
    return [Term(r"ablation", "ablation", "the map's output replaced, the rest of the network run unchanged"),
            Term(r"points of test accuracy|accuracy points", "ablation", "percentage points of accuracy")]


SECTION = Section(NAME, depends=lambda build: [_art(build).key], 
                   cards=cards, enabled=enabled, findings=findings,
                  map_panels=map_panel, layer_panels=layer_panel, node_panels=map_panel, node_layer_panels=layer_panel, guide_topics=guide_topics, glossary=glossary)
