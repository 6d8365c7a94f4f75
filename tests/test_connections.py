"""Connections: the weights shown in and out of a map are the model's summed kernel weights."""
from __future__ import annotations

import re

import numpy as np
import pytest


def _tables(html: str) -> list[list[tuple[str, float, str]]]:
    body = html.split('id="connections"')[1].split('class="muted"')[0]
    return [[(label.strip(), float(v), sign) for label, v, sign in
             re.findall(r'<td>(?:<a [^>]*>)?(?:<img [^>]*> )?([^<]+)(?:</a>)?</td>\s*<td class="n">([0-9.]+)</td><td>(\w+)</td>', t)]
            for t in body.split('<table class="connections')[1:]]


@pytest.fixture(scope="module")
def model(quick_site):
    import keras

    return keras.saving.load_model(sorted((quick_site.parent / "cache" / "model").glob("*.keras"))[-1], compile=False)


@pytest.mark.parametrize("m", [0, 17])
def test_strongest_inputs_and_outputs_of_a_conv2d_2_map(quick_site, model, m):
    inputs, outputs = _tables((quick_site / "layers" / "conv2d_2" / f"map-{m:03d}.html").read_text())
    k_in = model.get_layer("Conv2D_2").kernel.numpy()[:, :, :, m]      # (3, 3, 32)
    size = np.abs(k_in).sum(axis=(0, 1))
    best = int(np.argmax(size))
    assert inputs[0][0] == f"Conv2D_1 map {best}" and inputs[0][1] == pytest.approx(size[best], abs=5e-4)
    assert inputs[0][2] == ("excites" if k_in[:, :, best].sum() >= 0 else "inhibits")
    k_out = model.get_layer("Conv2D_3").kernel.numpy()[:, :, m, :]     # (3, 3, 128)
    size = np.abs(k_out).sum(axis=(0, 1))
    assert outputs[0][0] == f"Conv2D_3 map {int(np.argmax(size))}" and outputs[0][1] == pytest.approx(size.max(), abs=5e-4)


def test_last_conv_map_feeds_dense_nodes_through_the_flatten(quick_site, model):
    _, outputs = _tables((quick_site / "layers" / "conv2d_3" / "map-005.html").read_text())
    k = model.get_layer("Dense_1").kernel.numpy().reshape(-1, 128, 100)[:, 5, :]  # rows of channel 5
    size = np.abs(k).sum(axis=0)
    assert outputs[0][0] == f"Dense_1 node {int(np.argmax(size))}" and outputs[0][1] == pytest.approx(size.max(), abs=5e-4)
