"""The comparison page's ranking of what tells the sets apart, recomputed by hand on the quick site:
each unit set to its test-set mean for the sets' images, the rest of the network written out."""
from __future__ import annotations

import re

import numpy as np
import pytest

PAGE = "compare/clear-4s-vs-clear-9s.html"


@pytest.fixture(scope="module")
def setup(quick_site, quick_test_set):
    import keras

    model_file, x, _ = quick_test_set
    model = keras.saving.load_model(model_file, compile=False)
    html = (quick_site / PAGE).read_text()
    sets = [[int(v) for v in re.findall(r'title="#(\d+):', block)] for block in html.split('<div class="strip">')[1:3]]
    return model, x, html, sets


def _head(model, h, start: str):
    """The network written out from Conv2D_3's output ("Conv2D_3") or Dense_1's ("Dense_1") to the logits."""
    d1, d2 = model.get_layer("Dense_1"), model.get_layer("Dense_2")
    if start == "Conv2D_3":
        h = np.maximum(h.reshape(len(h), -1) @ d1.kernel.numpy() + d1.bias.numpy(), 0)
    return h @ d2.kernel.numpy() + d2.bias.numpy()


def _by_hand(model, x, sets, layer: str) -> list[tuple[int, float]]:
    import keras

    out = keras.Model(model.inputs, model.get_layer(layer).output)
    mean = out.predict(x, batch_size=500, verbose=0).mean(axis=0)
    a, b = (out.predict(x[s], verbose=0) for s in sets)
    gaps = []
    for u in range(mean.shape[-1]):
        margins = []
        for h in (a, b):
            h = h.copy()
            h[..., u] = mean[..., u]
            logits = _head(model, h, layer)
            margins.append((logits[:, 4] - logits[:, 9]).mean())
        gaps.append(margins[0] - margins[1])
    order = np.argsort(gaps, kind="stable")
    return [(int(u), float(gaps[u])) for u in order[:8]]


@pytest.mark.parametrize("layer,unit", [("Conv2D_3", "map"), ("Dense_1", "node")])
def test_ranking_is_the_gap_each_unit_closes(setup, layer, unit):
    model, x, html, sets = setup
    assert len(sets[0]) == 3 and len(sets[1]) == 3
    block = html.split(f"<h3>{layer}: the {unit}s whose loss closes the gap most</h3>")[1].split("</table>")[0]
    shown = [(int(u), float(g)) for u, g in
             re.findall(rf'{layer} {unit} (\d+)</a></td>\s*<td class="n">([0-9.−-]+)</td>', block.replace("−", "-"))]
    expected = _by_hand(model, x, sets, layer)
    assert [u for u, _ in shown] == [u for u, _ in expected]
    np.testing.assert_allclose([g for _, g in shown], [g for _, g in expected], atol=0.011)
    assert "logit 4 − logit 9" in html and "With every unit intact it is" in html
