"""Image-set pages: drawn grids show the right value in the right colour, comparisons are marked
right, and the quick site has a reachable page for every set, image and comparison."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from generator.features.sets import stage as image_set_stage
from generator.cache import Artifact, Store
from generator.config import Config
from generator.config.oip import OIPConfig
from generator.config.activations import ActivationsConfig, ComparisonConfig, ImageSetConfig
from generator.context import Build
from generator.data.dataset import Dataset, standardize
from generator.features.sets.image_sets import validate_sets
from generator.errors import UserError
from generator.features.sets import pages as section
from generator.pages import urls

SHOWN = ["Conv2D_1", "Max_Pool_1", "Conv2D_2", "Max_Pool_2", "Conv2D_3", "Dense_1", "Dense_2"]


def viridis(value: float, vmin: float, vmax: float) -> np.ndarray:
    """The colour map's RGB for a value under a (vmin, vmax) scale, straight from matplotlib."""
    from matplotlib import colormaps

    t = min(max((value - vmin) / (vmax - vmin), 0.0), 1.0)
    return np.round(np.asarray(colormaps["viridis"](t)[:3]) * 255).astype(int)


def make_build(tmp: Path, activations: ActivationsConfig, x_test: np.ndarray, y_test: np.ndarray,
               model=None, probs: np.ndarray | None = None) -> Build:
    rng = np.random.default_rng(0)
    x_train = rng.integers(0, 256, size=(20, 28, 28), dtype=np.uint8)
    dataset = Dataset("mnist", x_train, rng.integers(0, 10, 20).astype(np.uint8), x_test, y_test,
                      "made in the test", None, [str(d) for d in range(10)])
    build = Build(Config(activations=activations, oip=OIPConfig(layers=["Conv2D_1", "Conv2D_2", "Conv2D_3"])), tmp, Store(tmp / "cache", lambda m: None), dataset,
                  log=lambda m: None)
    build.model_info = {"mean": 30.0, "std": 80.0}
    build.weights_hash = "test"
    build._model = model
    if probs is None:
        probs = np.full((len(x_test), 10), 0.1, dtype=np.float32)
    build.results["evaluation"] = Artifact("evaluation-key", {"probs": probs}, {})
    return build


# (a) a value computed by hand, found in the drawn PNG in the colour of the page's shared scale ------

@pytest.fixture(scope="module")
def tiny_site(tmp_path_factory):
    """The seed network with seeded random weights, three images in two sets, drawn by the section."""
    import keras

    from generator.model.architecture import build_model

    keras.utils.set_random_seed(11)
    model = build_model()
    model.get_layer("Conv2D_1").bias.assign(np.linspace(-0.2, 0.4, 32).astype(np.float32))
    model.get_layer("Dense_1").bias.assign(np.linspace(-0.05, 0.1, 100).astype(np.float32))
    rng = np.random.default_rng(5)
    x_test = rng.integers(0, 256, size=(4, 28, 28), dtype=np.uint8)
    y_test = np.array([4, 4, 9, 1], dtype=np.uint8)
    cfg = ActivationsConfig(image_sets=[ImageSetConfig(name="fours", indices=[0, 1]),
                                        ImageSetConfig(name="nines", indices=[2])],
                            comparisons=[ComparisonConfig(a="fours", b="nines")])
    tmp = tmp_path_factory.mktemp("tiny-sets")
    build = make_build(tmp, cfg, x_test, y_test, model)
    build.run_stage(image_set_stage.STAGE)
    out = tmp / "site"
    section.draw(build, out)
    return build, model, out


def hand_conv(image: np.ndarray, kernel: np.ndarray, bias: float, i: int, j: int) -> float:
    patch = image[i:i + 3, j:j + 3, 0].astype(np.float64)
    return max(0.0, float((patch * kernel[:, :, 0].astype(np.float64)).sum()) + bias)


def set_page(build, slug: str):
    return next(p for p in section.pages(build) if p.url == urls.image_set(slug))


def test_drawn_conv_grid_pixel_is_the_hand_value_in_the_pages_colour(tiny_site):
    build, model, out = tiny_site
    image_no, map_no = 1, 13
    x = standardize(build.dataset.x_test, build.mean, build.std)
    kernel, bias = (np.asarray(w) for w in model.get_layer("Conv2D_1").get_weights())
    maps = np.array([[hand_conv(x[image_no], kernel[:, :, :, map_no], float(bias[map_no]), i, j)
                      for j in range(26)] for i in range(26)])
    i, j = np.unravel_index(np.argmax(maps), maps.shape)  # the brightest point: not a trivial zero
    value = maps[i, j]
    assert value > 0

    page = set_page(build, "fours")
    scale = {layer.name: (layer.vmin, layer.vmax) for layer in page.data.layers}["Conv2D_1"]
    # Raw scaling: 0 .. the largest Conv2D_1 value of every image the pages show, by hand as well.
    every = [hand_conv(x[n], kernel[:, :, :, m], float(bias[m]), a, b)
             for n in (0, 1, 2) for m in range(32) for a in range(26) for b in range(26)]
    assert scale[0] == 0.0 and scale[1] == pytest.approx(max(every), rel=1e-5)

    picture = np.asarray(Image.open(out / section.grid_asset(image_no, "Conv2D_1")).convert("RGB"))
    s = section.cell_scale((26, 26, 32))
    assert picture.shape == (4 * 26 * s + 3 * section.SEP, 8 * 26 * s + 7 * section.SEP, 3)
    row0, col0 = (map_no // 8) * (26 * s + section.SEP), (map_no % 8) * (26 * s + section.SEP)  # row 1, col 5
    block = picture[row0 + i * s: row0 + (i + 1) * s, col0 + j * s: col0 + (j + 1) * s].reshape(-1, 3)
    expected = viridis(value, *scale)
    assert (np.abs(block.astype(int) - expected) <= 1).all(), (block[0], expected)
    # the thin separators beside the map are the neutral gray
    assert tuple(picture[row0 - 1, col0 + 3]) == (128, 128, 128)
    assert tuple(picture[row0 + 3, col0 - 1]) == (128, 128, 128)


def test_drawn_dense_node_pixel_is_the_hand_value(tiny_site):
    build, model, out = tiny_site
    image_no, node = 2, None
    conv3 = build.results["sets"].arrays["set/nines/Conv2D_3"][0]
    weights, bias = (np.asarray(w, dtype=np.float64) for w in model.get_layer("Dense_1").get_weights())
    dense = np.maximum(0.0, conv3.reshape(-1).astype(np.float64) @ weights + bias)
    node = int(np.argmax(dense))
    page = set_page(build, "nines")
    scale = {layer.name: (layer.vmin, layer.vmax) for layer in page.data.layers}["Dense_1"]
    picture = np.asarray(Image.open(out / section.grid_asset(image_no, "Dense_1")).convert("RGB"))
    s = section.cell_scale((100,))
    assert picture.shape[:2] == (10 * s + 9 * section.SEP, 10 * s + 9 * section.SEP)  # a 10×10 grid
    r, c = divmod(node, 10)
    centre = picture[r * (s + section.SEP) + s // 2, c * (s + section.SEP) + s // 2]
    assert (np.abs(centre.astype(int) - viridis(dense[node], *scale)) <= 1).all()


def test_one_scale_per_layer_on_every_page(tiny_site):
    build, _, out = tiny_site
    pages = section.pages(build)
    scales = {tuple((l.name, l.vmin, l.vmax) for l in p.data.layers)
              for p in pages if hasattr(p.data, "layers") and isinstance(p.data.layers[0], section.LayerView)}
    assert len(scales) == 1  # set pages and image pages share each layer's scale
    comparison = next(p for p in pages if p.url == urls.comparison("fours", "nines"))
    assert [(r.layer.name, r.layer.vmin, r.layer.vmax) for r in comparison.data.layers] == list(scales.pop())
    # The layer's largest value over all images is drawn in the top colour, wherever it is.
    acts = build.results["sets"].arrays
    largest = max((acts[f"set/{s}/Conv2D_3"].max(), s) for s in ("fours", "nines"))
    top = viridis(1.0, 0.0, 1.0)
    index = int(acts[f"set/{largest[1]}/indices"][np.argmax(acts[f"set/{largest[1]}/Conv2D_3"].max(axis=(1, 2, 3)))])
    picture = np.asarray(Image.open(out / section.grid_asset(index, "Conv2D_3")).convert("RGB")).reshape(-1, 3)
    assert (np.abs(picture.astype(int) - top).max(axis=1) <= 1).any()


def test_npz_download_holds_the_raw_activations(tiny_site):
    build, _, out = tiny_site
    with np.load(out / section.download("fours")) as npz:
        assert npz["indices"].tolist() == [0, 1] and npz["labels"].tolist() == [4, 4]
        assert [name for name in npz.files if name not in ("indices", "labels")] == SHOWN
        assert npz["Conv2D_3"].shape == (2, 3, 3, 128) and npz["Dense_1"].shape == (2, 100)
        assert np.array_equal(npz["Conv2D_1"], build.results["sets"].arrays["set/fours/Conv2D_1"])


# (b) common / distinct marking of a constructed case, as computed and as drawn --------------------

def constructed_dense(monkeypatch, tmp_path):
    # Node values for images 0,1 (set A) and 2,3,4 (set B); layer max 10, threshold 0.5 -> above 5.
    a = np.array([[9.0, 8.0, 0.0, 7.0, 5.0, 6.0], [9.0, 1.0, 0.0, 6.0, 9.0, 6.0]])
    b = np.array([[0.0, 0.0, 10.0, 8.0, 0.0, 5.0], [0.0, 0.0, 9.0, 9.0, 0.0, 5.0],
                  [0.0, 0.0, 8.0, 6.0, 0.0, 0.0]])
    values = np.vstack([a, b]).astype(np.float32)

    def fake_activations(model, images, **kwargs):
        rows = [int(round(float(img[0, 0, 0]))) for img in images]  # the image number, see below
        return {"Dense_1": values[rows]}

    monkeypatch.setattr(image_set_stage, "layer_activations", fake_activations)
    monkeypatch.setattr(image_set_stage, "standardize",
                        lambda x, mean, std: np.asarray(x, dtype=np.float32)[..., None])
    x_test = np.zeros((5, 28, 28), dtype=np.uint8)
    x_test[:, 0, 0] = np.arange(5)  # image n carries its own number in pixel (0, 0)
    cfg = ActivationsConfig(image_sets=[ImageSetConfig(name="A", indices=[0, 1]),
                                        ImageSetConfig(name="B", indices=[2, 3, 4])],
                            comparisons=[ComparisonConfig(a="A", b="B")], threshold=0.5)
    build = make_build(tmp_path, cfg, x_test, np.array([4, 4, 9, 9, 9], dtype=np.uint8), model=object())
    build.run_stage(image_set_stage.STAGE)
    return build


def test_constructed_case_marks_and_lists_the_right_nodes(monkeypatch, tmp_path):
    build = constructed_dense(monkeypatch, tmp_path)
    arrays = build.results["sets"].arrays
    assert arrays["cmp/0/Dense_1/only_a"].tolist() == [True, False, False, False, False, True]
    assert arrays["cmp/0/Dense_1/only_b"].tolist() == [False, False, True, False, False, False]
    assert arrays["cmp/0/Dense_1/common"].tolist() == [False, False, False, True, False, False]
    page = next(p for p in section.pages(build) if p.url == urls.comparison("a", "b"))
    dense = page.data.layers[0]
    assert (dense.only_a, dense.only_b, dense.common, dense.points) == (2, 1, 1, 6)
    assert [u.number for u in dense.units_a] == [0, 5] and [u.number for u in dense.units_b] == [2]
    assert [u.number for u in dense.units_common] == [3]
    assert dense.cutoff == 5.0
    assert [u.number for u in dense.top] == [0, 2, 5]  # by_map's order: equal counts, larger mean gap first


def test_constructed_case_is_drawn_in_the_legend_colours(monkeypatch, tmp_path):
    build = constructed_dense(monkeypatch, tmp_path)
    out = tmp_path / "site"
    section.draw(build, out)
    picture = np.asarray(Image.open(out / section.overlay_asset("a", "b", "Dense_1")).convert("RGB"))
    s = section.cell_scale((6,))

    def node(k):
        return tuple(int(v) for v in picture[s // 2, k * (s + section.SEP) + s // 2])

    assert node(0) == node(5) == section.COLOURS["only_a"]
    assert node(2) == section.COLOURS["only_b"]
    assert node(3) == section.COLOURS["common"]
    for k in (1, 4):  # unmarked: a gray (r = g = b), darker for a larger mean activation
        assert len(set(node(k))) == 1
    assert node(4)[0] < node(1)[0]  # node 4 means 2.8 over both sets, node 1 1.8


def test_duplicate_comparison_is_a_user_error(tmp_path):
    cfg = ActivationsConfig(image_sets=[ImageSetConfig(name="A", indices=[0]), ImageSetConfig(name="B", indices=[1])],
                            comparisons=[ComparisonConfig(a="A", b="B"), ComparisonConfig(a="A", b="B")])
    with pytest.raises(UserError, match="a second time"):
        validate_sets(cfg)  # part of the config check, before any work


def test_image_listed_twice_is_a_user_error(tmp_path):
    cfg = ActivationsConfig(image_sets=[ImageSetConfig(name="A", indices=[1, 0, 1])])
    with pytest.raises(UserError, match="lists test image 1 more than once"):
        validate_sets(cfg)


def test_section_is_off_without_sets_and_map_links_need_the_gallery(tmp_path, monkeypatch):
    build = make_build(tmp_path, ActivationsConfig(), np.zeros((2, 28, 28), np.uint8), np.array([0, 1], np.uint8))
    build.run_stage(image_set_stage.STAGE)
    assert not section.SECTION.enabled(build)
    from generator import registry

    monkeypatch.setattr(registry, "FEATURES", [m for m in registry.FEATURES if m != "generator.features.patterns"])
    assert section.layers_linked(build) is False


def test_maps_link_to_the_oip_gallery_only_when_it_is_built(tiny_site, monkeypatch):
    import sys
    import types

    from generator import registry

    build, _, _ = tiny_site
    gallery = types.ModuleType("generator.features.patterns.pages")
    gallery.SECTION = types.SimpleNamespace(name="layers", enabled=lambda b: True)
    monkeypatch.setitem(sys.modules, "generator.features.patterns.pages", gallery)

    def comparison_rows(features):
        monkeypatch.setattr(registry, "FEATURES", features)
        page = next(p for p in section.pages(build) if p.url == urls.comparison("fours", "nines"))
        return {r.layer.name: r for r in page.data.layers}

    rows = comparison_rows(["generator.features.patterns", "generator.features.sets"])
    linked = [name for name, r in rows.items() if any(u.url for u in r.top)]
    assert linked and set(linked) <= set(build.cfg.oip.layers)
    for name in linked:
        assert all(u.url == urls.map_page(name, u.number) for u in rows[name].top)
        assert all(u.url == urls.map_page(name, u.number) for u in rows[name].units_a + rows[name].units_b)
    assert all(u.url is None for name in ("Max_Pool_1", "Dense_1") for u in rows[name].top)
    rows = comparison_rows(["generator.features.sets"])
    assert all(u.url is None for r in rows.values() for u in r.top)


# (c) the quick site ------------------------------------------------------------------------------

def _hrefs(html: str) -> set[str]:
    return set(re.findall(r'href="([^"#]+)', html))


def test_every_set_image_and_comparison_has_a_page_reachable_from_the_index(quick_site):
    index = (quick_site / "index.html").read_text()
    assert "sets/index.html" in _hrefs(index)
    sets_index = (quick_site / "sets" / "index.html").read_text()
    links = _hrefs(sets_index)
    for slug in ("clear-4s", "clear-9s"):
        assert f"{slug}/index.html" in links
        set_html = (quick_site / "sets" / slug / "index.html").read_text()
        images = sorted(set(re.findall(r'href="(image-\d{5}\.html)"', set_html)))
        assert len(images) == 3
        assert all(f"{slug}/{page}" in links for page in images)
        for page in images:
            assert (quick_site / "sets" / slug / page).is_file()
        first = (quick_site / "sets" / slug / images[0]).read_text()
        assert 'rel="next"' in first and "Conv2D_3" in first and "Dense_1" in first
    assert "../compare/clear-4s-vs-clear-9s.html" in links
    comparison = (quick_site / "compare" / "clear-4s-vs-clear-9s.html").read_text()
    for layer in SHOWN:
        assert f'href="#layer-{layer.lower()}"' in comparison
    assert "only for Clear 4s" in comparison and "only for Clear 9s" in comparison


def test_quick_site_grid_pixels_match_the_downloaded_activations(quick_site):
    """The drawn Conv2D_3 grid shows the .npz values in the colours of the page's scale."""
    html = (quick_site / "sets" / "clear-4s" / "index.html").read_text()
    scales = dict(zip(re.findall(r'<section class="layer-block" id="layer-([a-z0-9_]+)"', html),
                      re.findall(r'data-vmin="([^"]+)" data-vmax="([^"]+)"', html)))
    vmin, vmax = (float(v) for v in scales["conv2d_3"])
    with np.load(quick_site / "sets" / "clear-4s" / "activations.npz") as npz:
        conv3, index = npz["Conv2D_3"][0], int(npz["indices"][0])
    i, j, m = np.unravel_index(np.argmax(conv3), conv3.shape)
    s = section.cell_scale(conv3.shape)
    picture = np.asarray(Image.open(quick_site / section.grid_asset(index, "Conv2D_3")).convert("RGB"))
    row0, col0 = (m // 8) * (3 * s + section.SEP), (m % 8) * (3 * s + section.SEP)
    pixel = picture[row0 + i * s + s // 2, col0 + j * s + s // 2]
    assert (np.abs(pixel.astype(int) - viridis(conv3[i, j, m], vmin, vmax)) <= 1).all()
