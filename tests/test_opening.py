"""Models as users have them, opened into the form the engine reads (generator/model/opening.py): nested
models inlined, a sigmoid unit as two classes, one of several outputs, an input without a channel axis,
custom layers, legacy .h5 files. Tiny models made here; the opened model must compute what the loaded
one does, with the same weights."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from generator.config.core import ModelConfig
from generator.errors import UserError


def _x(model, n=6, seed=0):
    shape = tuple(int(s) for s in model.inputs[0].shape[1:])
    return np.random.default_rng(seed).normal(size=(n,) + shape).astype(np.float32)


def _same(a, b):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-5, rtol=1e-5)


def _opened(model, **cfg):
    from generator.model.opening import open_model

    return open_model(model, replace(ModelConfig(), **cfg), source="m.keras")


def _base(shape=(16, 16, 3), name="base"):
    """A small residual base: Conv2D, BatchNormalization, ReLU, Add."""
    import keras
    from keras import layers

    inp = keras.Input(shape)
    x = layers.Conv2D(4, 3, padding="same", name="block_1_conv")(inp)
    x = layers.BatchNormalization(name="block_1_bn")(x)
    x = layers.ReLU(name="block_1_relu")(x)
    y = layers.Conv2D(4, 3, padding="same", name="block_2_conv")(x)
    return keras.Model(inp, layers.Add(name="block_2_add")([x, y]), name=name)


def _randomize_bn(model):
    """Moving statistics other than 0 and 1, so inference BatchNormalization is not the identity."""
    import keras

    rng = np.random.default_rng(1)
    for lay in model.layers:
        if isinstance(lay, keras.layers.BatchNormalization):
            lay.set_weights([rng.uniform(0.5, 2, w.shape).astype(np.float32) for w in lay.get_weights()])


def test_a_functional_base_inside_a_sequential_is_inlined_with_path_names():
    import keras
    from keras import layers

    from generator.model import taps
    from generator.model.support import check_model

    base = _base()
    model = keras.Sequential([keras.Input((16, 16, 3)), base, layers.GlobalAveragePooling2D(name="gap"),
                              layers.Dense(3, activation="softmax", name="head")])
    _randomize_bn(base)
    x = _x(model)
    expected = model.predict(x, verbose=0)
    opened, notes = _opened(model)
    names = [lay.name for lay in opened.layers]
    assert names[1:] == ["base.block_1_conv", "base.block_1_bn", "base.block_1_relu", "base.block_2_conv",
                         "base.block_2_add", "gap", "head"]
    assert not any(isinstance(lay, keras.Model) for lay in opened.layers)
    _same(opened.predict(x, verbose=0), expected)
    _same(model.predict(x, verbose=0), expected)  # the loaded model still runs
    assert opened.get_layer("base.block_2_conv") is base.get_layer("base.block_2_conv")  # the same objects
    assert opened.count_params() == model.count_params()
    assert notes == ["The nested model 'base' is opened layer by layer; its layers are named by their path "
                     "(base.<layer>)."]
    check_model(opened, "m.keras")
    # The taps cut inside it: sub-models from layer.output (tf.function), pre-activations, the chain test.
    assert [i.name for i in taps.map_layers(opened)] == ["base.block_1_conv", "base.block_2_conv"]
    got = taps.outputs(opened, ["base.block_2_conv", "head"], x)
    _same(got["head"], expected)
    direct = keras.Model(opened.inputs, opened.get_layer("base.block_2_conv").output)
    _same(got["base.block_2_conv"], direct(x))
    assert taps.chain(opened) is None and taps.first_merge(opened) == "base.block_2_add"
    opened_again, _ = _opened(model)  # the same objects opened twice keep their names
    assert [lay.name for lay in opened_again.layers][1:] == names[1:]


def test_a_sequential_inside_a_functional_and_nesting_of_depth_two():
    import keras
    from keras import layers

    from generator.model import score, taps

    inner = keras.Sequential([keras.Input((8, 8, 4)), layers.Conv2D(4, 3, padding="same", activation="relu",
                                                                     name="conv")], name="inner")
    block_in = keras.Input((16, 16, 4))
    x = layers.MaxPooling2D(name="pool")(block_in)
    block = keras.Model(block_in, inner(x), name="block")
    inp = keras.Input((16, 16, 1), name="pixels")
    h = layers.Conv2D(4, 3, padding="same", activation="relu", name="stem")(inp)
    h = block(h, training=False)
    out = layers.Dense(2, name="logits")(layers.Flatten(name="flat")(h))
    model = keras.Model(inp, out)
    x = _x(model)
    opened, notes = _opened(model)
    assert [lay.name for lay in opened.layers][1:] == ["stem", "block.pool", "block.inner.conv", "flat", "logits"]
    _same(opened.predict(x, verbose=0), model.predict(x, verbose=0))
    assert len(notes) == 2 and "'block.inner'" in notes[1]
    # A chain once inlined: the fast cut and the score after a layer (ablation) work on it.
    assert taps.chain(opened) is not None
    _same(score.logits_after(opened, "block.inner.conv")(taps.outputs(opened, ["block.inner.conv"], x)
                                                         ["block.inner.conv"]), model.predict(x, verbose=0))


def test_a_plain_model_is_left_as_it_is():
    import keras

    model = keras.Sequential([keras.Input((12, 12, 1)), keras.layers.Conv2D(2, 3), keras.layers.Flatten(),
                              keras.layers.Dense(3)])
    assert _opened(model) == (model, [])


@pytest.mark.parametrize("activation", ["sigmoid", None, "separate sigmoid"])
def test_a_single_sigmoid_or_logit_unit_is_two_classes(activation):
    import keras
    from keras import layers

    from generator.model.support import check_model, outputs_probabilities

    separate = activation == "separate sigmoid"  # Dense(1) then Activation("sigmoid")
    activation = "sigmoid" if separate else activation
    model = keras.Sequential([keras.Input((12, 12, 1)), layers.Conv2D(3, 3, activation="relu", name="c"),
                              layers.GlobalAveragePooling2D(),
                              layers.Dense(1, activation=None if separate else activation, name="out")]
                             + ([layers.Activation("sigmoid", name="p")] if separate else []))
    model.get_layer("out").set_weights([np.full((3, 1), 0.7, np.float32), np.array([-0.2], np.float32)])
    x = _x(model)
    p = model.predict(x, verbose=0)[:, 0]
    p = p if activation else 1 / (1 + np.exp(-p))
    opened, notes = _opened(model)
    two = opened.predict(x, verbose=0)
    two = two if activation else np.exp(two) / np.exp(two).sum(axis=1, keepdims=True)
    assert two.shape == (len(x), 2)
    _same(two[:, 1], p)
    _same(two[:, 0], 1 - p)
    assert outputs_probabilities(opened) == (activation == "sigmoid")
    assert opened.layers[-1].name == "out" and len(notes) == 1
    assert ("sigmoid" if activation else "logit") in notes[0] and "two classes" in notes[0]
    check_model(opened, "m.keras")


def _two_heads():
    import keras
    from keras import layers

    inp = keras.Input((12, 12, 3))
    h = layers.Conv2D(4, 3, activation="relu", name="c")(inp)
    g = layers.GlobalAveragePooling2D(name="gap")(h)
    return keras.Model(inp, [layers.Conv2D(1, 1, name="mask")(h), layers.Dense(5, activation="softmax", name="probs")(g),
                             layers.Dense(1, activation="sigmoid", name="real")(g)])


def test_several_outputs_the_first_class_scores_or_the_one_named():
    from generator.model import taps

    model = _two_heads()
    x = _x(model)
    mask, probs, real = model.predict(x, verbose=0)
    opened, notes = _opened(model)
    assert [lay.name for lay in opened.layers][1:] == ["c", "gap", "probs"]
    _same(opened.predict(x, verbose=0), probs)
    assert "3 outputs" in notes[0] and "'probs'" in notes[0] and "set model.output" in notes[0]
    taps.outputs(opened, ["c"], x)  # a layer that also fed the dropped heads is cut from the opened input
    opened, notes = _opened(model, output="real")
    _same(opened.predict(x, verbose=0)[:, 1], real[:, 0])
    assert len(notes) == 2 and "set model.output" not in notes[0]
    with pytest.raises(UserError, match=r"^m.keras: model.output 'nope' is not an output of the model "
                                        r"\(outputs: mask \(None, 10, 10, 1\), probs \(None, 5\), real \(None, 1\)\)$"):
        _opened(model, output="nope")


def test_no_output_of_class_scores_is_one_line():
    import keras
    from keras import layers

    inp = keras.Input((12, 12, 1))
    h = layers.Conv2D(2, 3, name="c")(inp)
    model = keras.Model(inp, [layers.Conv2D(1, 1, name="a")(h), layers.Conv2D(3, 1, name="b")(h)])
    with pytest.raises(UserError, match=r"^m.keras: no output of the model is class scores .*outputs: a "
                                        r"\(None, 10, 10, 1\), b \(None, 10, 10, 3\)\).*$") as err:
        _opened(model)
    assert "\n" not in str(err.value)


def test_a_model_that_cannot_be_opened_is_one_line_at_check(tmp_path):
    import keras
    from keras import layers

    from test_any_model import _build, _data

    inp = keras.Input((12, 12, 1))
    h = layers.Conv2D(2, 3, name="c")(inp)
    keras.Model(inp, [layers.Conv2D(1, 1, name="a")(h), layers.Conv2D(3, 1, name="b")(h)]).save(tmp_path / "m.keras")
    data = _data(tmp_path / "d.npz", (12, 12), 3, floats=False, n_train=20, n_test=10)
    for extra, says in (({}, "no output of the model is class scores"),
                        ({"model": {"output": "c"}}, "model.output 'c' is not an output of the model")):
        result, _ = _build(tmp_path, tmp_path / "m.keras", data, extra, command="check")
        lines = result.stderr.strip().splitlines()
        assert result.returncode != 0 and len(lines) == 1 and says in lines[0], result.stderr


def test_an_input_without_a_channel_axis_gets_one():
    import keras
    from keras import layers

    from generator.model.support import check_model

    inp = keras.Input((14, 14))
    h = layers.Reshape((14, 14, 1), name="to_image")(inp)
    h = layers.Conv2D(2, 3, activation="relu", name="c")(h)
    model = keras.Model(inp, layers.Dense(3)(layers.Flatten()(h)))
    opened, notes = _opened(model)
    assert tuple(opened.inputs[0].shape) == (None, 14, 14, 1)
    x = _x(model)
    _same(opened.predict(x[..., None], verbose=0), model.predict(x, verbose=0))
    assert "without a channel axis" in notes[0] and "14×14×1" in notes[0]
    check_model(opened, "m.keras")


CUSTOM = '''
import keras


@keras.saving.register_keras_serializable(package="opening_test")
class Doubled(keras.layers.Layer):
    def call(self, x):
        return 2.0 * x
'''


def test_custom_objects_module_is_imported_before_loading(tmp_path):
    import keras

    from generator.model import persist
    from generator.model.opening import import_custom_objects, load

    (tmp_path / "my_layers.py").write_text(CUSTOM)
    import_custom_objects("my_layers.py", tmp_path)
    doubled = keras.saving.get_registered_object("opening_test>Doubled")
    model = keras.Sequential([keras.Input((10, 10, 1)), doubled(name="twice"), keras.layers.Conv2D(2, 3),
                              keras.layers.Flatten(), keras.layers.Dense(2)])
    model.save(tmp_path / "m.keras")
    del keras.saving.get_custom_objects()["opening_test>Doubled"]  # as in a fresh process
    with pytest.raises(UserError):
        persist.load_model_file(tmp_path / "m.keras")
    opened, _ = load(tmp_path / "m.keras", ModelConfig(custom_objects_module="my_layers.py"), tmp_path)
    x = _x(model)
    _same(opened.predict(x, verbose=0), model.predict(x, verbose=0))
    for spec, message in (("no_such_module_here", "model.custom_objects_module: no module named 'no_such_module_here'"),
                          ("missing.py", f"model.custom_objects_module: no file {tmp_path / 'missing.py'}")):
        with pytest.raises(UserError) as err:
            load(tmp_path / "m.keras", ModelConfig(custom_objects_module=spec), tmp_path)
        assert str(err.value) == message


def test_a_legacy_h5_file_loads_and_a_broken_one_says_how_to_convert(tmp_path):
    import keras

    from generator.model.opening import load

    model = keras.Sequential([keras.Input((10, 10, 1)), keras.layers.Conv2D(2, 3, name="c"), keras.layers.Flatten(),
                              keras.layers.Dense(3, activation="softmax")])
    model.save(tmp_path / "m.h5")
    opened, _ = load(tmp_path / "m.h5", ModelConfig(), tmp_path)
    x = _x(model)
    _same(opened.predict(x, verbose=0), model.predict(x, verbose=0))
    (tmp_path / "bad.h5").write_bytes(b"not hdf5" * 8)
    with pytest.raises(UserError, match=r"bad.h5: not a readable .h5 model .*tf_keras.*\.keras") as err:
        load(tmp_path / "bad.h5", ModelConfig(), tmp_path)
    assert "\n" not in str(err.value)


def test_a_subclassed_model_is_one_line():
    import keras

    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.conv = keras.layers.Conv2D(2, 3)

        def call(self, x):
            return self.conv(x)

    net = Net()
    net(np.zeros((1, 10, 10, 1), np.float32))
    with pytest.raises(UserError, match="subclassed keras.Model"):
        _opened(net)


def test_layer_slugs_are_safe_folder_names():
    from generator.pages.urls import layer_slug

    assert layer_slug("Conv2D_1") == "conv2d_1"  # the seed's URLs unchanged
    assert layer_slug("base.block_1_conv") == "base--block_1_conv"
    odd = layer_slug("a b:c")
    assert odd.startswith("a-b-c-") and odd == layer_slug("a b:c") and odd != layer_slug("a-b-c")
    assert "/" not in layer_slug("..") and not layer_slug("..").startswith(".")


@pytest.mark.site
def test_a_gallery_of_a_nested_model(tmp_path):
    """A functional base (two convolutions) inside a Sequential with a new head, built end to end: its
    inner map layers get layer and map pages under their path names, every link resolves, the
    explanations are there, and ablation runs (the opened model is a chain)."""
    import keras
    from keras import layers

    from test_any_model import NO_DREAMS, _build, _data, _fit_and_save

    data = _data(tmp_path / "d.npz", (20, 20), 4, floats=False, n_train=120, n_test=40)
    inp = keras.Input((20, 20, 1))
    x = layers.Conv2D(4, 3, activation="relu", name="conv_a")(inp)
    x = layers.MaxPooling2D(name="pool")(x)
    base = keras.Model(inp, layers.Conv2D(6, 3, activation="relu", name="conv_b")(x), name="base")
    model = keras.Sequential([keras.Input((20, 20, 1)), base, layers.GlobalAveragePooling2D(name="gap"),
                              layers.Dense(4, activation="softmax", name="head")], name="transfer")
    _fit_and_save(model, tmp_path / "m.keras", data)
    result, site = _build(tmp_path, tmp_path / "m.keras", data, {"dreams": NO_DREAMS})
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    from linkcheck import broken_links

    assert broken_links(site) == []
    for name, slug, maps in (("base.conv_a", "base--conv_a", 4), ("base.conv_b", "base--conv_b", 6)):
        folder = site / "layers" / slug
        assert name in (folder / "index.html").read_text()
        assert sorted(p.name for p in folder.glob("map-*.html")) == [f"map-{m:03d}.html" for m in range(maps)]
        page = (folder / "map-000.html").read_text()
        assert 'id="ablation"' in page and "is not one" not in page  # a chain once opened: ablation computed
    index = (site / "index.html").read_text()
    assert "<dt>Opened</dt><dd>The nested model &#39;base&#39; is opened layer by layer" in index  # the model card
    assert (site / "explain" / "index.html").exists() and any((site / "explain" / "img").rglob("*.png"))
    # the card's accuracy is Keras's own evaluate of the saved model on the contract's inputs (the model was
    # trained standardized by _fit_and_save), and an inner map's OIP fed through the contract here
    from test_input_contract import _card, _check_oip_through_contract, _keras_accuracy, _layer_model

    with np.load(data) as d:
        mean, std = d["x_train"].astype(np.float64).mean(), d["x_train"].astype(np.float64).std()
        x_test, y_test = d["x_test"].astype(np.float32)[..., None], d["y_test"].astype(np.int64)
    to_model = lambda p: ((p - mean) / std).astype(np.float32)  # noqa: E731
    card = _card(site)
    expected = _keras_accuracy(tmp_path / "m.keras", to_model(x_test), y_test)
    assert card["contract"] == "standardize" and abs(card["gallery"] - expected) <= 0.1, (card, expected)
    assert abs(card["keras"] - expected) <= 0.1
    _check_oip_through_contract(site, "base--conv_b", _layer_model(tmp_path / "m.keras", "base", "conv_b"), to_model)
