"""The batched OIP engine on a small randomly initialised seed network, with tiny settings."""
from __future__ import annotations

import os
from dataclasses import replace

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import importlib.util  # noqa: E402
from pathlib import Path  # noqa: E402

from generator.features.patterns import map_stats
from generator.features.patterns import oip_engine as engine
from generator.config.oip import OIPConfig  # noqa: E402


def _bench():
    """scripts/bench.py, whose naive eager loop is the benchmark's baseline."""
    spec = importlib.util.spec_from_file_location("bench", Path(__file__).parent.parent / "scripts" / "bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MEAN, STD = 33.3, 78.6
PIXEL_RANGE = ((0 - MEAN) / STD, (255 - MEAN) / STD)
TINY = replace(OIPConfig(), steps=12, noise_scales=[1, 7], snapshots=4)


def fresh_model(seed: int = 0):
    import keras

    from generator.model.architecture import build_model

    keras.utils.set_random_seed(seed)
    return build_model()


@pytest.fixture(scope="module")
def model():
    return fresh_model()


@pytest.fixture(scope="module")
def conv3(model):
    """Every Conv2D_3 map from both starts, in one batch."""
    return engine.layer_oips(model, "Conv2D_3", TINY, PIXEL_RANGE, seed=5)


def test_make_starts_shapes_ranges_and_determinism():
    lo, hi = PIXEL_RANGE
    starts = engine._starts_for([1, 3, 7, 14], np.arange(5), seed=3, pixel_range=PIXEL_RANGE)
    assert starts.shape == (20, 28, 28, 1) and starts.dtype == np.float32
    assert starts.min() >= lo and starts.max() <= hi
    assert np.array_equal(starts, engine._starts_for([1, 3, 7, 14], np.arange(5), seed=3, pixel_range=PIXEL_RANGE))
    assert not np.array_equal(starts, engine._starts_for([1, 3, 7, 14], np.arange(5), seed=4, pixel_range=PIXEL_RANGE))
    # row = map*S + start, and a map's starts do not depend on how many maps there are
    assert np.array_equal(starts[:8], engine._starts_for([1, 3, 7, 14], np.arange(2), seed=3, pixel_range=PIXEL_RANGE))
    # moderate contrast: neither flat nor saturated
    spread = (starts.std(axis=(1, 2, 3)) / (hi - lo))
    assert np.all(spread > 0.05) and np.all(spread < 0.3)
    # longer length scale = smoother noise: smaller pixel-to-pixel differences
    rough = np.abs(np.diff(starts[:4, ..., 0], axis=2)).mean(axis=(1, 2))
    assert rough[0] > rough[1] > rough[2] > rough[3]


def test_result_layout(conv3):
    m, s, k = 128, 2, TINY.snapshots
    assert conv3["patterns"].shape == (m, s, 28, 28)
    assert conv3["snapshots"].shape == (m, s, k, 28, 28)
    assert conv3["curve"].shape == (m, s, TINY.steps + 1)
    assert conv3["final"].shape == (m, s) and conv3["failed"].shape == (m, s)
    assert conv3["seconds"].shape == () and float(conv3["seconds"]) > 0
    assert np.array_equal(conv3["snapshots"][:, :, -1], conv3["patterns"])
    assert np.array_equal(conv3["curve"][..., -1], conv3["final"])
    starts = engine._starts_for(TINY.noise_scales, np.arange(m), 5, PIXEL_RANGE).reshape(m, s, 28, 28)
    assert np.array_equal(conv3["snapshots"][:, :, 0], starts)
    lo, hi = PIXEL_RANGE
    assert conv3["patterns"].min() >= lo - 1e-6 and conv3["patterns"].max() <= hi + 1e-6
    assert not conv3["failed"].any()


def test_objective_rises_for_every_alive_row(conv3):
    curve = conv3["curve"]
    alive = curve[..., 0] > 0
    assert alive.mean() > 0.5, "a random network should have most maps active at the start"
    assert np.all(curve[..., -1][alive] > curve[..., 0][alive])


def test_batched_equals_single_map(model, conv3):
    for k in (0, 77):
        single = engine.layer_oips(model, "Conv2D_3", TINY, PIXEL_RANGE, seed=5, maps=[k])
        for key in ("patterns", "snapshots", "curve", "final"):
            assert np.allclose(single[key][0], conv3[key][k], rtol=1e-5, atol=1e-5), key


def test_progress_and_map_subset(model):
    calls = []
    res = engine.layer_oips(model, "Conv2D_2", TINY, PIXEL_RANGE, seed=1, maps=[3, 9],
                            progress=lambda done, total: calls.append((done, total)))
    assert res["patterns"].shape == (2, 2, 28, 28) and list(res["maps"]) == [3, 9]
    assert calls[-1][0] == calls[-1][1] == TINY.steps
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_dead_rows_wake_through_the_preactivation():
    """Biases pushed just below every start's reach: all rows start at exactly zero, all wake."""
    model = fresh_model(1)
    layer = model.get_layer("Conv2D_1")
    cfg = replace(TINY, jitter=0, steps=16)
    maps = [0, 1, 2, 3]
    kernel, bias = layer.kernel.numpy(), layer.bias.numpy()
    starts = engine._starts_for(cfg.noise_scales, np.arange(layer.filters), 5, PIXEL_RANGE)
    lo, hi = PIXEL_RANGE
    for m in maps:
        k = kernel[:, :, 0, m]
        rows = starts[m * 2:(m + 1) * 2, :, :, 0]
        start_peak = max(_conv_valid(img, k).max() for img in rows)
        best = np.maximum(k * lo, k * hi).sum()  # the highest any input can reach
        bias[m] = -(start_peak + 0.2 * (best - start_peak))
    layer.bias.assign(bias)
    res = engine.layer_oips(model, "Conv2D_1", cfg, PIXEL_RANGE, seed=5, maps=maps)
    assert np.all(res["curve"][..., 0] == 0)
    assert np.all(res["final"] > 0)


def test_dead_map_stays_dead_and_statistics_say_so():
    model = fresh_model(2)
    layer = model.get_layer("Conv2D_2")
    kernel, bias = layer.kernel.numpy(), layer.bias.numpy()
    kernel[..., 7] = 0.0
    bias[7] = -0.5
    layer.kernel.assign(kernel)
    layer.bias.assign(bias)
    res = engine.layer_oips(model, "Conv2D_2", TINY, PIXEL_RANGE, seed=5, maps=[6, 7])
    assert np.all(res["final"][1] == 0) and np.all(res["curve"][1] == 0)
    assert np.all(res["final"][0] > 0)
    x, y = _test_images(40)
    stats = map_stats.map_statistics(model, "Conv2D_2", x, y, top=3, batch_size=16)
    assert not stats["alive"][7] and stats["max_point"][7] == 0 and stats["best_test"][7] == 0
    assert stats["alive"][6]


def test_failed_row_is_frozen_and_others_go_on(model, monkeypatch):
    real = engine._starts_for

    def poisoned(*args, **kwargs):
        starts = real(*args, **kwargs)
        starts[1, 5, 5, 0] = np.nan  # map 0, second start
        return starts

    monkeypatch.setattr(engine, "_starts_for", poisoned)
    res = engine.layer_oips(model, "Conv2D_1", TINY, PIXEL_RANGE, seed=5, maps=[0, 1])
    assert res["failed"].tolist() == [[False, True], [False, False]]
    assert np.array_equal(res["patterns"][0, 1], res["snapshots"][0, 1, 0], equal_nan=True)
    assert np.all(np.isfinite(res["patterns"][[0, 1, 1], [0, 0, 1]]))


def test_node_objectives(model):
    nodes = [(0, 0), (2, 1)]
    cfg = replace(TINY, noise_scales=[1])
    res = engine.layer_oips(model, "Conv2D_3", cfg, PIXEL_RANGE, seed=5, maps=[4, 5], nodes=nodes)
    assert res["patterns"].shape == (2, 2, 1, 28, 28) and res["nodes"].tolist() == [[0, 0], [2, 1]]
    # the search really targets the node: its value is what `final` reports
    import tensorflow as tf

    sub = _submodel(model, "Conv2D_3")
    acts = sub(tf.constant(res["patterns"].reshape(-1, 28, 28, 1))).numpy().reshape(2, 2, 3, 3, -1)
    for a, m in enumerate([4, 5]):
        for n, (i, j) in enumerate(nodes):
            assert np.isclose(acts[a, n, i, j, m], res["final"][a, n, 0], rtol=1e-4, atol=1e-5)


def test_map_statistics_match_a_direct_computation(model):
    x, y = _test_images(23)
    stats = map_stats.map_statistics(model, "Conv2D_2", x, y, top=4, batch_size=10, classes=10)
    acts = _submodel(model, "Conv2D_2")(x).numpy()  # (N, 11, 11, 64)
    mean_act = acts.mean(axis=(1, 2))
    assert stats["mean_act"].shape == (23, 64)
    assert np.allclose(stats["mean_act"], mean_act, rtol=1e-5, atol=1e-6)
    assert np.allclose(stats["max_point"], acts.max(axis=(0, 1, 2)), rtol=1e-5, atol=1e-6)
    assert np.allclose(stats["best_test"], mean_act.max(axis=0), rtol=1e-5, atol=1e-6)
    assert stats["top_indices"].shape == (64, 4)
    for m in (0, 31, 63):
        expected = np.argsort(-mean_act[:, m], kind="stable")[:4]
        assert np.allclose(mean_act[stats["top_indices"][m], m], mean_act[expected, m], rtol=1e-5, atol=1e-6)
        assert np.allclose(stats["top_values"][m], mean_act[expected, m], rtol=1e-5, atol=1e-6)
        for label in range(10):
            want = mean_act[y == label, m].mean() if np.any(y == label) else np.nan
            assert np.allclose(stats["class_means"][m, label], want, rtol=1e-5, atol=1e-6, equal_nan=True)
    assert np.array_equal(stats["alive"], stats["max_point"] > 0)


def test_naive_loop_agrees_with_the_engine(model, conv3):
    maps = [2]
    naive = _bench().naive_oips(model, "Conv2D_3", TINY, PIXEL_RANGE, 5, maps, TINY.steps)
    assert naive["final"].shape == (1, 2)
    assert np.allclose(naive["final"], conv3["final"][maps], rtol=1e-4, atol=1e-5)
    assert np.allclose(naive["patterns"], conv3["patterns"][maps], atol=1e-4)


# ----------------------------------------------------------------------------------------------


def _conv_valid(img: np.ndarray, k: np.ndarray) -> np.ndarray:
    out = np.zeros((img.shape[0] - 2, img.shape[1] - 2))
    for i in range(3):
        for j in range(3):
            out += k[i, j] * img[i:i + out.shape[0], j:j + out.shape[1]]
    return out


def _test_images(n: int):
    """Digit-like test inputs: random strokes on black, standardised, with labels 0..9."""
    rng = np.random.default_rng(0)
    pixels = np.zeros((n, 28, 28), np.float32)
    for img in pixels:
        r, c = rng.integers(4, 20, size=2)
        img[r:r + rng.integers(3, 8), c:c + rng.integers(2, 6)] = 255
    x = ((pixels - MEAN) / STD)[..., None].astype(np.float32)
    return x, (np.arange(n) % 7).astype(np.int64)  # labels 7..9 absent: NaN class means


def _submodel(model, name: str):
    import keras

    return keras.Model(model.inputs, model.get_layer(name).output)


def test_given_starts_replace_the_noise(model):
    """`starts` (used by the dreams) runs the same ascent from given images, row = map*S + start."""
    given = engine._starts_for(TINY.noise_scales, np.arange(3), seed=9, pixel_range=PIXEL_RANGE)[2:]  # map 1, 2
    res = engine.layer_oips(model, "Conv2D_1", TINY, PIXEL_RANGE, seed=9, maps=[1, 4], starts=given)
    assert res["patterns"].shape == (2, 2, 28, 28)
    assert np.array_equal(res["snapshots"][:, :, 0].reshape(4, 28, 28), given[..., 0])
    # map 1 from its own noise starts, given explicitly, is the ordinary search
    noise = engine.layer_oips(model, "Conv2D_1", TINY, PIXEL_RANGE, seed=9, maps=[1])
    assert np.allclose(res["patterns"][0], noise["patterns"][0], atol=1e-5)
    with pytest.raises(ValueError):
        engine.layer_oips(model, "Conv2D_1", TINY, PIXEL_RANGE, seed=9, maps=[1, 4], starts=given[:3])
