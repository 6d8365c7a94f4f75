"""Ablation: the page's accuracies are those of a model with the map switched off, recomputed by hand."""
from __future__ import annotations

import re

import pytest



@pytest.fixture(scope="module")
def model_and_data(quick_test_set):
    """The quick site's model and its test set (the bundled sample), standardized as the build does."""
    return quick_test_set


def _by_hand(model_file, layer: str, m: int, x, y) -> float:
    """A fresh copy of the model whose kernel and bias for map m are zero: after the ReLU the map is 0."""
    import keras

    model = keras.saving.load_model(model_file, compile=False)
    target = model.get_layer(layer)
    kernel, bias = target.kernel.numpy(), target.bias.numpy()
    kernel[..., m], bias[m] = 0.0, 0.0
    target.set_weights([kernel, bias])
    pred = model.predict(x, batch_size=500, verbose=0).argmax(axis=1)
    return float((pred == y).mean())


def _page_accuracy(html: str, m: int) -> float:
    found = re.search(rf"With map {m} set to 0, test accuracy is ([0-9.]+) %", html)
    assert found, "the map page states the accuracy with the map set to 0"
    return float(found.group(1)) / 100


@pytest.mark.parametrize("layer,m", [("Conv2D_1", 2), ("Conv2D_2", 39), ("Conv2D_3", 67), ("Conv2D_3", 0)])
def test_page_accuracy_is_that_of_a_model_with_the_map_zeroed(quick_site, model_and_data, layer, m):
    model_file, x, y = model_and_data
    html = (quick_site / "layers" / layer.lower() / f"map-{m:03d}.html").read_text()
    assert abs(_page_accuracy(html, m) - _by_hand(model_file, layer, m, x, y)) <= 0.0001 + 1e-9


def test_layer_page_lists_every_map_most_harmful_first(quick_site):
    html = (quick_site / "layers" / "conv2d_3" / "index.html").read_text()
    table = html.split('id="ablation-table"')[1].split("</table>")[0]
    accs = [float(v) for v in re.findall(r'<td class="n">([0-9.]+) %</td>', table)]
    assert len(accs) == 128 and accs == sorted(accs)
    assert "The maps whose loss hurts each class most" in html


def test_index_card_and_links_resolve(quick_site, quick_site_links):
    assert "Ablation — what each map is for" in (quick_site / "index.html").read_text()
    assert quick_site_links == []
