"""How a map's activation spreads over the test set, on its page: how many images leave it at 0, and a
histogram of the rest, so the strongest examples above it can be read against the typical image."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generator.features.evidence.firing import stage_name
from generator.features.patterns.page_layer_panels import enabled as patterns_shown
from generator.pages import svg
from generator.pages.model import Panel
from generator.pages.section import Section

BINS = 10
TICK_ROOM = 14  # chart units kept free right of the last x tick, for half its label


@dataclass
class Histogram:
    chart: svg.BarChart | None  # None when no test image activates the map
    words: str                  # what the chart counts, with its numbers


def histogram(means: np.ndarray, bins: int = BINS) -> tuple[np.ndarray, np.ndarray]:
    """counts (bins,) and edges (bins + 1,) of the images whose mean activation is above 0, in equal
    bins from 0 to the largest; the images at 0 are counted apart (for a ReLU map they are most)."""
    firing = means[means > 0]
    edges = np.linspace(0.0, float(firing.max()), bins + 1)
    return np.histogram(firing, edges)[0], edges


def _chart(counts: np.ndarray, edges: np.ndarray) -> svg.BarChart:
    """Bars without numbers on them (the y axis and each bar's tooltip give the count: numbers on some bars
    and not on others read as if the others were empty); x ticks at round values of the activation."""
    labels = [f"{lo:.3g}–{hi:.3g}" for lo, hi in zip(edges[:-1], edges[1:])]
    chart = svg.bar_chart(counts, labels, "mean activation over the map", "test images")
    for bar in chart.bars:
        bar.text = ""
    slot = chart.bars[1].x - chart.bars[0].x if len(chart.bars) > 1 else chart.axes.right - chart.axes.left
    left = chart.bars[0].x - (slot - chart.bars[0].w) / 2
    width = slot * len(chart.bars)
    at = lambda v: left + width * v / edges[-1]  # noqa: E731
    room = TICK_ROOM  # a label centred on a tick this close to the right edge would be cut off
    chart.axes.xticks = [svg.Tick(at(v), f"{v:.3g}") for v in svg.nice_ticks(float(edges[-1]), 5, inside=True)
                         if at(v) <= chart.axes.right - room]
    return chart


def map_panels(build, layer: str, m: int) -> list[Panel]:
    means = build.results[stage_name(layer)].arrays.get("image_means")
    if means is None:
        return []
    values = means[:, m]
    n, zero = len(values), int((values <= 0).sum())
    if zero == n:
        data = Histogram(None, f"No test image activates this map: all {n:,} give it a mean activation of 0, "
                               "so there is no spread to draw.")
    else:
        counts, edges = histogram(values)
        q50, q90 = np.percentile(values[values > 0], [50, 90])
        data = Histogram(_chart(counts, edges),
                         f"{zero:,} of the {n:,} test images ({100 * zero / n:.1f} %) leave the map at 0 and are not drawn. "
                         f"The other {n - zero:,}, in {len(counts)} equal bins up to the largest ({edges[-1]:.3g}): "
                         f"median {q50:.3g}, 90th percentile {q90:.3g}.")
    return [Panel("histogram", "How its activation spreads over the test set", "evidence/histogram.html", data)]


SECTION = Section("histogram", enabled=patterns_shown, map_panels=map_panels)
