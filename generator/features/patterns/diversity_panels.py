"""Three distinct patterns per map on its page, with how alike they are."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
import numpy as np
from generator import imaging
from generator.pages import urls
from generator.pages.model import Panel, Topic
from generator.pages.section import Section
from generator.features.patterns import page_layer_panels as layer_panels
from generator.features.patterns.oip_results import best_final
from generator.features.patterns.oip_results import stage_name as oip_stage
from generator.features.patterns.diversity import MEMBERS, NAME, STEPS, WEIGHT, stage_name
from generator.pages.glossary import Term


@dataclass
class Member:
    image: str
    alt: str
    caption: str


@dataclass
class DiversityView:
    members: list[Member]
    how: str
    measured: str


def _asset(layer: str, m: int, k: int) -> str:
    return urls.map_asset(layer, m, f"diverse{k}.png")


def _arrays(build, layer: str):
    return layer_panels.arrays(build, stage_name, layer)


def draw(build, out: Path) -> None:
    from generator.data.dataset import unstandardize

    for layer in build.cfg.oip.layers:
        a = _arrays(build, layer)
        for m in range(0 if a is None else len(a["patterns"])):
            for k, pattern in enumerate(unstandardize(a["patterns"][m], build.mean, build.std)):
                imaging.save_array_png(out / _asset(layer, m, k), imaging.contrast(pattern), "gray", 0, 1)


def _number(v: float) -> str:
    return "–" if np.isnan(v) else f"{round(float(v), 2) + 0.0:.2f}"  # + 0.0: no "-0.00"


def map_panel(build, layer: str, m: int) -> list[Panel]:
    a = _arrays(build, layer)
    if a is None:
        return []
    strongest = float(best_final(build.results[oip_stage(layer)].arrays["final"][m],
                                 build.results[oip_stage(layer)].arrays["failed"][m]))
    if not (a["mean"][m] > 0).any():  # nothing woke it: three pictures of noise and a similarity of noise
        return [Panel("diversity", "Three different patterns", "panels/note.html",
                      f"Not shown: none of the three patterns searched together wakes map {m} (each one's mean "
                      f"activation is 0), so they would be pictures of nothing this map responds to.")]
    members = [Member(_asset(layer, m, k), f"{layer} map {m}: diverse pattern {k + 1} of {MEMBERS}",
                      f"mean activation {a['mean'][m, k]:.4g}" + (f" ({a['mean'][m, k] / strongest:.0%} of the "
                                                                   f"strongest)" if strongest > 0 else ""))
               for k in range(MEMBERS)]
    how = (f"Three patterns climbed together: each drives up the map's mean activation while a diversity term "
           f"(weight {WEIGHT:g}) pushes its Gram matrix at {layer} away from the other two's (Olah et al., 2017), "
           f"{STEPS} steps from three noise starts (contrast-enhanced).")
    measured = (f"Measured similarity of the three, averaged over their pairs: Gram matrices {_number(a['gram'][m])} "
                f"(cosine; 1 = the same features in the same proportions), pixels {_number(a['pixel'][m])} "
                f"(correlation; 1 = the same picture).")
    return [Panel("diversity", "Three different patterns", "panels/diversity.html", DiversityView(members, how, measured))]


def _diversity_topic() -> Topic:
    return Topic("diversity", "Three different patterns and the Gram matrix", [
        "One pattern per map can hide that a map answers to several things. Three patterns are searched "
        "together: each raises the map's mean activation while a diversity term pushes them apart (Olah et al., "
        "2017).",
        "Apart in what? In their Gram matrices at the map's layer: for one pattern, the correlation of every pair "
        "of the layer's maps over all positions — which features occur together, wherever they are. Two patterns "
        "with the same Gram matrix (cosine 1) excite the same features in the same proportions even if they look "
        "shifted; their pixel correlation says whether they are also the same picture.",
    ])


SECTION = Section(NAME, depends=lambda build: layer_panels.depends(build, stage_name), draw=draw,
                   enabled=layer_panels.enabled,
                  map_top_panels=map_panel, guide_topics=lambda build: [_diversity_topic()],
                  glossary=lambda: [Term(r"Gram matri(?:x|ces)", "diversity",
                                         "which of a layer's maps fire together, wherever they are")])
