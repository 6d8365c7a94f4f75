"""What separates two image sets, ranked by measured effect, on a comparison page."""
from __future__ import annotations

from dataclasses import dataclass
import numpy as np
from generator.features.role import page_units as units
from generator.pages.model import Panel
from generator.pages.section import Section, in_build
from generator.features.sets.separation import NAME, TOP
from generator.pages.numbers import signed


@dataclass
class Row:
    label: str
    url: str | None
    thumb: str | None
    gap: str       # the gap with this unit refilled
    change: str    # its change from the intact gap
    a: str         # change of A's mean margin
    b: str


@dataclass
class LayerRanking:
    layer: str
    unit: str
    rows: list[Row]


@dataclass
class Separation:
    reading: str
    layers: list[LayerRanking]
    a_title: str
    b_title: str


RESULT = units.StageResult(NAME)


def enabled(build) -> bool:
    return RESULT.art(build) is not None and in_build(build, "sets") is not None


def _signed(v: float) -> str:
    return signed(v)


def ranking(art, position: int, layer: str) -> list[tuple[int, float, float, float]]:
    """(unit, gap without it, change of A's mean margin, of B's), the unit closing the gap most first."""
    a, b = art.arrays[f"{position}/{layer}/a"], art.arrays[f"{position}/{layer}/b"]
    gap = a - b
    order = np.argsort(gap[:-1], kind="stable")
    return [(int(u), float(gap[u]), float(a[u] - a[-1]), float(b[u] - b[-1])) for u in order]


def panel(build, position: int) -> list[Panel]:
    if not enabled(build) or position >= len(RESULT.art(build).meta["comparisons"]):
        return []
    art = RESULT.art(build)
    ca, cb = art.meta["comparisons"][position]["classes"]
    names = build.dataset.class_names
    sets = build.results["sets"].meta["comparisons"][position]
    titles = {s["name"]: s["title"] for s in build.results["sets"].meta["sets"]}
    ta, tb = titles[sets["a"]], titles[sets["b"]]
    layers, intact = [], None
    for layer in art.meta["layers"]:
        if f"{position}/{layer}/a" not in art.arrays:
            continue
        a, b = art.arrays[f"{position}/{layer}/a"], art.arrays[f"{position}/{layer}/b"]
        intact = float(a[-1] - b[-1])
        rows = [Row(units.label(build, layer, u), units.page(build, layer, u), units.thumb(build, layer, u),
                    f"{gap:.2f}", _signed(gap - intact), _signed(da), _signed(db))
                for u, gap, da, db in ranking(art, position, layer)[:TOP]]
        layers.append(LayerRanking(layer, units.word(build, layer), rows))
    if not layers:
        return []
    m = f"logit {names[ca]} − logit {names[cb]}"
    reading = (f"The gap: the mean of ({m}) over {ta} minus its mean over {tb} — how far the network holds the two "
               f"sets apart ({names[ca]} and {names[cb]}: {art.meta['comparisons'][position]['why']}). With every "
               f"unit intact it is {intact:.2f} logit units. Each row: one unit set to its test-set mean (per "
               f"position) for these images only, the rest of the network run on it; the gap then, its change, and "
               f"the change of each set's mean ({m}). The units whose loss closes the gap most come first.")
    return [Panel("separation", "What tells the sets apart, by measured effect", "panels/separation.html",
                  Separation(reading, layers, ta, tb))]


SECTION = Section(NAME, depends=lambda build: [RESULT.art(build).key], 
                   enabled=enabled, comparison_panels=panel)
