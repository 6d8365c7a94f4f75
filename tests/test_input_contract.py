"""The input contract: a loaded model is fed what it was trained on, and the model card proves it.

Models are made here the ways users make them: a Keras-tutorial CNN with augmentation and a
Rescaling layer inside, trained on raw 0..255 pixels; one with a Normalization layer adapted to the
raw pixels, trained on one-hot labels. For each, a small gallery is built and
- the model card names the contract the build detected, and its accuracy equals Keras's own
  `evaluate` of the saved model on the same images fed that way (computed here, not by the gallery);
- an OIP's pattern, read from the page's download on the pixel scale and fed to the model through the
  contract by this test, gives the activation the page states: the pictures are drawn back through
  the same contract the model was fed by.
"""
from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np
import pytest

from test_any_model import NO_DREAMS, _build, _data
from test_findings import check_findings

CONTRACT_FILE = "model/standardization.json"


def _raw_trained(model, data: Path, path: Path, one_hot: bool = False) -> Path:
    """Fit on the stored pixels as they are (0..255), as the Keras tutorials do."""
    import keras

    with np.load(data) as d:
        x, y = d["x_train"].astype("float32")[..., None], d["y_train"].astype("int32")
    loss = "categorical_crossentropy" if one_hot else "sparse_categorical_crossentropy"
    model.compile(keras.optimizers.Adam(3e-3), loss)
    model.fit(x, keras.utils.to_categorical(y, 10) if one_hot else y, epochs=3, batch_size=32, verbose=0)
    model.save(path)
    return path


def tutorial_model():
    import keras
    from keras import layers

    return keras.Sequential([keras.Input((28, 28, 1)), layers.RandomTranslation(0.05, 0.05, name="shift"),
                             layers.Rescaling(1 / 255, name="scale"),
                             layers.Conv2D(8, 3, activation="relu", name="conv_a"), layers.MaxPooling2D(name="pool"),
                             layers.Conv2D(8, 3, activation="relu", name="conv_b"), layers.Flatten(name="flat"),
                             layers.Dense(10, activation="softmax", name="probs")], name="tutorial")


def normalization_model(x_train: np.ndarray):
    import keras
    from keras import layers

    norm = layers.Normalization(axis=None, name="norm")
    norm.adapt(x_train.astype("float32")[..., None])
    return keras.Sequential([keras.Input((28, 28, 1)), norm, layers.Conv2D(8, 3, activation="relu", name="conv_a"),
                             layers.MaxPooling2D(name="pool"), layers.Conv2D(8, 3, activation="relu", name="conv_b"),
                             layers.Flatten(name="flat"), layers.Dense(10, activation="softmax", name="probs")],
                            name="normed")


def _text(page: Path) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page.read_text())))


def _card(site: Path) -> dict:
    text = _text(site / "index.html")
    found = re.search(r"Test accuracy ([\d.]+) % counted by the gallery; ([\d.]+) % by Keras", text)
    contract = re.search(r"Input (\w+): ", text)
    return {"gallery": float(found.group(1)), "keras": float(found.group(2)), "contract": contract.group(1),
            "text": text}


def _keras_accuracy(model_file: Path, x: np.ndarray, y: np.ndarray) -> float:
    import keras

    model = keras.saving.load_model(model_file)
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return 100 * model.evaluate(x, y, verbose=0)[1]


def _check_oip_through_contract(site: Path, slug: str, sub, to_model) -> None:
    """The page's pattern for map 0 of the layer `sub` ends at, fed through the contract by this test
    (to_model: stored pixels -> the model's input), gives the page's stated activation."""
    page = site / "layers" / slug / "map-000.html"
    stated = re.search(r"Final mean activation from each of the \d+ starts?[^:]*: ([-\d.e, ]+)", _text(page))
    values = [float(v) for v in stated.group(1).replace(" ", "").strip(",").split(",") if v]
    patterns = np.load(site / "layers" / slug / "data" / "map-000-patterns.npy")  # starts × H × W, 0..255
    x = to_model(patterns.reshape((len(patterns),) + tuple(sub.inputs[0].shape[1:])).astype(np.float32))
    measured = np.asarray(sub(x, training=False))[..., 0].mean(axis=(1, 2))
    np.testing.assert_allclose(measured, values, rtol=2e-3, atol=2e-3)


def _layer_model(model_file: Path, *path: str):
    """A model from the saved model's input to a layer's output; path: nested model names, then the layer."""
    import keras

    model = keras.saving.load_model(model_file)
    inner = model
    for name in path:
        inner = inner.get_layer(name)
    return keras.Model(model.inputs, inner.output) if len(path) == 1 else _nested(model, path)


def _nested(model, path):
    import keras

    base = model.get_layer(path[0])
    return keras.Model(base.inputs, base.get_layer(path[1]).output)  # the base is the model's first layer


@pytest.mark.site
def test_tutorial_model_with_rescaling_inside_is_fed_raw_pixels(tmp_path):
    data = _data(tmp_path / "d.npz", (28, 28), 10, floats=False, n_train=300, n_test=60)
    model_file = _raw_trained(tutorial_model(), data, tmp_path / "m.keras")
    result, site = _build(tmp_path, model_file, data, {"dreams": NO_DREAMS})
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert "input contract raw" in result.stdout, result.stdout[-3000:]
    card = _card(site)
    with np.load(data) as d:
        x_raw, y = d["x_test"].astype(np.float32)[..., None], d["y_test"].astype(np.int64)
    expected = _keras_accuracy(model_file, x_raw, y)
    assert card["contract"] == "raw"
    assert abs(card["gallery"] - expected) <= 0.1 and abs(card["keras"] - expected) <= 0.1, (card, expected)
    assert expected > 50  # the task is learnt: a wrong contract could not score this
    assert "scale (Rescaling: × 0.003922, + 0)" in card["text"] and "inactive at inference" in card["text"]
    _check_oip_through_contract(site, "conv_b", _layer_model(model_file, "conv_b"), lambda p: p)  # raw: as stored
    # the ascent climbs on raw pixels too (its step is in standard deviations of the pixels, not in raw units,
    # where 0.05 moved nothing): the best start of a typical conv_a map gains over a tenth in 4 steps
    gains = [float((c[:, -1] / np.maximum(c[:, 0], 1e-6)).max())
             for c in map(np.load, sorted((site / "layers" / "conv_a" / "data").glob("map-*-curves.npy")))]
    assert np.median(gains) > 1.1, gains
    # the second model the findings' rules meet (the seed network's are in test_findings.py)
    found = check_findings(site, model_file, x_raw, y, [str(d) for d in range(10)])
    assert found, "no findings on the index"
    contract = (site / CONTRACT_FILE).read_text()
    assert '"input_contract": "raw"' in contract


@pytest.mark.site
def test_normalization_layer_model_and_one_hot_labels(tmp_path):
    data = _data(tmp_path / "d.npz", (28, 28), 10, floats=False, n_train=300, n_test=60)
    with np.load(data) as d:
        arrays = dict(d)
    y_int = arrays["y_test"].astype(np.int64)
    one_hot = tmp_path / "one-hot.npz"
    np.savez(one_hot, x_train=arrays["x_train"], x_test=arrays["x_test"],
             y_train=np.eye(10, dtype=np.float32)[arrays["y_train"]], y_test=np.eye(10, dtype=np.float32)[y_int])
    model_file = _raw_trained(normalization_model(arrays["x_train"]), data, tmp_path / "m.keras", one_hot=True)
    check, _ = _build(tmp_path, model_file, one_hot, {"dreams": NO_DREAMS}, command="check")
    assert check.returncode == 0, check.stderr
    result, site = _build(tmp_path, model_file, one_hot, {"dreams": NO_DREAMS})
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    card = _card(site)
    expected = _keras_accuracy(model_file, arrays["x_test"].astype(np.float32)[..., None], y_int)
    assert card["contract"] == "raw" and abs(card["gallery"] - expected) <= 0.1 and expected > 50, (card, expected)
    assert "test labels were one-hot (60×10); read as class numbers" in card["text"]
    assert "norm (Normalization: mean" in card["text"]
    _check_oip_through_contract(site, "conv_a", _layer_model(model_file, "conv_a"), lambda p: p)


def _dataset(x_test: np.ndarray, y_test: np.ndarray, x_train: np.ndarray):
    from generator.data.dataset import Dataset

    return Dataset("custom", x_train, np.zeros(len(x_train), np.int64), x_test, y_test, "test", None,
                   [str(i) for i in range(int(y_test.max()) + 1)])


def test_a_model_blind_to_the_pixel_scale_ties_and_the_build_says_which_it_took():
    """LayerNormalization over the whole image first: every contract (an affine map with a positive
    scale) gives the same predictions, so the slice cannot decide; the first candidate is taken and
    the reason says so."""
    import keras
    from keras import layers

    from generator.model import input_contract

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((12, 12, 1)), layers.LayerNormalization(axis=[1, 2, 3], epsilon=1e-9),
                              layers.Conv2D(4, 3, activation="relu"), layers.GlobalAveragePooling2D(),
                              layers.Dense(3, activation="softmax")])
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (90, 12, 12)).astype(np.uint8)
    y = rng.integers(0, 3, 90)
    lines = []
    contract = input_contract.detect(model, _dataset(x, y, x), log=lines.append)
    assert len(set(contract.tried.values())) == 1, contract.tried
    assert contract.name == input_contract.CANDIDATES[0] == "standardize"
    assert "as accurate" in contract.how and "cannot decide" in contract.how and "took standardize" in contract.how
    assert any("input contract standardize" in line for line in lines)


def test_contracts_map_pixels_as_they_say():
    from generator.model import input_contract

    pixels = np.array([[[0, 127.5, 255]]], np.float32)  # (1, 1, 3) gray pixels
    ds = _dataset(pixels.astype(np.uint8), np.zeros(1, np.int64), pixels.astype(np.uint8))
    expect = {"raw": [0, 127.5, 255], "unit": [0, 0.5, 1], "symmetric": [-1, 0, 1]}
    for name, values in expect.items():
        got = input_contract.to_model(pixels, input_contract.candidate(name, ds))
        np.testing.assert_allclose(got[0, 0, :, 0], values, atol=1e-6)


def test_a_model_near_chance_under_every_contract_is_warned_of():
    import keras
    from keras import layers

    from generator.model import input_contract

    model = keras.Sequential([keras.Input((12, 12, 1)), layers.Conv2D(2, 3), layers.GlobalAveragePooling2D(),
                              layers.Dense(3, activation="softmax", kernel_initializer="zeros")])
    x = np.random.default_rng(1).integers(0, 256, (90, 12, 12)).astype(np.uint8)
    y = np.arange(90) % 3  # the model always says class 0: a third right, as guessing the commonest class
    lines = []
    contract = input_contract.detect(model, _dataset(x, y, x), log=lines.append)
    assert "at most 33.3 %" in contract.warning and "guessing the commonest class gives 33.3 %" in contract.warning
    assert any(line.startswith("warning: the model reaches at most") for line in lines)


@pytest.mark.site
def test_binary_sigmoid_model(tmp_path):
    """One sigmoid unit: two classes on the pages, and the card's accuracy is Keras's binary accuracy."""
    import keras
    from keras import layers

    data = _data(tmp_path / "d.npz", (28, 28), 2, floats=False, n_train=200, n_test=60)
    model = keras.Sequential([keras.Input((28, 28, 1)), layers.Rescaling(1 / 255, name="scale"),
                              layers.Conv2D(4, 3, activation="relu", name="conv_a"), layers.MaxPooling2D(name="pool"),
                              layers.Flatten(name="flat"), layers.Dense(1, activation="sigmoid", name="p")])
    with np.load(data) as d:
        x, y = d["x_train"].astype("float32")[..., None], d["y_train"].astype("float32")
        x_test, y_test = d["x_test"].astype("float32")[..., None], d["y_test"].astype(np.int64)
    model.compile(keras.optimizers.Adam(3e-3), "binary_crossentropy", metrics=["binary_accuracy"])
    model.fit(x, y, epochs=3, batch_size=32, verbose=0)
    model.save(tmp_path / "m.keras")
    expected = 100 * keras.saving.load_model(tmp_path / "m.keras").evaluate(x_test, y_test, verbose=0)[1]
    # Two bands are told apart on any pixel scale (the slice ties): the config names the contract.
    given = {"dreams": NO_DREAMS, "model": {"input": "raw"}}
    check, _ = _build(tmp_path, tmp_path / "m.keras", data, given, command="check")
    assert check.returncode == 0, check.stderr
    result, site = _build(tmp_path, tmp_path / "m.keras", data, given)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    card = _card(site)
    assert "given in the config (model.input)" in card["text"]
    assert card["contract"] == "raw" and abs(card["gallery"] - expected) <= 0.1 and abs(card["keras"] - expected) <= 0.1
    assert "shown as two classes" in card["text"], card["text"][:3000]
    _check_oip_through_contract(site, "conv_a", _layer_model(tmp_path / "m.keras", "conv_a"), lambda p: p)


def test_the_ascent_step_follows_the_contract(tmp_path):
    """oip.step_size is in standard deviations of the training pixels: the same climb per step whatever
    the model is fed, and exactly the configured step for the standardized seed network."""
    from generator.cache import Store
    from generator.config import Config
    from generator.context import Build

    x = np.random.default_rng(0).integers(0, 256, (50, 12, 12)).astype(np.uint8)
    ds = _dataset(x, np.zeros(50, np.int64), x)
    build = Build(Config(), tmp_path, Store(tmp_path / "cache", print), ds)
    for std, scale in (([ds.std], 1.0), ([1.0], ds.std), ([255.0], ds.std / 255), ([127.5], ds.std / 127.5)):
        build.model_info = {"mean": [0.0], "std": std}
        assert build.step_scale == pytest.approx(scale, rel=1e-12)
        assert build.ascent(build.cfg.oip).step_size == pytest.approx(0.05 * scale, rel=1e-12)
    build.model_info = {"mean": [ds.mean], "std": [ds.std]}
    assert build.ascent(build.cfg.oip) is build.cfg.oip  # the seed network: untouched
