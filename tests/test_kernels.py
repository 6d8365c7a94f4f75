"""The first layer's kernels beside its maps' patterns: the numbers and colours are the model's weights."""
from __future__ import annotations

import re

import numpy as np
import pytest
from matplotlib import colormaps
from PIL import Image

from generator.features.patterns import kernels, kernels_panels


@pytest.fixture(scope="module")
def weights(quick_site):
    import keras

    model_file = sorted((quick_site.parent / "cache" / "model").glob("*.keras"))[-1]
    layer = keras.saving.load_model(model_file, compile=False).get_layer("Conv2D_1")
    return layer.kernel.numpy(), layer.bias.numpy()


def _table(html: str) -> np.ndarray:
    body = html.split('class="kernel-weights"')[1].split("</table>")[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body)
    return np.array([[float(v.replace("−", "-")) for v in re.findall(r'<td class="n">([−+0-9.]+)</td>', r)] for r in rows])


def _signed(v: float) -> str:
    """How the page writes a weight: sign, three decimals, the typographic minus, 0.000 unsigned."""
    text = f"{round(float(v), 3) + 0.0:+.3f}"
    return "0.000" if text in ("+0.000", "-0.000") else text.replace("-", "−")


@pytest.mark.parametrize("m", [0, 7, 31])
def test_panel_shows_the_models_weights_and_bias(quick_site, weights, m):
    kernel, bias = weights
    html = (quick_site / "layers" / "conv2d_1" / f"map-{m:03d}.html").read_text()
    np.testing.assert_allclose(_table(html), kernel[:, :, 0, m], atol=5e-4)
    assert f"<dt>bias</dt><dd>{_signed(bias[m])}</dd>" in html
    assert f"<dt>sum of weights</dt><dd>{_signed(kernel[:, :, 0, m].sum())}</dd>" in html
    # the panel sits beside the patterns: before "How the patterns grew"
    assert html.index('id="kernel"') < html.index("How the patterns grew")


def test_kernel_picture_colours_each_weight_on_one_layer_wide_scale(quick_site, weights):
    kernel, _ = weights
    top = np.abs(kernel).max()
    for m in (0, 12):
        pixels = np.asarray(Image.open(quick_site / f"layers/conv2d_1/img/map-{m:03d}-kernel.png").convert("RGB"))
        assert pixels.shape == (3, 3, 3)
        expected = colormaps[kernels.CMAP]((kernel[:, :, 0, m] / top + 1) / 2)[..., :3] * 255
        assert np.abs(pixels.astype(float) - expected).max() <= 1.0


def test_only_the_first_layer_gets_the_panel(quick_site):
    assert 'id="kernel"' not in (quick_site / "layers" / "conv2d_2" / "map-000.html").read_text()


def test_reading_says_which_uniform_image_wins():
    assert "brightest" in kernels_panels._reading(1.0, 1.0)
    assert "darkest" in kernels_panels._reading(-1.0, 1.0)
    assert "cancel" in kernels_panels._reading(0.1, 1.0)
