"""The model-tap module: layers read from the model, activations equal to the full model's."""
from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from generator.model import taps  # noqa: E402


@pytest.fixture(scope="module")
def seed_model():
    import keras

    from generator.model.architecture import build_model

    keras.utils.set_random_seed(3)
    model = build_model()
    for name in ("Conv2D_1", "Conv2D_2", "Dense_1"):  # non-zero biases, so bias handling is tested
        bias = model.get_layer(name).bias
        bias.assign(np.linspace(-0.2, 0.2, bias.shape[0]).astype(np.float32))
    return model


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).normal(size=(7, 28, 28, 1)).astype(np.float32)


@pytest.fixture(scope="module")
def functional():
    """A chain with other names and BatchNormalization (trained statistics, not 0/1)."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(4)
    inp = keras.Input((28, 28, 1), name="pixels")
    x = layers.Conv2D(6, 3, activation="relu", name="edges")(inp)
    x = layers.BatchNormalization(name="norm")(x)
    x = layers.MaxPooling2D(2, name="pool")(x)
    x = layers.Conv2D(5, 3, activation="relu", name="shapes")(x)
    x = layers.Flatten(name="flat")(x)
    out = layers.Dense(4, activation="softmax", name="classes")(x)
    model = keras.Model(inp, out)
    norm = model.get_layer("norm")
    norm.moving_mean.assign(np.linspace(-0.5, 0.5, 6).astype(np.float32))
    norm.moving_variance.assign(np.linspace(0.5, 2.0, 6).astype(np.float32))
    return model


@pytest.fixture(scope="module")
def branching():
    """Two paths added together: not a chain."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(5)
    inp = keras.Input((28, 28, 1))
    a = layers.Conv2D(4, 3, padding="same", activation="relu", name="left")(inp)
    b = layers.Conv2D(4, 1, name="right")(inp)
    x = layers.Add(name="join")([a, b])
    x = layers.Conv2D(3, 3, activation="relu", name="top")(x)
    out = layers.Dense(2, name="head")(layers.GlobalAveragePooling2D(name="gap")(x))
    return keras.Model(inp, out)


def _stock(model, name, x):
    import keras

    return np.asarray(keras.Model(model.inputs, model.get_layer(name).output)(x, training=False))


def test_the_layer_list_is_read_from_the_model(seed_model):
    infos = taps.layers(seed_model)
    assert [i.name for i in infos] == [lay.name for lay in seed_model.layers]
    assert [i.name for i in taps.map_layers(seed_model)] == ["Conv2D_1", "Conv2D_2", "Conv2D_3"]
    assert [i.channels for i in taps.map_layers(seed_model)] == [32, 64, 128]
    assert [i.side for i in taps.map_layers(seed_model)] == [(26, 26), (11, 11), (3, 3)]
    assert [(i.name, i.channels) for i in taps.node_layers(seed_model)] == [("Dense_1", 100), ("Dense_2", 10)]
    assert taps.layer(seed_model, "Max_Pool_1").kind == "other"
    assert taps.layer(seed_model, "Flatten").side is None
    with pytest.raises(ValueError, match="no layer 'Conv2D_9'.*Conv2D_1"):
        taps.layer(seed_model, "Conv2D_9")


def test_outputs_equal_the_full_model(seed_model, images):
    names = [i.name for i in taps.layers(seed_model)]
    outs = taps.outputs(seed_model, names, images, batch_size=3)  # 3 batches, the last padded
    for name in names:
        np.testing.assert_allclose(outs[name], _stock(seed_model, name, images), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(outs["Dense_2"], np.asarray(seed_model(images)), rtol=1e-5, atol=1e-6)


def test_preactivations_give_the_outputs_through_the_activation(seed_model, images):
    import keras

    pre = taps.preactivations(seed_model, ["Conv2D_2", "Dense_2"], images)
    assert pre["Conv2D_2"].shape == (7, 11, 11, 64) and pre["Dense_2"].shape == (7, 10)
    np.testing.assert_allclose(np.maximum(pre["Conv2D_2"], 0), _stock(seed_model, "Conv2D_2", images),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(keras.ops.softmax(pre["Dense_2"])), _stock(seed_model, "Dense_2", images),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="Max_Pool_1"):
        taps.preactivations(seed_model, ["Max_Pool_1"], images)


def test_the_fast_cut_equals_the_stock_layers(seed_model, images):
    """The fused conv->pool, cropping and one-channel kernels change nothing but the speed."""
    import tensorflow as tf

    x = tf.constant(images)
    for name in ("Conv2D_1", "Conv2D_2", "Conv2D_3", "Dense_1"):
        cut = taps.cut(seed_model, name)
        with tf.GradientTape() as tape:
            tape.watch(x)
            z = cut.preactivation(cut.below(x))
            total = tf.reduce_sum(tf.nn.relu(z))
        fast_grad = tape.gradient(total, x)
        want = taps.preactivations(seed_model, [name], images)[name]
        np.testing.assert_allclose(np.asarray(z).reshape(want.shape), want, rtol=1e-4, atol=1e-5)
        sub = taps.submodel(seed_model, [name])
        with tf.GradientTape() as tape:
            tape.watch(x)
            total = tf.reduce_sum(sub(x))
        np.testing.assert_allclose(fast_grad, tape.gradient(total, x), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="'Max_Pool_2' is a MaxPooling2D"):
        taps.cut(seed_model, "Max_Pool_2")


def test_spatial_submodels_run_on_large_pictures(seed_model, images):
    sub = taps.submodel(seed_model, ["Conv2D_1", "Max_Pool_2"], spatial=True)
    small = sub(images, training=False)
    np.testing.assert_allclose(small[1], _stock(seed_model, "Max_Pool_2", images), rtol=1e-5, atol=1e-6)
    big = sub(np.zeros((1, 64, 80, 1), np.float32), training=False)
    assert tuple(big[0].shape) == (1, 62, 78, 32)
    assert taps.submodel(seed_model, ["Conv2D_1", "Max_Pool_2"], spatial=True) is sub  # cached


def _softmax(z):
    z = np.asarray(z, np.float64)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_the_score_after_a_layer_runs_the_rest_of_the_network(seed_model, images):
    """One definition of the score: the logits from a layer's output, from the input, and with layers
    kept all give the model's own output through its softmax."""
    from generator.model import score

    h = taps.outputs(seed_model, ["Conv2D_3"], images)["Conv2D_3"]
    want = np.asarray(seed_model(images))
    np.testing.assert_allclose(_softmax(score.logits_after(seed_model, "Conv2D_3")(h)), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_softmax(score.logits(seed_model)(images)), want, rtol=1e-4, atol=1e-6)
    kept, z = score.logits_with(seed_model, ("Conv2D_3",))(images)
    np.testing.assert_allclose(_softmax(z), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(kept["Conv2D_3"]), h, rtol=1e-5, atol=1e-6)


def test_a_functional_model_with_other_names_and_batch_normalization(functional, images):
    assert [i.name for i in taps.map_layers(functional)] == ["edges", "shapes"]
    assert [i.name for i in taps.node_layers(functional)] == ["classes"]
    assert taps.layer(functional, "norm").class_name == "BatchNormalization"
    assert taps.chain(functional) is not None
    outs = taps.outputs(functional, ["norm", "shapes", "classes"], images)
    for name, value in outs.items():
        np.testing.assert_allclose(value, _stock(functional, name, images), rtol=1e-5, atol=1e-6)
    cut = taps.cut(functional, "shapes")
    z = np.asarray(cut.preactivation(cut.below(images)))
    np.testing.assert_allclose(np.maximum(z, 0), outs["shapes"], rtol=1e-4, atol=1e-5)
    from generator.model import score

    after = score.logits_after(functional, "shapes")
    np.testing.assert_allclose(_softmax(after(outs["shapes"])), outs["classes"], rtol=1e-5, atol=1e-6)
    big = taps.submodel(functional, ["shapes"], spatial=True)(np.zeros((2, 40, 40, 1), np.float32))
    assert tuple(big.shape) == (2, 17, 17, 5)


def test_a_branching_model(branching, images):
    assert taps.chain(branching) is None
    cut = taps.cut(branching, "top")  # the stock sub-model below the layer
    z = np.asarray(cut.preactivation(cut.below(images)))
    np.testing.assert_allclose(np.maximum(z, 0), _stock(branching, "top", images), rtol=1e-5, atol=1e-6)
    from generator.model import score

    with pytest.raises(ValueError, match="'top'"):
        score.logits_after(branching, "top")
    big = taps.submodel(branching, ["join"], spatial=True)(np.zeros((1, 33, 33, 1), np.float32))
    assert tuple(big.shape) == (1, 33, 33, 4)
