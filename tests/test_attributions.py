"""Explanations on a tiny model whose right answer is known, and their pages in the quick site.

The tiny model multiplies its input by a mask that keeps only the left half (columns 0-13), so no
pixel of the right half can change its output: every attribution must put its mass on the left, and
deleting pixels in the order an attribution gives must lower the probability faster than deleting
the right half first (which changes nothing until half the pixels are gone).
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from generator.analyses import attr_core as core
from generator.analyses import faithfulness as faith
from generator.analyses.attributions import _probability, attributions, randomized

ROOT = Path(__file__).resolve().parent.parent
LEFT = 14
MEAN, STD = 33.3, 78.6
RANGE = ((0 - MEAN) / STD, (255 - MEAN) / STD)


@pytest.fixture(scope="module")
def tiny():
    import keras

    keras.utils.set_random_seed(3)
    mask = np.zeros((1, 28, 28, 1), np.float32)
    mask[:, :, :LEFT] = 1.0
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Lambda(lambda t: t * mask, name="left_half"),  # the right half becomes 0: no activation
        keras.layers.Conv2D(6, 3, activation="relu", name="conv_a"),
        keras.layers.MaxPooling2D(2, name="pool"),
        keras.layers.Conv2D(8, 3, activation="relu", name="conv_b"),
        keras.layers.Flatten(name="flat"),
        keras.layers.Dense(3, activation="softmax", name="out"),
    ])
    images = np.load(ROOT / "generator" / "data" / "sample" / "mnist-sample.npz")["x_test"][:6]
    x = ((images.astype(np.float32) - MEAN) / STD)[..., None]
    scorer = core.Scorer(model, "conv_b")
    pred = model.predict(x, verbose=0).argmax(axis=1)
    w = np.eye(3, dtype=np.float32)[pred]
    return model, scorer, x, pred, w, attributions(scorer, x, w, RANGE)


# Share of the mass allowed right of the border: a 4×4 occlusion patch straddling it spreads its drop
# over two right-hand columns; Grad-CAM is an 11×11 map (each cell sees 8 px) resized to 28×28, so the
# cell that sees columns 12-19 spreads over the border: coarse, but nothing right of column 18.
BORDER_SHARE = {"occlusion": 0.2, "Grad-CAM": 0.25}


def test_every_method_puts_its_mass_on_the_left_half(tiny):
    _, _, _, _, _, attr = tiny
    assert set(attr) == {"gradient", "SmoothGrad", "IG, black baseline", "IG, blurred baseline", "occlusion",
                         "Grad-CAM"}
    for method, a in attr.items():
        mass = np.abs(a)
        assert mass.sum() > 0, method
        right = mass[:, :, LEFT:].sum() / mass.sum()
        assert right < BORDER_SHARE.get(method, 0.0) + 1e-6, (method, right)
    # a patch straddling the border spreads its drop two columns over it, never further
    assert np.abs(attr["occlusion"][:, :, LEFT + core.OCCLUSION_PATCH - 2:]).max() < 1e-5
    assert np.abs(attr["Grad-CAM"][:, :, 19:]).max() == 0.0
    for method in ("gradient", "SmoothGrad", "IG, black baseline", "IG, blurred baseline"):
        assert np.abs(attr[method][:, :, LEFT:]).max() == 0.0, method  # exactly: the mask cuts the gradient


def test_deletion_falls_faster_in_attribution_order_than_right_half_first(tiny):
    _, scorer, x, pred, _, attr = tiny
    probability = _probability(scorer, 3)
    right_first = np.zeros(x.shape[:3], np.float32)
    right_first[:, :, LEFT:] = 1.0
    reference = faith.curves(probability, x, right_first, pred, RANGE[0], insertion=False)
    half = faith.STEPS * (28 - LEFT) // 28
    np.testing.assert_allclose(reference[:, :half + 1], np.broadcast_to(reference[:, :1], (len(x), half + 1)), atol=1e-6)  # the right half is ignored
    for method, a in attr.items():
        deletion = faith.curves(probability, x, a, pred, RANGE[0], insertion=False)
        np.testing.assert_allclose(deletion[:, 0], reference[:, 0], atol=1e-6)
        assert faith.area(deletion).mean() < faith.area(reference).mean() - 0.02, method
        insertion = faith.curves(probability, x, a, pred, RANGE[0], insertion=True)
        np.testing.assert_allclose(insertion[:, -1], reference[:, 0], atol=1e-5)  # all put back: the image


def test_integrated_gradients_are_complete(tiny):
    _, scorer, x, _, w, _ = tiny
    black = np.full_like(x, RANGE[0])
    ig = core.integrated(scorer, x, w, black, steps=256)
    gap = scorer.scores(x, w) - scorer.scores(black, w)
    np.testing.assert_allclose(ig.reshape(len(x), -1).sum(axis=1), gap, rtol=0.02, atol=0.02)


def test_occlusion_is_the_score_drop_of_a_patch(tiny):
    _, scorer, x, _, w, attr = tiny
    one = x[:1].copy()
    one[:, 0:4, 0:4] = RANGE[0]  # the top-left patch covers pixel (0, 0) alone
    drop = scorer.scores(x[:1], w[:1]) - scorer.scores(one, w[:1])
    np.testing.assert_allclose(attr["occlusion"][0, 0, 0], drop[0], rtol=1e-4, atol=1e-5)


def test_randomized_weights_are_restored_and_change_the_attribution(tiny):
    model, scorer, x, _, w, attr = tiny
    before = [v.copy() for v in model.get_weights()]
    with randomized(model):
        rand = core.vanilla(scorer, x, w)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert not np.allclose(rand, attr["gradient"])
    np.testing.assert_allclose(core.vanilla(scorer, x, w), attr["gradient"], rtol=1e-5, atol=1e-7)
    same = faith.spearman(attr["gradient"], attr["gradient"])
    np.testing.assert_allclose(same, 1.0)
    assert np.isnan(faith.spearman(np.zeros((1, 4, 4)), attr["gradient"][:1, :4, :4]))[0]
