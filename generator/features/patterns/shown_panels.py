"""The shown pattern on a map page and its words: the strongest, or a non-flat one where that is flat."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
import numpy as np
from generator import imaging
from generator.pages import urls
from generator.pages.colour_keys import PATTERN, pattern_key
from generator.pages.model import Panel
from generator.pages.section import Section
from generator.features.patterns import page_layer_panels as layer_panels
from generator.features.patterns.oip_results import stage_name as oip_stage
from generator.features.patterns.shown_patterns import CONTRAST_K, NAME, stage_name


@dataclass
class ShownView:
    plain: str
    contrast: str
    alt: str
    words: str


def _asset(layer: str, m: int, what: str) -> str:
    return urls.map_asset(layer, m, what)


def _arrays(build, layer: str):
    return layer_panels.arrays(build, stage_name, layer)


def draw(build, out: Path) -> None:
    from generator.data.dataset import unstandardize

    for layer in build.cfg.oip.layers:
        a = _arrays(build, layer)
        for m in np.flatnonzero(a["contrast"]):
            pattern = unstandardize(a["patterns"][m], build.mean, build.std)
            imaging.save_array_png(out / _asset(layer, m, "shown.png"), pattern, PATTERN.cmap, PATTERN.vmin, PATTERN.vmax)
            imaging.save_array_png(out / _asset(layer, m, "shownc.png"), imaging.contrast(pattern), "gray", 0, 1)


def words(a: dict, m: int, best_test: float) -> str:
    """Which pattern is which, with the numbers."""
    ratio = f"; against the best test image's mean {best_test:.4g} that is {a['mean'][m] / best_test:.2f}" if best_test > 0 else ""
    return (f"The strongest pattern above is flat: {a['strongest_share'][m]:.0%} of its pixels sit at the pixel "
            f"bounds (a filter answering most to a uniform image). It is kept for this page's ratio. Shown here, and "
            f"as the map's thumbnail: the strongest pattern that is not flat ({a['share'][m]:.0%} at the bounds), "
            f"found by climbing the map's mean plus {CONTRAST_K:g}× its excess over a uniform image of the same mean "
            f"brightness, which only structure can raise. Its mean activation over the map is {a['mean'][m]:.4g}{ratio}.")


def map_panel(build, layer: str, m: int) -> list[Panel]:
    a = _arrays(build, layer)
    if a is None or not a["contrast"][m]:
        return []
    best_test = float(build.results[oip_stage(layer)].arrays["stat_best_test"][m])
    view = ShownView(_asset(layer, m, "shown.png"), _asset(layer, m, "shownc.png"),
                     f"{layer} map {m}: the strongest pattern that is not flat", words(a, m, best_test))
    return [Panel("shown", "The pattern shown: not flat", "panels/shown.html", view, colours=pattern_key(build))]


def shown_pattern(build, layer: str, m: int):
    """The pattern a map is shown by (its thumbnail), or None without this stage."""
    a = _arrays(build, layer)
    return None if a is None else a["patterns"][m]


SECTION = Section(NAME, depends=lambda build: layer_panels.depends(build, stage_name), draw=draw,
                   enabled=layer_panels.enabled,
                  map_top_panels=map_panel)
