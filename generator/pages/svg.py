"""Small inline-SVG charts as plain data (points, bars, ticks and axis titles), so templates only lay them out.

A chart is drawn in a WIDTH-unit-wide box that the page shows at up to MAX_SHOWN px and at the width of a
phone's column (about 358 px at 390 px): its FONT-unit text is never under 11 px on the screen.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

WIDTH, HEIGHT = 360, 220
LEFT, RIGHT, TOP, BOTTOM = 58, 12, 14, 46  # room for tick labels and axis titles
FONT = 12  # user units; see the module docstring (style.css sets the same size on .chart)


@dataclass
class Tick:
    at: float  # position in the chart's coordinate space (x for the x axis, y for the y axis)
    label: str


@dataclass
class Axes:
    """The frame of a chart: its ticks and axis titles, in the chart's coordinate space."""
    x_title: str
    y_title: str
    xticks: list[Tick]
    yticks: list[Tick]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM


@dataclass
class Series:
    label: str
    points: str  # "x,y x,y ..." in the chart's coordinate space
    cls: str


@dataclass
class LineChart:
    axes: Axes
    series: list[Series]


@dataclass
class Bar:
    label: str
    value: float
    x: float
    y: float
    w: float
    h: float
    cls: str
    text: str  # the value as written above the bar, in the y axis' units


@dataclass
class BarChart:
    axes: Axes
    bars: list[Bar]


def nice_ticks(top: float, count: int = 5, inside: bool = False) -> list[float]:
    """0 and round steps (1, 2, 2.5 or 5 × 10^k), about `count` ticks: up to at least `top` (a value axis),
    or, `inside`, up to at most `top` (a step axis, whose end is not a round number)."""
    if not top > 0 or not math.isfinite(top):
        return [0.0, 1.0]
    raw = top / (count - 1)
    power = 10 ** math.floor(math.log10(raw))
    steps = [k * power for k in (1, 2, 2.5, 5, 10)]
    step = max(s for s in steps if s <= raw) if inside else next(s for s in steps if s >= raw)
    n = math.floor(top / step + 1e-9) if inside else math.ceil(top / step - 1e-9)
    return [i * step for i in range(n + 1)]


def _label(v: float) -> str:
    return f"{v:.4g}"


def _axes(x_title: str, y_title: str, xticks: list[Tick], yvalues: list[float]) -> tuple[Axes, float]:
    """The frame with y ticks at `yvalues`; and the y value at the top of the frame."""
    ytop = yvalues[-1]
    frame = Axes(x_title, y_title, xticks, [])
    frame.yticks = [Tick(_y(frame, v, ytop), _label(v)) for v in yvalues]
    return frame, ytop


def _y(frame: Axes, value, ytop: float):
    return frame.bottom - (frame.bottom - frame.top) * np.asarray(value, dtype=np.float64) / ytop


def _fits(text: str, room: float) -> str:
    """The text when it fits in `room` units at FONT (about 0.6 FONT a character), else "" (the y ticks
    and the bar's tooltip still give the value)."""
    return text if len(text) * 0.6 * FONT <= room else ""


def smooth(curve: np.ndarray, window: int) -> np.ndarray:
    """Running mean over `window` steps (shorter at the two ends, so the curve keeps its length and ends)."""
    c = np.nan_to_num(np.asarray(curve, dtype=np.float64))
    if window <= 1 or len(c) < 2:
        return c
    sums = np.concatenate([[0.0], np.cumsum(c)])
    lo = np.clip(np.arange(len(c)) - window // 2, 0, len(c))
    hi = np.clip(np.arange(len(c)) + window - window // 2, 0, len(c))
    return (sums[hi] - sums[lo]) / (hi - lo)


def line_chart(curves: dict[str, np.ndarray], x_title: str, y_title: str,
               highlight: str | None = None) -> LineChart:
    """One line per curve, x = index (0 .. longest - 1), y from 0 to a round value above the highest point."""
    top = max((float(np.nanmax(c)) for c in curves.values() if np.isfinite(c).any()), default=0.0)
    xmax = max(len(c) for c in curves.values()) - 1 or 1
    left, right = LEFT, WIDTH - RIGHT
    xs_of = lambda v: left + (right - left) * np.asarray(v, dtype=np.float64) / xmax
    xticks = [Tick(float(xs_of(v)), _label(v)) for v in nice_ticks(xmax, 5, inside=True)]
    frame, ytop = _axes(x_title, y_title, xticks, nice_ticks(top))
    series = []
    for i, (label, curve) in enumerate(curves.items()):
        c = np.nan_to_num(np.asarray(curve, dtype=np.float64))
        xs, ys = xs_of(np.arange(len(c))), _y(frame, c, ytop)
        step = max(1, len(c) // 200)  # at most ~200 points a line keeps pages light
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs[::step], ys[::step]))
        series.append(Series(label, pts, f"s{i}" + (" best" if label == highlight else "")))
    return LineChart(frame, series)


def bar_chart(values: np.ndarray, labels: list[str], x_title: str, y_title: str,
              highlight: int | None = None) -> BarChart:
    values = np.asarray(values, dtype=np.float64)
    top = float(values.max()) if values.size else 0.0
    frame, ytop = _axes(x_title, y_title, [], nice_ticks(top))
    slot = (frame.right - frame.left) / max(len(values), 1)
    bars = []
    for i, v in enumerate(values):
        y = float(_y(frame, max(v, 0.0), ytop))
        bars.append(Bar(labels[i], float(v), frame.left + i * slot + slot * 0.15, y, slot * 0.7, frame.bottom - y,
                        "hi" if i == highlight else "", _fits(f"{v:.2g}", slot)))
    frame.xticks = [Tick(b.x + b.w / 2, b.label) for b in bars]
    return BarChart(frame, bars)
