"""Class influence: the map page's bars are gradient × activation of each class's logit, by hand."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from linkcheck import broken_links

SAMPLE = Path(__file__).resolve().parent.parent / "generator" / "data" / "sample" / "mnist-sample.npz"


def _by_hand(model_file, m: int) -> np.ndarray:
    """Conv2D_3 → Flatten → Dense_1 → Dense_2's logits written out, differentiated with a tape."""
    import keras
    import tensorflow as tf

    model = keras.saving.load_model(model_file, compile=False)
    info = json.loads(model_file.with_suffix(".json").read_text())
    data = np.load(SAMPLE)
    x = ((data["x_test"].astype(np.float32) - info["mean"]) / info["std"])[..., None]
    y = data["y_test"].astype(np.int64)
    a = tf.constant(keras.Model(model.inputs, model.get_layer("Conv2D_3").output).predict(x, verbose=0))
    d1, d2 = model.get_layer("Dense_1"), model.get_layer("Dense_2")
    with tf.GradientTape() as tape:
        tape.watch(a)
        h = tf.nn.relu(tf.reshape(a, [len(x), -1]) @ d1.kernel + d1.bias)
        logits = h @ d2.kernel + d2.bias
        own = tf.reduce_sum(logits * tf.one_hot(y, 10))
    share = tf.reduce_sum((tape.gradient(own, a) * a)[..., m], axis=[1, 2]).numpy()
    return np.array([share[y == k].mean() for k in range(10)])


@pytest.mark.parametrize("m", [0, 67])
def test_map_bars_are_gradient_times_activation(quick_site, m):
    model_file = sorted((quick_site.parent / "cache" / "model").glob("*.keras"))[-1]
    html = (quick_site / "layers" / "conv2d_3" / f"map-{m:03d}.html").read_text()
    body = html.split('class="influence-bars"')[1].split("</table>")[0]
    shown = [float(v.replace("−", "-")) for v in re.findall(r'<td class="n">([−+0-9.]+)</td>', body)]
    np.testing.assert_allclose(shown, _by_hand(model_file, m), atol=2e-3)


def test_layer_heat_map_and_links(quick_site):
    html = (quick_site / "layers" / "conv2d_3" / "index.html").read_text()
    assert "Class × map influence in Conv2D_3" in html and "img/influence-colorbar.png" in html
    assert broken_links(quick_site) == []
