"""The OIP stage's start from a test image: for a map that test images fire but no noise start matches,
one more climb begins at the image that drives it hardest. A tiny model with known weights, the noise
results laid out by hand, the activations recomputed with the model itself."""
from __future__ import annotations

import os
from types import SimpleNamespace

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from generator.features.patterns import oip_stage
from generator.features.patterns.oip_results import start_labels
from generator.config.oip import OIPConfig  # noqa: E402

PR = (-0.4, 2.8)


def _dot_detector():
    """10×10 input → map 0: an isolated bright pixel (centre +8, ring −1, bias −2: −2 on every uniform image), faint on most inputs;
    map 1: the plain mean of a 3×3 window."""
    import keras

    inp = keras.Input((10, 10, 1))
    conv = keras.layers.Conv2D(2, 3, activation="relu", name="Conv2D_1")
    model = keras.Model(inp, keras.layers.Flatten()(conv(inp)))
    dot = -np.ones((3, 3), np.float32)
    dot[1, 1] = 8.0
    kernel = np.stack([dot, np.full((3, 3), 1 / 9, np.float32)], axis=-1)[:, :, None, :]
    conv.set_weights([kernel, np.array([-2.0, 0.0], np.float32)])
    return model


def _map_means(model, images):
    return model.predict(images, verbose=0).reshape(len(images), 8, 8, 2).mean(axis=(1, 2))


def test_a_map_no_noise_start_matches_climbs_from_its_best_test_image():
    model = _dot_detector()
    x = np.full((3, 10, 10, 1), PR[0], np.float32)
    x[1, 4, 4] = PR[1]                        # image 1: one bright dot, the dot map's best image
    x[2, 2:8, 2:8] = 1.0                      # image 2: a gray square
    means = _map_means(model, x)
    assert means[1, 0] > 0 and means[0, 0] == 0
    cfg = OIPConfig(steps=40, noise_scales=[1, 3], snapshots=3)
    build = SimpleNamespace(model=model, cfg=SimpleNamespace(oip=cfg, seed=0), pixel_range=lambda: PR,
                            x_test=lambda: x, ascent=lambda c: c)
    n = 2
    a = {"patterns": np.zeros((n, 2, 10, 10), np.float32), "snapshots": np.zeros((n, 2, 3, 10, 10), np.float32),
         "curve": np.zeros((n, 2, 41), np.float32),
         "final": np.array([[0.001, 0.0], [5.0, 4.0]], np.float32),   # map 0: both noise starts far below
         "failed": np.zeros((n, 2), bool),
         "stat_best_test": means[[1, 2], [0, 1]].astype(np.float32), "stat_top_indices": np.array([[1, 0], [2, 0]])}
    out = oip_stage._image_starts(build, "Conv2D_1", a)

    assert out["start_image"].tolist() == [[-1, 1], [-1, -1]]   # the weaker noise start of map 0 replaced
    assert a["final"][0, 0] == np.float32(0.001)                 # the other start untouched, map 1 untouched
    assert a["final"][1].tolist() == [5.0, 4.0]
    recomputed = _map_means(model, a["patterns"][0, 1][None, ..., None])[0, 0]
    assert np.isclose(a["final"][0, 1], recomputed, rtol=1e-4)   # the value is the pattern's, not a guess
    assert recomputed >= means[1, 0]                             # at least as strong as the best test image
    assert PR[0] - 1e-6 <= a["patterns"][0, 1].min() and a["patterns"][0, 1].max() <= PR[1] + 1e-6
    assert start_labels([1, 3], out["start_image"][0]) == ["noise scale 1 px", "test image #1"]
