"""Any Keras image classifier and any image data set, end to end: small models made here, saved as
.keras files, small npz data sets, a gallery built by the CLI (`python -m generator build`, its main()
called in this process) for each, and its pages checked (one map page per map of every map layer, every
link resolving, the model's own layer names). Each build takes seconds: few ascent steps, one noise
scale, small or no dreams."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import run_here
from linkcheck import broken_links


FAST = {"oip": {"steps": 4, "noise_scales": [1], "node_steps": 2, "snapshots": 2, "top_images": 2},
        "dreams": {"picture_size": 48, "count": 1, "rounds": 1, "steps": 2, "tiles": 1, "tiled": False,
                   "octaves": 1, "octave_steps": 1, "tile_size": 48}}

NO_DREAMS = {"enabled": False}


def _data(path: Path, shape: tuple, classes: int, floats: bool, n_train: int = 200, n_test: int = 100) -> Path:
    """Images with a class-dependent bright square, so a model can tell the classes apart."""
    rng = np.random.default_rng(0)

    def make(n):
        y = np.arange(n) % classes
        x = rng.uniform(0, 0.3, (n,) + shape).astype(np.float32)
        side = shape[0] // classes
        for i, label in enumerate(y):
            x[i, label * side:(label + 1) * side, :] = 1.0
        return (x if floats else np.round(x * 255).astype(np.uint8)), y.astype(np.uint8)

    x_train, y_train = make(n_train)
    x_test, y_test = make(n_test)
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return path


def _fit_and_save(model, path: Path, data: Path, logits: bool = False) -> Path:
    import keras

    with np.load(data) as d:
        x = d["x_train"].astype("float32")
        x = x / 255.0 if d["x_train"].dtype == np.uint8 else x
        y = d["y_train"].astype("int32")
    x = (x * 255.0 - x.mean() * 255.0) / (x.std() * 255.0)
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=logits))
    model.fit(x.reshape((len(x),) + tuple(model.inputs[0].shape[1:])), y, epochs=1, batch_size=50, verbose=0)
    model.save(path)
    return path


def functional_bn(shape=(28, 28, 1), classes=10):
    import keras
    from keras import layers

    inp = keras.Input(shape, name="pixels")
    x = layers.Conv2D(8, 3, name="stem")(inp)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.Activation("relu", name="stem_relu")(x)
    x = layers.MaxPooling2D(name="pool")(x)
    x = layers.Conv2D(8, 3, activation="relu", name="block1_conv")(x)
    x = layers.Dropout(0.2, name="drop")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dense(16, activation="relu", name="hidden")(x)
    out = layers.Dense(classes, activation="softmax", name="scores")(x)
    return keras.Model(inp, out, name="functional_bn")


def logits_model(shape=(20, 20, 1), classes=4):
    """Logits out, and the other map layers: a separable and a depthwise branch joined by Concatenate."""
    import keras
    from keras import layers

    inp = keras.Input(shape, name="gray")
    x = layers.Conv2D(6, 3, activation="relu", name="c1")(inp)
    sep = layers.SeparableConv2D(4, 3, padding="same", activation="relu", name="sep")(x)
    depth = layers.DepthwiseConv2D(3, padding="same", activation="relu", name="depth")(x)
    x = layers.Concatenate(name="joined")([sep, depth])
    x = layers.AveragePooling2D(2, name="avg")(x)
    x = layers.Conv2D(6, 3, activation="relu", name="c2")(x)
    out = layers.Dense(classes, name="logits")(layers.Flatten(name="flat")(x))
    return keras.Model(inp, out, name="logits_cnn")


def residual_rgb(shape=(32, 32, 3), classes=10):
    import keras
    from keras import layers

    inp = keras.Input(shape, name="rgb")
    x = layers.Conv2D(8, 3, padding="same", activation="relu", name="conv_a")(inp)
    y = layers.Conv2D(8, 3, padding="same", activation="relu", name="conv_b")(x)
    x = layers.Add(name="residual")([x, y])
    x = layers.MaxPooling2D(name="pool")(x)
    x = layers.Conv2D(8, 3, activation="relu", name="conv_c")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    out = layers.Dense(classes, activation="softmax", name="probs")(x)
    return keras.Model(inp, out, name="residual_rgb")


def _build(tmp_path: Path, model_file: Path, data_file: Path, extra: dict | None = None, command: str = "build"):
    cfg = {"seed": 3, "data": {"dataset": "custom", "path": str(data_file)}, "model": {"path": str(model_file)},
           **json.loads(json.dumps(FAST))}
    for key, value in (extra or {}).items():
        cfg[key] = {**cfg.get(key, {}), **value}
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(cfg))
    site = tmp_path / "site"
    if command == "check":
        return run_here("check", "--config", str(config)), site
    result = run_here("build", "--config", str(config), "--out", str(site), "--cache", str(tmp_path / "cache"))
    return result, site


def _check_gallery(result, site: Path, model_file: Path) -> None:
    import keras

    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert broken_links(site) == []
    model = keras.models.load_model(model_file)
    convs = [lay for lay in model.layers if lay.__class__.__name__ in ("Conv2D", "SeparableConv2D", "DepthwiseConv2D")]
    pages = {p.relative_to(site).as_posix() for p in site.rglob("*.html")}
    for lay in convs:
        maps = [p for p in pages if f"/{lay.name}/" in f"/{p}" and p.rsplit("/", 1)[-1].startswith("map")]
        assert len(maps) == lay.output.shape[-1], (lay.name, sorted(pages)[:40])
    text = "".join(p.read_text() for p in site.rglob("*.html"))
    assert "Conv2D_1" not in text and "Dense_2" not in text


@pytest.mark.site
def test_functional_model_with_other_names_and_batchnorm(tmp_path):
    data = _data(tmp_path / "d.npz", (28, 28), 10, floats=False, n_test=50)  # fewer mistakes to explain
    model = _fit_and_save(functional_bn(), tmp_path / "m.keras", data)
    result, site = _build(tmp_path, model, data)
    _check_gallery(result, site, model)


@pytest.mark.site
def test_logits_model_float_data_four_classes_separable_and_concatenate(tmp_path):
    data = _data(tmp_path / "d.npz", (20, 20), 4, floats=True)
    model = _fit_and_save(logits_model(), tmp_path / "m.keras", data, logits=True)
    result, site = _build(tmp_path, model, data, {"data": {"class_names": ["top", "upper", "lower", "bottom"]},
                                                  "dreams": NO_DREAMS})
    _check_gallery(result, site, model)
    assert "bottom" in (site / "index.html").read_text() or any("bottom" in p.read_text() for p in site.rglob("*.html"))


RGB_DREAMS = {"tiled": True, "tiles": 2, "tiled_steps": 1, "layer_dreams": [{"name": "sum", "layers": {"residual": 1.0}}]}


@pytest.mark.site
def test_rgb_residual_model(tmp_path):
    from PIL import Image

    data = _data(tmp_path / "d.npz", (32, 32, 3), 10, floats=False)
    model = _fit_and_save(residual_rgb(), tmp_path / "m.keras", data)
    result, site = _build(tmp_path, model, data, {"dreams": RGB_DREAMS})
    _check_gallery(result, site, model)  # every link of every page resolves, the dream pages' too
    pattern = next((site / "layers").rglob("map-000-s0.png"))
    assert Image.open(pattern).mode == "RGB"  # a colour model's patterns are drawn in colour
    # Ablation inside a branching model: the graph rerun with the map switched off, checked against a copy
    # of the model whose kernel and bias for that map are zero (so the map is 0 after its ReLU), evaluated here.
    _check_ablation_by_zeroed_weights(site, model, data, "conv_b", 0)
    # Its patterns are in their own colours: no viridis pixel scale beside them, the words instead.
    for page in (site / "layers" / "conv_b" / "index.html", site / "layers" / "conv_b" / "map-000.html"):
        html = page.read_text()
        assert "colorbar-pixels.png" not in html and "in their own colours" in html, page
    # An RGB model dreams in RGB: the 48 px picture (dreams.picture_size), carving on the model's 32×32
    # input (shown 5× larger), the tiled dream on 2×2 tiles of 32×32 (3×), a layer dream at 48 px.
    dreams = site / "dreams"
    carve, tiled = (next(dreams.glob(f"{kind}-conv_c-map-*.html")) for kind in ("carve", "tiled"))
    assert sorted(p.name for p in dreams.glob("*.html")) == sorted(["index.html", "layer-sum.html", carve.name,
                                                                   tiled.name])
    expected = {"picture.png": (48, 48), "layer-sum/o0.png": (48, 48), "layer-sum/final.png": (48, 48)}
    for page, small, scale in ((carve, 32, 5), (tiled, 64, 3)):
        folder = page.stem
        expected.update({f"{folder}/r0-pattern.png": (small * scale,) * 2, f"{folder}/r0-gray.png": (small * scale,) * 2,
                         f"{folder}/r0-result.png": (48, 48), f"{folder}/final.png": (48, 48),
                         f"{folder}/thumb.png": (128, 128)})
    for name, size in expected.items():
        with Image.open(dreams / "img" / name) as picture:
            assert (picture.format, picture.mode, picture.size) == ("PNG", "RGB", size), name
            rgb = np.asarray(picture, np.int64)
            assert np.abs(rgb - rgb[..., :1]).max() > 10, name  # colour, not gray drawn as RGB
    text = carve.read_text()
    assert "dreamt 32×32" in text and "mean of the three channels" in text and "28×28" not in text


def _check_ablation_by_zeroed_weights(site: Path, model_file: Path, data: Path, layer: str, m: int) -> None:
    import html
    import re

    import keras

    text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", (site / "layers" / layer / f"map-{m:03d}.html").read_text())))
    stated = float(re.search(rf"With map {m} set to 0, test accuracy is ([\d.]+) %", text).group(1))
    recipe = json.loads((site / "model" / "standardization.json").read_text())
    model = keras.saving.load_model(model_file)
    kernel, bias = model.get_layer(layer).get_weights()
    kernel[..., m], bias[m] = 0.0, 0.0
    model.get_layer(layer).set_weights([kernel, bias])
    with np.load(data) as d:
        x = (d["x_test"].astype(np.float32) - np.float32(recipe["mean"])) / np.float32(recipe["std"])
        y = d["y_test"].astype(np.int64)
    predicted = model.predict(x.reshape((len(x),) + tuple(model.inputs[0].shape[1:])), verbose=0).argmax(axis=1)
    assert abs(stated - 100 * np.mean(predicted == y)) < 0.01, (stated, 100 * np.mean(predicted == y))


def test_chunk_of_rows_follows_the_memory_a_row_needs():
    import keras

    from generator.ascent import render
    from generator.model.architecture import build_model

    assert render.chunk_rows(build_model(), ["Conv2D_3"]) == render.MAX_CHUNK  # the seed: unchanged
    big = keras.Sequential([keras.Input((64, 64, 3)), keras.layers.Conv2D(64, 3, padding="same", name="wide"),
                            keras.layers.Conv2D(4, 3, name="narrow")])
    rows = render.chunk_rows(big, ["narrow"])
    assert rows == render.CHUNK_BYTES // (4 * 64 * 64 * 64) < render.MAX_CHUNK


def test_separable_and_depthwise_maps_get_oips():
    import keras

    from generator.features.patterns import oip_engine
    from generator.config.oip import OIPConfig

    model = keras.Sequential([keras.Input((16, 16, 3)),
                              keras.layers.SeparableConv2D(4, 3, activation="relu", name="sep"),
                              keras.layers.DepthwiseConv2D(3, activation="relu", name="dw"),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(3, name="out")])
    cfg = OIPConfig(steps=3, noise_scales=[1], snapshots=2)
    for name, maps in (("sep", 4), ("dw", 4)):
        res = oip_engine.layer_oips(model, name, cfg, (-1.0, 1.0), seed=1)
        assert res["patterns"].shape == (maps, 1, 16, 16, 3) and np.isfinite(res["final"]).all()


def test_the_own_model_example_config_loads():
    from generator.config import load_config

    cfg = load_config(Path(__file__).resolve().parent.parent / "configs" / "own-model.yaml")
    assert cfg.model.path and cfg.data.path and cfg.oip.layers is None and cfg.dreams.layer is None


def test_a_layer_the_model_does_not_have_is_one_line_at_check(tmp_path):
    data = _data(tmp_path / "d.npz", (28, 28), 10, floats=False)
    model = functional_bn()
    model.save(tmp_path / "m.keras")
    for extra, line in (({"oip": {"layers": ["Conv2D_1"]}},
                         "error: oip.layers: unknown layer 'Conv2D_1' (choose from stem, block1_conv)"),
                        ({"dreams": {"layer": "hidden"}},
                         "error: dreams.layer: unknown layer 'hidden' (choose from stem, block1_conv)")):
        result, _ = _build(tmp_path, tmp_path / "m.keras", data, extra, command="check")
        assert result.returncode != 0 and result.stderr.strip().splitlines() == [line], result.stderr
