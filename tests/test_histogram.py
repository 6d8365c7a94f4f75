"""The map pages' activation histogram: its arithmetic, and its numbers recomputed from the site's own model."""
from __future__ import annotations

import html
import json
import re
from pathlib import Path

import numpy as np
import pytest

from generator.features.evidence.histogram_panels import histogram

SAMPLE = Path(__file__).resolve().parent.parent / "generator" / "data" / "sample" / "mnist-sample.npz"


def test_images_at_zero_are_counted_apart_and_the_rest_fill_equal_bins():
    means = np.array([0.0, 0.0, 0.0, 0.1, 0.35, 0.5, 0.95, 1.0])
    counts, edges = histogram(means, bins=4)
    assert np.allclose(edges, [0.0, 0.25, 0.5, 0.75, 1.0])
    assert list(counts) == [1, 1, 1, 2]  # bins are [a, b); the last is closed, so it holds the largest
    assert counts.sum() == 5  # every image above 0, none at 0


def _text(page: Path) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8"))))


def test_every_map_page_shows_its_spread_as_the_model_computes_it(quick_site):
    import keras

    recipe = json.loads((quick_site / "model" / "standardization.json").read_text())
    model = keras.saving.load_model(quick_site / "model" / "model.keras")
    x = ((np.load(SAMPLE)["x_test"].astype(np.float32) - recipe["mean"]) / recipe["std"])[..., None]
    n = len(x)
    checked = 0
    for layer in ("Conv2D_1", "Conv2D_2", "Conv2D_3"):
        means = keras.Model(model.inputs, model.get_layer(layer).output).predict(x, verbose=0, batch_size=500)
        means = means.mean(axis=(1, 2))
        for m in range(means.shape[1]):
            page = quick_site / "layers" / layer.lower() / f"map-{m:03d}.html"
            text = _text(page)
            assert "How its activation spreads over the test set" in text, page
            zero = int((means[:, m] <= 0).sum())
            if zero == n:
                assert f"all {n:,} give it a mean activation of 0" in text, page
                continue
            found = re.search(r"([\d,]+) of the ([\d,]+) test images \([\d.]+ %\) leave the map at 0.*?"
                              r"up to the largest \(([-\d.e+]+)\): median ([-\d.e+]+)", text)
            assert found, page
            assert int(found.group(1).replace(",", "")) == zero and int(found.group(2).replace(",", "")) == n
            firing = means[:, m][means[:, m] > 0]
            assert float(found.group(3)) == pytest.approx(firing.max(), rel=5e-3)
            assert float(found.group(4)) == pytest.approx(np.median(firing), rel=5e-3, abs=1e-6)
            bars = re.findall(r'<rect class="bar ?[^"]*"[^>]*><title>([^<]*): ([\d.e+]+)</title>', page.read_text())
            counts = [float(v) for label, v in bars if "–" in label]
            assert sum(counts) == len(firing), page  # the bars count exactly the images above 0
            checked += 1
    assert checked > 100
