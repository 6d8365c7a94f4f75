"""Tiny inline-SVG charts as plain data (points and bars), so templates only lay them out."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WIDTH, HEIGHT, PAD = 440, 160, 48


@dataclass
class Series:
    label: str
    points: str  # "x,y x,y ..." in the chart's coordinate space
    cls: str


@dataclass
class LineChart:
    series: list[Series]
    ymax: float
    xmax: int
    width: int = WIDTH
    height: int = HEIGHT
    pad: int = PAD


@dataclass
class Bar:
    label: str
    value: float
    x: float
    y: float
    w: float
    h: float
    cls: str


@dataclass
class BarChart:
    bars: list[Bar]
    ymax: float
    width: int = WIDTH
    height: int = HEIGHT
    pad: int = PAD


def line_chart(curves: dict[str, np.ndarray], highlight: str | None = None) -> LineChart:
    top = max((float(np.nanmax(c)) for c in curves.values() if np.isfinite(c).any()), default=1.0) or 1.0
    xmax = max(len(c) for c in curves.values()) - 1 or 1
    series = []
    for i, (label, curve) in enumerate(curves.items()):
        c = np.nan_to_num(np.asarray(curve, dtype=np.float64))
        xs = PAD + (WIDTH - 2 * PAD) * np.arange(len(c)) / xmax
        ys = HEIGHT - PAD - (HEIGHT - 2 * PAD) * c / top
        step = max(1, len(c) // 200)  # at most ~200 points a line keeps pages light
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs[::step], ys[::step]))
        series.append(Series(label, pts, f"s{i}" + (" best" if label == highlight else "")))
    return LineChart(series, top, xmax)


def bar_chart(values: np.ndarray, labels: list[str], highlight: int | None = None) -> BarChart:
    values = np.asarray(values, dtype=np.float64)
    top = float(values.max()) if values.size and values.max() > 0 else 1.0
    slot = (WIDTH - 2 * PAD) / max(len(values), 1)
    bars = []
    for i, v in enumerate(values):
        h = (HEIGHT - 2 * PAD) * max(v, 0) / top
        bars.append(Bar(labels[i], float(v), PAD + i * slot + slot * 0.15, HEIGHT - PAD - h, slot * 0.7, h,
                        "hi" if i == highlight else ""))
    return BarChart(bars, top)
