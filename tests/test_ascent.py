"""The ascent core's parts: objectives add and scale, transforms are seeded and stateless, the
render calls its callbacks and gives the OIP engine's snapshots and curves."""
from __future__ import annotations

import os
from dataclasses import replace

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from generator.ascent import callbacks, objectives, render, transforms  # noqa: E402
from generator.ascent.objectives import (ClassLogit, Diversity, LayerMean, MapMean,  # noqa: E402
                                         Preactivation, spatial_weights)
from generator.config.oip import OIPConfig  # noqa: E402

PIXEL_RANGE = (-0.42, 2.82)
TINY = replace(OIPConfig(), steps=10, noise_scales=[1, 7], snapshots=4)


@pytest.fixture(scope="module")
def model():
    import keras

    from generator.model.architecture import build_model

    keras.utils.set_random_seed(21)
    return build_model()


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(1).uniform(-0.4, 2.5, size=(6, 28, 28, 1)).astype(np.float32)


def _map_mean(layer, maps, side):
    return objectives.MapMean(layer, maps, objectives.spatial_weights(len(np.ravel(maps)), side))


# ---- objectives ------------------------------------------------------------------------------------

def test_an_objective_sum_is_the_sum_of_the_objectives(model, images):
    a = _map_mean("Conv2D_2", [1, 5, 9, 2, 3, 4], (11, 11))
    b = Preactivation("Conv2D_3", [0, 0, 7, 7, 8, 9], spatial_weights(6, (3, 3)))
    c = LayerMean("Conv2D_1")
    parts = [render.values(model, o, images) for o in (a, b, c)]
    total = render.values(model, a + b + c, images)
    for k in range(2):  # the value and the climb
        np.testing.assert_allclose(total[k], sum(p[k] for p in parts), rtol=1e-5, atol=1e-6)
    assert (a + b + c).layers() == ("Conv2D_2", "Conv2D_3", "Conv2D_1")
    assert sum([a]) is a  # sum() starts from 0


def test_a_scaled_objective_is_the_scaled_value(model, images):
    a = _map_mean("Conv2D_3", [3, 1, 4, 1, 5, 9], (3, 3))
    value, climb = render.values(model, a, images)
    for k, scaled in ((2.5, 2.5 * a), (-3.0, a * -3.0), (-1.0, -a)):
        got = render.values(model, scaled, images)
        np.testing.assert_allclose(got[0], k * value, rtol=1e-6)
        np.testing.assert_allclose(got[1], k * climb, rtol=1e-6)


def test_map_mean_and_node_objectives_read_the_right_values(model, images):
    from generator.model import taps

    acts = taps.outputs(model, ["Conv2D_3"], images)["Conv2D_3"]
    maps = np.array([0, 10, 20, 30, 40, 50])
    value, _ = render.values(model, _map_mean("Conv2D_3", maps, (3, 3)), images)
    np.testing.assert_allclose(value, acts.mean(axis=(1, 2))[np.arange(6), maps], rtol=1e-5, atol=1e-6)
    nodes = np.array([[0, 0], [1, 2], [2, 2], [0, 1], [1, 1], [2, 0]])
    value, _ = render.values(model, objectives.node("Conv2D_3", maps, nodes, (3, 3)), images)
    np.testing.assert_allclose(value, acts[np.arange(6), nodes[:, 0], nodes[:, 1], maps], rtol=1e-5, atol=1e-6)


def test_the_config_string_becomes_an_objective_in_one_place():
    spatial = spatial_weights(2, (3, 3))
    assert type(objectives.from_config("mean", "Conv2D_3", [0, 1], spatial)) is MapMean
    assert type(objectives.from_config("preact", "Conv2D_3", [0, 1], spatial)) is Preactivation
    with pytest.raises(ValueError, match="unknown objective 'max'"):
        objectives.from_config("max", "Conv2D_3", [0, 1], spatial)


def test_class_logit_is_the_output_before_softmax(model, images):
    from generator.model import taps

    classes = [0, 3, 9, 1, 1, 2]
    value, _ = render.values(model, ClassLogit("Dense_2", classes), images)
    logits = taps.preactivations(model, ["Dense_2"], images)["Dense_2"]
    np.testing.assert_allclose(value, logits[np.arange(6), classes], rtol=1e-5, atol=1e-6)


def test_diversity_is_minus_the_mean_similarity_within_each_group(model, images):
    same = np.repeat(images[:1], 3, axis=0)
    value, _ = render.values(model, Diversity("Conv2D_2", group=3), np.concatenate([same, images[1:4]]))
    np.testing.assert_allclose(value[:3], -1.0, rtol=1e-5)  # identical rows: cosine 1
    assert np.all(value[3:] > -1.0) and np.all(value[3:] < 0.0)  # ReLU Gram matrices: cosine in (0, 1)
    assert (Diversity("Conv2D_2", 3) + LayerMean("Conv2D_1")).multiple == 3
    assert all(len(b) % 4 == 0 for b in render.batches(300, 4)) and len(render.batches(300, 4)) == 2
    with pytest.raises(ValueError, match="whole groups"):
        render.render(model, Diversity("Conv2D_2", 4), images, 1, 0.1, 0)


# ---- transforms ------------------------------------------------------------------------------------

@pytest.mark.parametrize("transform", [transforms.Jitter(2), transforms.Scale([0.9, 1.0, 1.1, 1.2]),
                                       transforms.Blur(0.8, 1), transforms.Clip(0.0, 1.0)],
                         ids=lambda t: type(t).__name__)
def test_a_transform_is_seeded_and_stateless(transform, images):
    import tensorflow as tf

    consts = transform.constants(images.shape[1:])
    x = tf.constant(images)

    def at(seed, step):
        return transform.apply(x, consts, tf.constant(seed, tf.int64), tf.constant(step)).numpy()

    first = at(7, 3)
    at(8, 4), at(7, 5)  # calls in between change nothing
    np.testing.assert_array_equal(at(7, 3), first)
    np.testing.assert_array_equal(np.asarray(x), images)  # the input is untouched
    if isinstance(transform, (transforms.Jitter, transforms.Scale)):  # random ones differ by (seed, step)
        assert any(not np.array_equal(at(s, t), first) for s, t in [(7, 4), (8, 3), (9, 9), (1, 2)])
    if transform.stage == "frame":
        back = transform.invert(tf.constant(first), consts, tf.constant(7, tf.int64), tf.constant(3))
        np.testing.assert_array_equal(back.numpy(), images)


def test_tile_shifts_are_a_function_of_seed_and_step():
    a, b = transforms.TileShift(5, [82] * 3 + [112] * 3), transforms.TileShift(5, [82] * 3 + [112] * 3)
    assert [a(s) for s in (4, 0, 2)] == [b(s) for s in (4, 0, 2)]
    assert all(0 <= d < 82 for s in range(3) for d in a(s))


def test_transforms_from_the_config():
    built = transforms.from_config(TINY, PIXEL_RANGE)
    assert [type(t).__name__ for t in built] == ["Jitter", "Blur", "Clip"]
    assert [t.stage for t in built] == ["frame", "after", "after"]


# ---- the render loop and its callbacks -------------------------------------------------------------

class Recorder(callbacks.Callback):
    def __init__(self):
        self.calls = []

    def stops(self, steps):
        return [3]

    def on_begin(self, rows, x, values, plan):
        self.calls.append(("begin", len(rows), plan))

    def on_step(self, rows, step, x, values):
        self.calls.append(("step", step, tuple(values.shape)))

    def on_end(self, rows, x, values, failed):
        self.calls.append(("end", len(rows), tuple(np.asarray(x).shape)))


def test_callbacks_begin_step_end_and_stops(model, images):
    rec = Recorder()
    objective = _map_mean("Conv2D_3", [0] * 6, (3, 3))
    render.render(model, objective, images, 12, 0.05, 1, transforms.from_config(TINY, PIXEL_RANGE), callbacks=[rec])
    # stops at 3 (the recorder's) and 12: calls of 1+1+1 steps, then 8 and 1
    assert rec.calls == [("begin", 6, callbacks.Plan(6, 12, 1)),
                         ("step", 1, (1, 6)), ("step", 2, (1, 6)), ("step", 3, (1, 6)),
                         ("step", 11, (8, 6)), ("step", 12, (1, 6)), ("end", 6, (6, 28, 28, 1))]
    assert render.checkpoints([0, 3, 12]) == {1, 2, 3, 11, 12}


def test_snapshots_and_curves_come_out_as_the_oip_engine_reports_them(model):
    from generator.features.patterns import oip_engine

    res = oip_engine.layer_oips(model, "Conv2D_3", TINY, PIXEL_RANGE, seed=5, maps=[4, 9])
    snaps, curve = callbacks.Snapshots(oip_engine.snapshot_steps(TINY.steps, TINY.snapshots)), callbacks.Curve()
    starts = oip_engine._starts_for(TINY.noise_scales, np.arange(10), 5, PIXEL_RANGE).reshape(10, 2, 28, 28, 1)[[4, 9]]
    objective = _map_mean("Conv2D_3", [4, 4, 9, 9], (3, 3))
    out = render.render(model, objective, starts.reshape(4, 28, 28, 1), TINY.steps, TINY.step_size, 5,
                        transforms.from_config(TINY, PIXEL_RANGE), callbacks=[snaps, curve])
    np.testing.assert_array_equal(snaps.result()[..., 0].reshape(2, 2, TINY.snapshots, 28, 28), res["snapshots"])
    np.testing.assert_array_equal(curve.result().reshape(2, 2, -1), res["curve"])
    np.testing.assert_array_equal(out["values"].reshape(2, 2), res["final"])
    assert curve.result().shape == (4, TINY.steps + 1)
    np.testing.assert_array_equal(snaps.result()[:, -1], out["images"])  # the last frame is the kept image
    np.testing.assert_array_equal(snaps.result()[:, 0], starts.reshape(4, 28, 28, 1))


def test_a_layer_dream_objective_climbs_on_any_picture_size(model):
    from generator.ascent.views import ModelTap

    objective = objectives.layer_dream({"Conv2D_1": 1.0, "Max_Pool_2": 0.5})
    gradient = render.gradient(ModelTap(model, objective.layers()), objective)
    x = np.random.default_rng(2).normal(size=(2, 60, 44, 1)).astype(np.float32)
    grad, total = gradient(x)
    assert grad.shape == x.shape
    _, moved = gradient(x + 0.05 * np.asarray(grad) / np.asarray(grad).std())
    assert float(moved) > float(total)
