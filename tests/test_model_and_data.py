"""The seed architecture, standardization, and where the data comes from."""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from generator.config.core import DataConfig
from generator.data import load_dataset
from generator.data import sources
from generator.data.dataset import standardize, unstandardize
from generator.errors import UserError
from generator.model.architecture import LAYERS, PARAMETERS, build_model


def test_seed_architecture_and_parameter_count():
    model = build_model(l2=5e-4)
    assert [layer.name for layer in model.layers] == LAYERS
    assert model.count_params() == PARAMETERS == 208_982
    shapes = {layer.name: tuple(layer.output.shape[1:]) for layer in model.layers}
    assert shapes["Conv2D_1"] == (26, 26, 32)
    assert shapes["Max_Pool_1"] == (13, 13, 32)
    assert shapes["Conv2D_2"] == (11, 11, 64)
    assert shapes["Max_Pool_2"] == (5, 5, 64)
    assert shapes["Conv2D_3"] == (3, 3, 128)
    assert shapes["Flatten"] == (1152,)
    assert shapes["Dense_1"] == (100,)
    assert shapes["Dense_2"] == (10,)


def test_a_network_without_convolutions_is_refused_and_logits_are_detected():
    import keras

    from generator.model.support import check_model, outputs_probabilities

    other = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(name="Flatten"),
                              keras.layers.Dense(10, name="Dense_2")])
    with pytest.raises(UserError, match="no Conv2D"):
        check_model(other, "other.keras")
    assert not outputs_probabilities(other)
    assert outputs_probabilities(build_model())


def test_seed_network_follows_the_data_shape_and_classes():
    model = build_model(0.0, (32, 32, 3), 4)
    assert tuple(model.inputs[0].shape[1:]) == (32, 32, 3) and model.outputs[0].shape[-1] == 4
    assert build_model().count_params() == PARAMETERS


@pytest.mark.parametrize("shape, classes", [((28, 28, 1), 10), ((32, 32, 3), 4), ((18, 18, 1), 3), ((40, 30, 3), 7)])
def test_seed_layers_written_out_match_the_built_network(shape, classes):
    """The checks read the seed's layers from a written-out table (no Keras import); it must be the
    network build_model makes."""
    from generator.model import taps
    from generator.model.architecture import seed_layer_infos
    from generator.model.support import seed_layers

    assert seed_layer_infos(shape, classes) == taps.layers(build_model(0.0, shape, classes))
    assert seed_layers() == taps.layers(build_model())


def _fake_arrays(n_train=30, n_test=12, seed=0):
    rng = np.random.default_rng(seed)
    return {"x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
            "y_train": rng.integers(0, 10, n_train, dtype=np.uint8),
            "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
            "y_test": rng.integers(0, 10, n_test, dtype=np.uint8)}


def test_standardization_uses_training_pixels():
    arrays = _fake_arrays()
    x = arrays["x_train"].astype(np.float64)
    mean, std = x.mean(), x.std()
    out = standardize(arrays["x_train"], mean, std)
    assert out.shape == (30, 28, 28, 1) and out.dtype == np.float32
    assert abs(out.mean()) < 1e-5 and abs(out.std() - 1) < 1e-5
    # one pixel by hand
    assert out[3, 4, 5, 0] == pytest.approx((arrays["x_train"][3, 4, 5] - mean) / std, rel=1e-5)
    assert np.allclose(unstandardize(out[..., 0], mean, std), x, atol=1e-3)


def _write_idx(folder: Path, arrays):
    folder.mkdir(parents=True, exist_ok=True)
    for key, name in {"x_train": "train-images-idx3-ubyte.gz", "y_train": "train-labels-idx1-ubyte.gz",
                      "x_test": "t10k-images-idx3-ubyte.gz", "y_test": "t10k-labels-idx1-ubyte.gz"}.items():
        a = arrays[key]
        header = bytes([0, 0, 8, a.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in a.shape)
        (folder / name).write_bytes(gzip.compress(header + a.tobytes()))


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No keras cache, and a download that fails as it does on a machine with no network."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    calls = []

    def fail(dataset):
        calls.append(dataset)
        raise sources._DownloadFailed("no network")

    monkeypatch.setattr(sources, "_download", fail)
    return calls


def test_idx_folder_reads_like_npz(tmp_path, offline):
    arrays = _fake_arrays()
    _write_idx(tmp_path / "idx", arrays)
    ds = load_dataset(DataConfig(path=str(tmp_path / "idx")), tmp_path)
    assert np.array_equal(ds.x_test, arrays["x_test"]) and np.array_equal(ds.y_train, arrays["y_train"])
    assert ds.source == "config file"


def test_source_order(tmp_path, offline):
    project, keras_home = tmp_path / "project", tmp_path / "keras-home" / "datasets"
    keras_home.mkdir(parents=True)
    (project / "data").mkdir(parents=True)
    np.savez(keras_home / "mnist.npz", **_fake_arrays(seed=1))
    assert load_dataset(DataConfig(), project).source == "keras cache"
    np.savez(project / "data" / "mnist.npz", **_fake_arrays(seed=2))
    ds = load_dataset(DataConfig(), project)
    assert ds.source == "project data/ folder"
    np.savez(tmp_path / "mine.npz", **_fake_arrays(seed=3))
    ds = load_dataset(DataConfig(path=str(tmp_path / "mine.npz")), project)
    assert ds.source == "config file"
    assert np.array_equal(ds.x_train, _fake_arrays(seed=3)["x_train"])
    assert offline == []  # never downloads while a local source exists


def test_offline_falls_back_to_the_bundled_sample_and_says_so(tmp_path, offline):
    said: list[str] = []
    ds = load_dataset(DataConfig(), tmp_path, said.append)
    assert offline == ["mnist"]
    assert ds.source == "bundled MNIST sample" and ds.x_test.shape == (2000, 28, 28)
    assert ds.notice and len(said) == 1 and "data/mnist.npz" in said[0]


def test_offline_message_when_the_fallback_is_switched_off(tmp_path, offline):
    with pytest.raises(UserError) as err:
        load_dataset(DataConfig(fallback=False), tmp_path)
    assert offline == ["mnist"]
    message = str(err.value)
    assert "\n" not in message and "data/mnist.npz" in message and "data.path" in message


@pytest.mark.parametrize("kind", ["float", "uint8", "rgb", "column-labels"])
def test_npz_layouts_are_read_on_the_pixel_scale(tmp_path, kind):
    rng = np.random.default_rng(0)
    shape = (6, 12, 10, 3) if kind == "rgb" else (6, 12, 10)
    pixels = rng.integers(0, 256, shape).astype(np.uint8)
    x = pixels.astype(np.float32) / 255 if kind == "float" else pixels
    y = rng.integers(0, 3, (6, 1) if kind == "column-labels" else 6)
    np.savez(tmp_path / "d.npz", x_train=x, y_train=y, x_test=x[:2], y_test=y[:2])
    ds = load_dataset(DataConfig(dataset="custom", path=str(tmp_path / "d.npz"), class_names=["a", "b", "c"]),
                      tmp_path)
    np.testing.assert_allclose(ds.x_train, pixels, atol=1e-3)
    assert ds.image_shape == ((12, 10, 3) if kind == "rgb" else (12, 10, 1))
    assert ds.class_names == ["a", "b", "c"] and ds.y_train.shape == (6,)
    assert ds.pixel_format.startswith("float" if kind == "float" else "uint8")


def test_corrupt_npz_is_one_line(tmp_path, offline):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 definitely not a zip")
    with pytest.raises(UserError, match="corrupt or unreadable"):
        load_dataset(DataConfig(path=str(bad)), tmp_path)


def test_bundled_sample_is_canonical_and_small():
    ds = load_dataset(DataConfig(sample=True), Path("."))
    assert sources.SAMPLE_FILE.stat().st_size <= 2 * 1024 * 1024
    assert ds.x_train.shape == (9000, 28, 28) and ds.x_test.shape == (2000, 28, 28)
    # canonical MNIST: test image 0 is a 7, training image 0 is a 5
    assert ds.y_test[0] == 7 and ds.y_train[0] == 5 and list(ds.y_test[:5]) == [7, 2, 1, 0, 4]


def test_fashion_class_names(tmp_path, offline):
    _write_idx(tmp_path / "fashion", _fake_arrays())
    ds = load_dataset(DataConfig(dataset="fashion", path=str(tmp_path / "fashion")), tmp_path)
    assert ds.class_names[0] == "T-shirt/top" and ds.class_names[9] == "Ankle boot"
