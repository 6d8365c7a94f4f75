"""Every picture on the site is drawn here: arrays to PNG/WebP, colour maps, grids, plots, animations.

Stages hand over plain arrays; nothing else in the package draws, so all pages share one look.
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

SEPARATOR_RGB = (128, 128, 128)
COLORBAR_INK = "#808080"


def _cmap(name: str):
    from matplotlib import colormaps

    try:
        return colormaps[name]
    except KeyError:
        from .errors import UserError

        raise UserError(f"unknown colour map {name!r}") from None


def colorize(a: np.ndarray, cmap: str = "viridis", vmin: float | None = None,
             vmax: float | None = None) -> np.ndarray:
    """Float 2-D array -> uint8 RGB; NaN cells (grid separators) become a neutral gray. A colour
    image (H, W, 3) is shown as itself, scaled from vmin..vmax (default 0..255) to the full range."""
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 3 and a.shape[-1] == 3:
        return _colour(a, 0.0 if vmin is None else vmin, 255.0 if vmax is None else vmax)
    finite = a[np.isfinite(a)]
    lo = float(finite.min()) if vmin is None and finite.size else (vmin or 0.0)
    hi = float(finite.max()) if vmax is None and finite.size else (vmax if vmax is not None else 1.0)
    scale = (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)
    rgb = (_cmap(cmap)(np.clip(np.nan_to_num(scale), 0, 1))[..., :3] * 255).round().astype(np.uint8)
    rgb[~np.isfinite(a)] = SEPARATOR_RGB
    return rgb


def _colour(a: np.ndarray, lo: float, hi: float) -> np.ndarray:
    scale = (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)
    rgb = (np.clip(np.nan_to_num(scale), 0, 1) * 255).round().astype(np.uint8)
    rgb[~np.isfinite(a).all(axis=-1)] = SEPARATOR_RGB
    return rgb


def gray(a: np.ndarray, vmin: float = 0.0, vmax: float = 255.0) -> np.ndarray:
    """Float 2-D array -> uint8 gray, black at vmin, white at vmax."""
    scale = (np.asarray(a, dtype=np.float64) - vmin) / (vmax - vmin) if vmax > vmin else np.zeros_like(a)
    return (np.clip(scale, 0, 1) * 255).round().astype(np.uint8)


def contrast(a: np.ndarray, low: float = 1.0, high: float = 99.0) -> np.ndarray:
    """Percentile stretch: the seed's 'contrast-enhanced' view, robust to a few extreme pixels."""
    lo, hi = np.percentile(a, [low, high])
    return np.clip((a - lo) / (hi - lo), 0, 1) if hi > lo else np.zeros_like(a, dtype=np.float64)


def upscale(pixels: np.ndarray, scale: int) -> np.ndarray:
    """Nearest-neighbour: every array cell stays a crisp square."""
    if scale <= 1:
        return pixels
    return np.repeat(np.repeat(pixels, scale, axis=0), scale, axis=1)


def save_png(path: Path, pixels: np.ndarray, scale: int = 1) -> tuple[int, int]:
    """Write uint8 gray (H,W) or RGB (H,W,3); returns (width, height) for the img tag.

    Arrays are best saved at scale 1 and enlarged by the page (`image-rendering: pixelated`):
    the files stay tiny and encode fast."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(upscale(pixels, scale))
    image.save(path, compress_level=9 if image.width * image.height <= 4096 else 6)
    return image.size


def save_array_png(path: Path, a: np.ndarray, cmap: str | None = "viridis", vmin=None, vmax=None,
                   scale: int = 1) -> tuple[int, int]:
    if cmap or np.ndim(a) == 3:
        pixels = colorize(a, cmap or "gray", vmin, vmax)
    else:
        pixels = gray(a, 0.0 if vmin is None else vmin, 255.0 if vmax is None else vmax)
    return save_png(path, pixels, scale)


def tile(images: Sequence[np.ndarray], cols: int, sep: int = 1) -> np.ndarray:
    """Lay equally sized 2-D arrays (or colour images H×W×3) out in rows of `cols`, separated by NaN lines."""
    h, w = images[0].shape[:2]
    rows = -(-len(images) // cols)
    out = np.full((rows * h + (rows - 1) * sep, cols * w + (cols - 1) * sep) + images[0].shape[2:], np.nan)
    for i, img in enumerate(images):
        r, c = divmod(i, cols)
        out[r * (h + sep): r * (h + sep) + h, c * (w + sep): c * (w + sep) + w] = img
    return out


def save_animation(path: Path, frames: Sequence[np.ndarray], ms_per_frame: int = 300,
                   scale: int = 1) -> tuple[int, int]:
    """Animated WebP (or GIF by suffix) that loops forever."""
    images = [Image.fromarray(upscale(f, scale)) for f in frames]
    path.parent.mkdir(parents=True, exist_ok=True)
    extra = {"lossless": True} if path.suffix == ".webp" else {}
    images[0].save(path, save_all=True, append_images=images[1:], duration=ms_per_frame, loop=0, **extra)
    return images[0].size


# ---- plots (matplotlib, headless) -------------------------------------------------------------

def figure(width: float = 5.0, height: float = 3.2):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width, height), dpi=100)
    return fig, ax


def save_figure(fig, path: Path) -> tuple[int, int]:
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    path.write_bytes(buffer.getvalue())
    return Image.open(io.BytesIO(buffer.getvalue())).size


# Text in the plots is drawn big enough to stay at least 11 px when a phone shows the picture at its
# column's width (358 px): 12 pt at 100 dpi is 16.7 px, shown 0.72× for a 500 px plot.
PLOT_POINTS = 12


def line_plot(path: Path, series: dict[str, Sequence[float]], xlabel: str, ylabel: str,
              title: str = "", logy: bool = False) -> tuple[int, int]:
    import matplotlib

    with matplotlib.rc_context({"font.size": PLOT_POINTS}):  # this plot only, whatever was drawn before
        return _line_plot(path, series, xlabel, ylabel, title, logy)


def _line_plot(path, series, xlabel, ylabel, title, logy) -> tuple[int, int]:
    fig, ax = figure()
    for label, values in series.items():
        ax.plot(range(1, len(values) + 1) if xlabel == "epoch" else range(len(values)), values,
                label=label, marker="o" if len(values) < 40 else None, markersize=3)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    if len(series) > 1:
        ax.legend()
    return save_figure(fig, path)


def heatmap(path: Path, matrix: np.ndarray, labels: Sequence[str], title: str, fmt: str,
            cmap: str = "Blues", xlabel: str = "predicted", ylabel: str = "true") -> tuple[int, int]:
    import matplotlib

    with matplotlib.rc_context({"font.size": PLOT_POINTS}):  # this plot only
        return _heatmap(path, matrix, labels, title, fmt, cmap, xlabel, ylabel)


def _heatmap(path, matrix, labels, title, fmt, cmap, xlabel, ylabel) -> tuple[int, int]:
    fig, ax = figure(5.6, 5.0)
    ax.imshow(matrix, cmap=cmap)
    ax.set_xticks(range(len(labels)), labels, rotation=45 if max(map(len, labels)) > 2 else 0, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    top = matrix.max() if matrix.size else 1
    for (i, j), value in np.ndenumerate(matrix):
        ax.text(j, i, format(value, fmt), ha="center", va="center", fontsize=PLOT_POINTS,
                color="white" if value > 0.6 * top else "black")
    return save_figure(fig, path)


def bar_chart(path: Path, values: Sequence[float], labels: Sequence[str], title: str = "",
              highlight: int | None = None, ylabel: str = "", width: float = 4.0,
              height: float = 2.4) -> tuple[int, int]:
    fig, ax = figure(width, height)
    colors = ["#d95f02" if i == highlight else "#1b9e77" for i in range(len(values))]
    bars = ax.bar(range(len(values)), values, color=colors)
    # 400 px shown at most 358 px wide: 9 pt (12.5 px) stays above 11 px
    ax.set_xticks(range(len(labels)), labels, fontsize=10)
    ax.tick_params(axis="y", labelsize=9)
    if ylabel:
        ax.set_ylabel(ylabel, fontsize=10)
    if title:
        ax.set_title(title, fontsize=10)
    top = max(values) if len(values) else 0
    ax.set_ylim(0, (top or 1) * 1.18)  # room for the tallest bar's number under the title
    for bar, value in zip(bars, values):
        if f"{value:.2f}" != "0.00":  # a row of "0.00" labels collides at this size; the page lists every value
            ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height(), f"{value:.2f}",
                    ha="center", va="bottom", fontsize=9)
    return save_figure(fig, path)


def colorbar(path: Path, cmap: str, vmin: float, vmax: float, label: str = "") -> tuple[int, int]:
    import matplotlib as mpl

    fig, ax = figure(3.6, 0.95)  # tall enough for tick labels and the label under the bar
    bar = fig.colorbar(mpl.cm.ScalarMappable(mpl.colors.Normalize(vmin, vmax), _cmap(cmap)), cax=ax,
                       orientation="horizontal")
    # 11 pt at 100 dpi is 15 px of text: pages show the bar at its own 360 px (narrower only on a phone).
    bar.set_label(label, fontsize=11)
    ax.tick_params(labelsize=11)
    # Transparent around the bar, text and lines in a mid gray: readable on the light and the dark theme
    # (about 4:1 on both), where a white figure would be a white box on the dark page.
    fig.patch.set_alpha(0)
    bar.outline.set_edgecolor(COLORBAR_INK)
    ax.tick_params(colors=COLORBAR_INK)
    ax.xaxis.label.set_color(COLORBAR_INK)
    return save_figure(fig, path)


def mark_points(values: np.ndarray, marks: Sequence[tuple[np.ndarray, tuple[int, int, int]]],
                vmin: float, vmax: float, separator: tuple[int, int, int] = SEPARATOR_RGB) -> np.ndarray:
    """Float 2-D array (NaN separators) as a light gray ramp, white at vmin and mid gray at vmax,
    with boolean masks of the same shape painted over it in their RGB colours (later masks on top)."""
    values = np.asarray(values, dtype=np.float64)
    level = gray(np.nan_to_num(values, nan=vmin), vmin, vmax).astype(np.float64) / 255.0
    rgb = np.repeat(np.round(255 - 115 * level).astype(np.uint8)[..., None], 3, axis=2)
    for mask, colour in marks:
        rgb[np.asarray(mask, dtype=bool)] = colour
    rgb[~np.isfinite(values)] = separator
    return rgb
