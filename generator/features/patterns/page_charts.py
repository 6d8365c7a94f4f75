"""A map page's two charts — the activation during the ascent and the mean activation per class — or, where
there is nothing to draw (a map that never fires), a sentence that says so instead of a chart of zeros."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generator.pages import svg

MEASURE = "mean activation"


@dataclass
class MapCharts:
    curve: svg.LineChart | None
    curve_note: str     # what the curve shows and how it was smoothed, or why there is none
    profile: svg.BarChart | None
    profile_note: str   # what the bars show, or why there are none


def smoothing_window(steps: int, blur_every: int) -> int:
    """Two blur periods: the running mean then spans whole blur cycles (the blur lowers the activation every
    `blur_every` steps, the jitter moves it at random from step to step); never more than a quarter of the run."""
    return max(1, min(2 * blur_every, steps // 4))


def curve_chart(cfg, curves: np.ndarray, labels: list[str], best: int) -> tuple[svg.LineChart | None, str]:
    """curves (starts, steps + 1): the map's mean activation measured at each step of each start."""
    if not np.any(np.nan_to_num(curves) > 0):
        return None, (f"No start raised the map's {MEASURE} above 0 at any of its {curves.shape[1] - 1} steps, "
                      "so there is no curve to draw.")
    window = smoothing_window(cfg.steps, cfg.blur_every)
    lines = {labels[s]: svg.smooth(curves[s], window) for s in range(len(curves))}
    chart = svg.line_chart(lines, "ascent step", MEASURE, highlight=labels[best])
    note = (f"One line per start, the strongest thicker. Each point is the running mean over {window} steps of the "
            f"{MEASURE} measured during the ascent: every step sees the pattern shifted at random by up to "
            f"{cfg.jitter} px and every {cfg.blur_every}th step blurs it, so the raw values zigzag "
            "(the raw values are in the download below).")
    return chart, note


def profile_chart(profile: np.ndarray, names: list[str]) -> tuple[svg.BarChart | None, str]:
    """profile (classes,): the map's mean activation over the test images of each class."""
    if not np.any(np.nan_to_num(profile) > 0):
        return None, (f"No test image activates this map: its {MEASURE} is 0 for every class, so there is no "
                      "class profile to draw.")
    chart = svg.bar_chart(profile, names, "class of the test image", MEASURE, int(np.argmax(profile)))
    return chart, (f"The map's {MEASURE} over the test images of each class (the whole map, averaged over "
                   "the class's images); the highest bar is coloured.")


def map_charts(cfg, a: dict, m: int, labels: list[str], best: int, names: list[str]) -> MapCharts:
    curve, curve_note = curve_chart(cfg, a["curve"][m], labels, best)
    profile, profile_note = profile_chart(a["stat_class_means"][m], names)
    return MapCharts(curve, curve_note, profile, profile_note)
