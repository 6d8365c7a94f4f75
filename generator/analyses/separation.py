"""What separates two image sets, by measured effect: the seed's 4-vs-9 question.

For a comparison of set A with set B and its two classes (the commonest label of each set; when both
sets share it, B's other class is the one B's images give most probability to after it), the *gap*
is the mean over A of (logit of A's class − logit of B's class) minus the same mean over B: how far
the network holds the sets apart. Each map of every map layer and each node of the hidden dense layers
is set to its test-set mean (per position, as the gentle ablation does) for the sets' images alone,
and the rest of the network is run on (ablation_core): the units whose loss closes the gap most are
the ones the decision uses to tell the sets apart. A panel on each comparison page ranks them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..cache import Artifact, code_version
from ..pages import units
from ..pages.model import Panel
from ..pages.section import Section, in_build
from ..registry import Analysis

NAME = "separation"
TOP = 8  # units shown per layer


def run(build) -> Artifact:
    sets, abl = build.results.get("activations"), build.results.get("ablation")
    depends = [sets.key if sets else None, abl.key if abl else None]
    return build.stage(NAME, code_version(__name__), depends, lambda: _compute(build))


def classes_of(y_a: np.ndarray, y_b: np.ndarray, probs_b: np.ndarray) -> tuple[int, int, str]:
    """The comparison's two classes and why: each set's commonest label, or B's runner-up class."""
    ca, cb = int(np.bincount(y_a).argmax()), int(np.bincount(y_b).argmax())
    if ca != cb:
        return ca, cb, "the commonest label of each set"
    mean = probs_b.mean(axis=0)
    mean[ca] = -1.0
    return ca, int(mean.argmax()), "both sets' label, and the class the second set's images give most probability to after it"


def _compute(build) -> Artifact:
    from ..analyses.image_set_stage import set_key
    from . import ablation_core

    sets, abl = build.results.get("activations"), build.results.get("ablation")
    if sets is None or abl is None or not sets.meta.get("comparisons"):
        return Artifact("", {}, {"comparisons": []})
    model, x, y = build.model, build.x_test(), build.dataset.y_test
    probs = build.results["evaluation"].arrays["probs"]
    arrays, meta = {}, []
    for position, c in enumerate(sets.meta["comparisons"]):
        ia, ib = (sets.arrays[set_key(c[k], "indices")] for k in ("a_slug", "b_slug"))
        ca, cb, why = classes_of(y[ia], y[ib], probs[ib])
        both = np.concatenate([ia, ib])
        for layer in abl.meta["layers"]:
            logits = ablation_core.refilled_logits(model, layer, x[both], abl.arrays[f"{layer}.fill_mean"])
            if logits is None:
                continue
            margin = logits[:, :, ca] - logits[:, :, cb]                   # (C + 1, n)
            arrays[f"{position}/{layer}/a"] = margin[:, :len(ia)].mean(axis=1)
            arrays[f"{position}/{layer}/b"] = margin[:, len(ia):].mean(axis=1)
        meta.append({"classes": [ca, cb], "why": why})
    return Artifact("", arrays, {"comparisons": meta, "layers": list(abl.meta["layers"])})


# ---- the comparison page's panel ---------------------------------------------------------------

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
    return f"{v:+.2f}".replace("-", "−")


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
    sets = build.results["activations"].meta["comparisons"][position]
    titles = {s["name"]: s["title"] for s in build.results["activations"].meta["sets"]}
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


SECTION = Section(NAME, depends=lambda build: [RESULT.art(build).key], draw=lambda build, out: None,
                  pages=lambda build: [], enabled=enabled, panels={"comparison": panel})
ANALYSIS = Analysis(NAME, run=run, section=__name__)
