"""A gallery that explains itself: readable charts (ticks, axis titles, no chart of zeros), a colour bar beside
every coloured picture, terms linked to the guide where first used, and progress that stays plain in a log."""
from __future__ import annotations

import io
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from conftest import search_entries

from generator import progress
from generator.config.oip import OIPConfig
from generator.pages import glossary, svg
from generator.features.patterns.page_charts import map_charts, smoothing_window


# ---- charts -----------------------------------------------------------------------------------------------

def test_ticks_are_round_and_cover_the_top():
    assert svg.nice_ticks(1.454) == [0.0, 0.5, 1.0, 1.5]
    assert svg.nice_ticks(256) == [0, 100, 200, 300]
    ticks = svg.nice_ticks(0.00031)
    assert len(ticks) >= 4 and ticks[-1] >= 0.00031 > ticks[-2]


def test_smoothing_takes_out_a_blur_cycle_and_keeps_the_ends():
    zigzag = np.tile([1.0, 1.0, 1.0, 0.0], 16)  # a blur every 4th step
    smooth = svg.smooth(zigzag, 8)
    assert len(smooth) == len(zigzag)
    assert np.allclose(smooth[4:-4], 0.75)  # whole cycles in every window
    assert smoothing_window(256, 4) == 8 and smoothing_window(8, 4) == 2


def test_line_chart_has_axis_titles_ticks_and_points_on_the_frame():
    chart = svg.line_chart({"a": np.linspace(0, 1.454, 257)}, "ascent step", "mean activation")
    a = chart.axes
    assert (a.x_title, a.y_title) == ("ascent step", "mean activation")
    assert [t.label for t in a.yticks] == ["0", "0.5", "1", "1.5"]
    assert len(a.xticks) >= 4 and a.xticks[0].label == "0"
    xs, ys = zip(*(map(float, p.split(",")) for p in chart.series[0].points.split()))
    assert min(xs) == pytest.approx(a.left) and max(xs) == pytest.approx(a.right)
    top_y = a.bottom - (a.bottom - a.top) * 1.454 / 1.5  # the last point sits at 1.454 on a 0..1.5 axis
    assert ys[-1] == pytest.approx(top_y, abs=0.1) and ys[0] == pytest.approx(a.bottom)


def test_a_map_that_never_fires_gets_sentences_not_charts():
    a = {"curve": np.zeros((1, 2, 9)), "stat_class_means": np.zeros((1, 10))}
    charts = map_charts(OIPConfig(steps=8), a, 0, ["noise scale 1 px", "noise scale 7 px"], 0, [str(i) for i in range(10)])
    assert charts.curve is None and charts.profile is None
    assert "no curve to draw" in charts.curve_note and "no class profile" in charts.profile_note
    a["curve"][0, 1, 3:] = 0.5
    a["stat_class_means"][0, 4] = 0.2
    charts = map_charts(OIPConfig(steps=8), a, 0, ["noise scale 1 px", "noise scale 7 px"], 1, [str(i) for i in range(10)])
    assert charts.curve is not None and charts.profile.bars[4].cls == "hi"
    assert "running mean over 2 steps" in charts.curve_note


def _statuses(site: Path) -> dict[str, str]:
    return {e["u"]: e["s"] for e in search_entries(site / "static" / "search-index.js")}


def test_map_pages_draw_charts_only_with_something_to_draw(quick_site):
    for rel, status in _statuses(quick_site).items():
        html = (quick_site / rel).read_text(encoding="utf-8")
        charts = html.count('<svg class="chart"')
        if status in ("live", "rare"):  # the ascent, the class profile, the spread over the test set
            assert charts == 3 and "ascent step" in html and "class of the test image" in html, rel
            assert "mean activation over the map" in html, rel
        if status in ("silent", "dead", "failed"):
            assert "so there is no class profile to draw" in html and "so there is no spread to draw" in html, rel


# ---- colour bars ------------------------------------------------------------------------------------------

class _Pictures(HTMLParser):
    """Each <img> of a page's main content with the h2 section it stands in."""

    def __init__(self):
        super().__init__()
        self.section, self.images = 0, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "h2":
            self.section += 1
        elif tag == "img":
            self.images.append((self.section, a["src"], a.get("alt", "")))


def _coloured(path: Path) -> bool:
    with Image.open(path) as image:
        rgb = np.asarray(image.convert("RGB"), dtype=np.int16)
    return bool(np.abs(rgb - rgb.mean(axis=-1, keepdims=True)).max() > 8)


def test_every_coloured_picture_on_map_and_layer_pages_has_a_colour_bar_beside_it(quick_site):
    pages = sorted(quick_site.glob("layers/*/map-*.html"))[:12] + sorted(quick_site.glob("layers/*/index.html"))
    coloured_seen = 0
    for page in pages:
        parser = _Pictures()
        parser.feed(page.read_text(encoding="utf-8"))
        bars = {section for section, _src, alt in parser.images if alt.startswith("colour bar")}
        cache: dict[str, bool] = {}
        for section, src, alt in parser.images:
            if alt.startswith("colour bar"):
                continue
            path = (page.parent / src).resolve()
            if cache.setdefault(src, _coloured(path)):
                coloured_seen += 1
                assert section in bars, f"{page.relative_to(quick_site)}: {src} ({alt}) has no colour bar beside it"
    assert coloured_seen > 0


def test_patterns_are_drawn_on_the_fixed_pixel_scale_of_their_colour_bar(quick_site):
    """The colour view of a pattern maps pixel value v to viridis(v / 255), as its colour bar says."""
    from matplotlib import colormaps

    rel = next(iter(_statuses(quick_site)))
    folder = (quick_site / rel).parent
    m = int(re.search(r"map-(\d+)", rel).group(1))
    patterns = np.load(folder / "data" / f"map-{m:03d}-patterns.npy")
    png = np.asarray(Image.open(folder / "img" / f"map-{m:03d}-s0.png").convert("RGB"))
    expected = (colormaps["viridis"](np.clip(patterns[0] / 255, 0, 1))[..., :3] * 255).round()
    assert np.abs(png.astype(float) - expected).max() <= 1


# ---- terms ------------------------------------------------------------------------------------------------

def test_terms_link_once_to_the_guide_and_never_inside_tags_links_or_headings():
    html = ('<h2>The ratio</h2><p>A ratio of 2 and another ratio.</p><a href="x">OIP</a><p>the OIP '
            '<span title="ratio">heat</span> and a receptive field</p><img alt="dead map">')
    from generator import registry

    out = str(glossary.link_terms(html, "layers/conv2d_1/map-000.html", registry.glossary()))
    assert out.count('href="../../guide.html#ratio"') == 1
    assert "<h2>The ratio</h2>" in out and '<a href="x">OIP</a>' in out and 'alt="dead map"' in out
    assert '<p>A <a class="term" href="../../guide.html#ratio"' in out
    assert out.count("guide.html#oip") == 1 and "guide.html#receptive-field" in out


def test_site_terms_resolve_to_guide_sections(quick_site):
    guide = (quick_site / "guide.html").read_text(encoding="utf-8")
    ids = set(re.findall(r'\bid="([^"]+)"', guide))
    assert 'class="term"' not in guide
    pages = ["index.html", *[p.relative_to(quick_site).as_posix() for p in sorted(quick_site.glob("layers/*/*.html"))[:6]]]
    linked = set()
    for rel in pages:
        html = (quick_site / rel).read_text(encoding="utf-8")
        anchors = re.findall(r'<a class="term" href="[./]*guide\.html#([^"]+)"', html)
        assert len(anchors) == len(set(anchors)) or rel == "index.html", (rel, anchors)
        assert set(anchors) <= ids, (rel, set(anchors) - ids)
        linked |= set(anchors)
    assert {"oip", "ratio", "statuses"} <= linked


def test_index_strips_say_how_many_more_and_say_each_thing_once(quick_site):
    html = (quick_site / "index.html").read_text(encoding="utf-8")
    layers = sorted((quick_site / "layers").glob("*/index.html"))
    for layer in layers:
        maps = len(list(layer.parent.glob("map-*.html")))
        if maps > 24:
            assert f'+{maps - 24} more</a>' in html
    text = re.sub(r"<[^>]+>", " ", html)
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n", text) if len(s.strip()) > 40]
    assert len(sentences) == len(set(sentences)), [s for s in sentences if sentences.count(s) > 1]


# ---- progress ---------------------------------------------------------------------------------------------

def test_a_build_log_that_is_not_a_terminal_stays_plain_lines(quick_site):
    log = (quick_site.parent / "build.log").read_text()
    assert "\r" not in log and "\b" not in log
    assert re.search(r"^\[layers\] drawing the map pages' pictures: \d+/\d+ maps$", log, re.M)
    assert log.strip().splitlines()[-1].startswith("built ")


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_on_a_terminal_a_stage_shows_one_live_bar(monkeypatch):
    out = _Terminal()
    monkeypatch.setattr(sys, "stdout", out)
    update = progress.bar("[test] work", 40, unit="map")
    for done in range(1, 41):
        update(done)
    with progress.stage("[test] stage"):
        pass
    text = out.getvalue()
    assert text.startswith("[test] work\n") and "40/40" in text and ("\r" in text or "\b" in text)
    assert "\r[test] stage done in" in text
