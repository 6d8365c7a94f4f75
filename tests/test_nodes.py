"""Dense-node pages: their numbers recomputed from the model (weights to the classes, strongest inputs,
the images that fire a node, the ablation), on the quick site."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from linkcheck import parse

NODES = (0, 37)


@pytest.fixture(scope="module")
def model_and_data(quick_test_set):
    import keras

    model_file, x, y = quick_test_set
    return model_file, keras.saving.load_model(model_file, compile=False), x, y


def _page(site: Path, i: int) -> str:
    return (site / "layers" / "dense_1" / f"node-{i:03d}.html").read_text()


def _numbers(text: str) -> list[float]:
    return [float(v.replace("−", "-")) for v in re.findall(r'<td class="n">([−+0-9.]+)</td>', text)]


@pytest.mark.parametrize("i", NODES)
def test_weights_to_the_classes_are_the_output_layers(quick_site, model_and_data, i):
    _, model, _, _ = model_and_data
    body = _page(quick_site, i).split('class="influence-bars node-weights"')[1].split("</table>")[0]
    np.testing.assert_allclose(_numbers(body), model.get_layer("Dense_2").kernel.numpy()[i], atol=6e-4)


@pytest.mark.parametrize("i", NODES)
def test_strongest_inputs_are_summed_weights_per_conv2d_3_map(quick_site, model_and_data, i):
    _, model, _, _ = model_and_data
    w = model.get_layer("Dense_1").kernel.numpy()[:, i].reshape(9, 128)   # flatten of (3, 3, 128): channel last
    size, total = np.abs(w).sum(axis=0), w.sum(axis=0)
    body = _page(quick_site, i).split('id="connections"')[1].split('class="muted"')[0]
    rows = re.findall(r'href="../conv2d_3/map-(\d+).html"><img [^>]*> Conv2D_3 map \d+</a></td>\s*'
                      r'<td class="n">([0-9.]+)</td><td>(\w+)</td>', body)
    best = np.argsort(-size, kind="stable")[:len(rows)]
    assert len(rows) == 6 and [int(m) for m, _, _ in rows] == list(best)
    for (m, shown, sign) in rows:
        assert float(shown) == pytest.approx(size[int(m)], abs=6e-4)
        assert sign == ("excites" if total[int(m)] >= 0 else "inhibits")


def _activations(model, x):
    import keras

    return keras.Model(model.inputs, model.get_layer("Dense_1").output).predict(x, batch_size=500, verbose=0)


def test_examples_are_only_images_that_fire_the_node(quick_site, model_and_data):
    _, model, x, _ = model_and_data
    acts = _activations(model, x)
    fire = (acts > 0).sum(axis=0)
    few = [int(u) for u in np.flatnonzero((fire > 0) & (fire < 9))]
    for i in list(NODES) + few[:2]:
        html = _page(quick_site, i)
        shown = [int(v) for v in re.findall(r'<figure class="tile">.*?<b>#(\d+)</b>', html)]
        expected = [int(t) for t in np.argsort(-acts[:, i], kind="stable")[:9] if acts[t, i] > 0]
        assert set(shown) == set(expected) and len(shown) == min(9, int(fire[i]))
        assert (f"Only {fire[i]} of the 2,000 test images activate this node" in html) == (0 < fire[i] < 9)
        assert f"Fires on {int(fire[i]):,} of the 2,000 test images" in html


def test_node_ablation_is_that_of_a_model_with_the_node_zeroed(quick_site, model_and_data):
    import keras

    model_file, _, x, y = model_and_data
    i = NODES[1]
    fresh = keras.saving.load_model(model_file, compile=False)
    dense = fresh.get_layer("Dense_1")
    kernel, bias = dense.kernel.numpy(), dense.bias.numpy()
    kernel[:, i], bias[i] = 0.0, 0.0
    dense.set_weights([kernel, bias])
    by_hand = float((fresh.predict(x, batch_size=500, verbose=0).argmax(axis=1) == y).mean())
    found = re.search(rf"With node {i} set to 0, test accuracy is ([0-9.]+) %", _page(quick_site, i))
    assert found and abs(float(found.group(1)) / 100 - by_hand) <= 1e-4 + 1e-9


def test_dense_layer_page_lists_every_node_and_links_resolve(quick_site):
    html = (quick_site / "layers" / "dense_1" / "index.html").read_text()
    cards = re.findall(r'<a class="mapcard [a-z]+" href="node-(\d{3}).html"', html)
    assert [int(c) for c in cards] == list(range(100))
    assert "Class × node influence in Dense_1" in html and 'id="ablation-table"' in html
    assert 'href="../dense_1/index.html"' in (quick_site / "layers" / "conv2d_1" / "map-000.html").read_text()
    assert 'href="layers/dense_1/index.html"' in (quick_site / "index.html").read_text()
    for page in [quick_site / "layers" / "dense_1" / "index.html"] + sorted((quick_site / "layers" / "dense_1").glob("node-*.html")):
        refs = [ref.split("#")[0] for _, ref in parse(page).refs if not ref.startswith("#")]
        assert all((page.parent / ref).resolve().is_file() for ref in refs), page  # the whole site: test_ablation
