"""Class influence: the map page's bars are gradient × activation of each class's logit, by hand."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest


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


def test_layer_heat_map_and_links(quick_site, quick_site_links):
    html = (quick_site / "layers" / "conv2d_3" / "index.html").read_text()
    assert "Class × map influence in Conv2D_3" in html and "img/influence-colorbar.png" in html
    assert quick_site_links == []


def _residual(scale=None):
    """A small residual model, built twice from the same layers: plain, and with map `conv_a`'s output
    multiplied by `scale` (a per-channel vector) where both branches read it."""
    import keras
    from keras import layers

    if not hasattr(_residual, "parts"):
        _residual.parts = [layers.Conv2D(4, 3, padding="same", activation="relu", name="conv_a"),
                           layers.Conv2D(4, 3, padding="same", activation="relu", name="conv_b"),
                           layers.Add(name="add"), layers.GlobalAveragePooling2D(name="gap"),
                           layers.Dense(3, activation="softmax", name="probs")]
    conv_a, conv_b, add, gap, dense = _residual.parts
    inp = keras.Input((8, 8, 1))
    a = conv_a(inp)
    if scale is not None:
        a = layers.Lambda(lambda t: t * scale)(a)
    features = gap(add([a, conv_b(a)]))
    return keras.Model(inp, dense(features)), keras.Model(inp, features)


def test_influence_on_a_residual_model_is_the_derivative_of_scaling_the_map():
    """Gradient × activation summed over a map is d logit / d s at s = 1 for the map scaled by s: checked
    by central differences on a model whose branches merge (no chain)."""
    import keras

    from generator.features.role.influence_core import influence
    from generator.model import taps

    keras.utils.set_random_seed(5)
    model, _ = _residual()
    assert taps.chain(model) is None
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 8, 8, 1)).astype(np.float32), rng.integers(0, 3, 40)
    got = influence(model, ["conv_a"], x, y, 3)["conv_a"]          # (classes, maps)
    dense = _residual.parts[-1]

    def own_logit(scale):  # the class layer's output before its softmax, for each image's own class
        return (_residual(scale)[1].predict(x, verbose=0) @ dense.kernel.numpy() + dense.bias.numpy())[np.arange(len(x)), y]

    eps = 1e-3
    for m in (0, 2):
        up, down = np.ones(4, np.float32), np.ones(4, np.float32)
        up[m], down[m] = 1 + eps, 1 - eps
        d = (own_logit(up) - own_logit(down)) / (2 * eps)
        expected = np.array([d[y == k].mean() for k in range(3)])
        assert np.abs(expected).max() > 1e-2  # a real effect, not two zeros
        assert np.allclose(got[:, m], expected, rtol=2e-2, atol=1e-4), (m, got[:, m], expected)


def test_influence_of_the_hidden_dense_layer_on_the_seed_network_is_in_closed_form(tmp_path):
    """For Dense_1, the own-class logit's gradient is the class layer's weight column, so the influence is
    activation × that weight: computed here from Dense_1's output and Dense_2's kernel alone. On a model
    saved and loaded again, as a build has it (a loaded Sequential's graph is not the one it was built with)."""
    import keras

    from generator.features.role.influence_core import influence
    from generator.model.architecture import build_model

    keras.utils.set_random_seed(2)
    build_model().save(tmp_path / "seed.keras")
    model = keras.saving.load_model(tmp_path / "seed.keras", compile=False)
    x = np.random.default_rng(3).normal(size=(30, 28, 28, 1)).astype(np.float32)
    y = np.arange(30) % 10
    got = influence(model, ["Conv2D_3", "Dense_1"], x, y, 10)
    h = keras.Model(model.inputs, model.get_layer("Dense_1").output).predict(x, verbose=0)
    w = model.get_layer("Dense_2").kernel.numpy()
    share = h * w[:, y].T                                   # (images, nodes)
    expected = np.stack([share[y == k].mean(axis=0) for k in range(10)])
    assert got["Dense_1"].shape == (10, 100) and np.abs(expected).max() > 0
    assert np.allclose(got["Dense_1"], expected, rtol=1e-4, atol=1e-6)


def test_a_map_no_test_image_activates_shows_no_table_of_zeros(quick_site):
    """A silent or dead map's influence is exactly 0 for every class: a sentence says why, no bars, no
    'pushes most towards class 0 (+0.000)'."""
    pages = [p for p in sorted((quick_site / "layers").glob("*/map-*.html"))
             if re.search(r'<h1>.*?class="badge (silent|dead|failed)"', p.read_text(encoding="utf-8"))]
    assert pages, "the quick site has no silent or dead map to check"
    for page in pages:
        html = page.read_text(encoding="utf-8")
        influence = html.split('id="influence"')[1].split("<h2")[0]
        assert "has no influence to show: its activation is 0 on every test image" in influence, page
        assert "influence-bars" not in influence and "pushes most towards" not in influence, page
