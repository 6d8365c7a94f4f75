"""Honest small cases on the quick site: numbers that would mean nothing are not shown, a sentence says why.

- a map fewer than 20 test images fire gets no ROC AUC (a ranking over so few says little);
- a map no test image fires lists no connections and shows no three-pattern search that woke nothing;
- no page writes "−0.00" (a change too small to show is no change);
- a map whose strongest pattern climbed from a test image is shown on the strips by its best noise start.
"""
from __future__ import annotations

import html
import re

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.site


def _text(page) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page.read_text())))


def _map_pages(site):
    return sorted((site / "layers").glob("conv2d_*/map-*.html"))


def test_no_auc_connections_or_search_numbers_where_they_mean_nothing(quick_site):
    few = silent = 0
    for page in _map_pages(quick_site):
        text = _text(page)
        assert "hardest (activation 0)," not in text, page  # a position pattern of nothing is not drawn
        fired = int(re.search(r"Fires on ([\d,]+) of the", text).group(1).replace(",", ""))
        if fired < 20:
            few += 1
            assert "ROC AUC" not in text, page
        if fired == 0:
            silent += 1
            assert "No connections are listed: no test image fires map" in text, page
            assert "The strongest inputs into" not in text, page
            assert len(re.findall(r"mean activation 0 \(0% of the strongest\)", text)) < 3, page  # all three asleep
    assert few and silent  # the quick site has such maps, so the rules above were exercised


def test_no_minus_zero_anywhere(quick_site):
    for page in quick_site.rglob("*.html"):
        assert not re.search(r"[−-]0\.0+(?![0-9])", _text(page)), page


def test_strips_show_a_noise_start_when_the_best_climb_began_at_a_test_image(quick_site):
    checked = 0
    for page in _map_pages(quick_site):
        text = _text(page)
        starts = re.findall(r"(noise scale \d+ px|test image #\d+) · activation [\d.e+-]+( · best)?", text)
        if not any(label.startswith("test image") and best for label, best in starts):
            continue
        folder, stem = page.parent / "img", page.stem
        thumb = np.asarray(Image.open(folder / f"{stem}-thumb.png").convert("RGB"))
        noise = [np.asarray(Image.open(folder / f"{stem}-s{k}.png").convert("RGB"))
                 for k, (label, _) in enumerate(starts) if label.startswith("noise")]
        assert any(thumb.shape == n.shape and np.array_equal(thumb, n) for n in noise), page
        checked += 1
    print(f"{checked} maps whose best climb began at a test image")
