"""Patterns that are never flat, and three patterns per map made distinct: on tiny models whose
answer is known (a filter with a positive sum collapses the plain map mean to a flat square), and
on the quick site (its build line, its panels)."""
from __future__ import annotations

import os
import re

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from generator.features.patterns import diversity
from generator.features.evidence import map_truth
from generator.config.oip import OIPConfig  # noqa: E402

PR = (-0.4, 2.8)  # a pixel range in standardized units, as MNIST's


def _positive_filter_model():
    """12×12 input → one 3×3 ReLU filter whose weights are all positive but unequal (sum 2.25)."""
    import keras

    inp = keras.Input((12, 12, 1))
    conv = keras.layers.Conv2D(1, 3, activation="relu", name="Conv2D_1")
    model = keras.Model(inp, keras.layers.Flatten()(conv(inp)))
    kernel = np.array([[0.1, 0.2, 0.1], [0.2, 1.0, 0.2], [0.1, 0.2, 0.15]], np.float32)
    conv.set_weights([kernel[:, :, None, None], np.zeros(1, np.float32)])
    return model


def _climb(model, objective_class, **extra):
    from generator.ascent import objectives, render, transforms
    from generator.ascent.param import noise_starts

    cfg = OIPConfig()
    starts = noise_starts([1, 3], [0], 0, PR, 12)
    spatial = objectives.spatial_weights(2, (10, 10))
    objective = objective_class("Conv2D_1", [0, 0], spatial, **extra)
    return render.render(model, objective, starts, 160, cfg.step_size, 0, transforms.from_config(cfg, PR))["images"][..., 0]


def test_the_plain_mean_collapses_and_the_contrast_objective_does_not():
    from generator.ascent import objectives

    model = _positive_filter_model()
    plain = _climb(model, objectives.MapMean)
    assert (map_truth.bound_share(plain, PR) >= map_truth.FLAT_SHARE).all()  # the collapse this fixes
    shown = _climb(model, objectives.Contrast, k=3.0)
    assert (map_truth.bound_share(shown, PR) < map_truth.FLAT_SHARE).all()
    assert (shown.reshape(2, -1).std(axis=1) > 0.2 * (PR[1] - PR[0])).all()  # structure, not a uniform gray
    act = model.predict(shown[..., None], verbose=0)
    assert (act.mean(axis=1) > 0).all()  # and the map still fires on it


def test_pairwise_similarity_is_a_mean_cosine():
    v = np.array([[1.0, 0, 0], [1.0, 0, 0], [0, 1.0, 0]])
    assert np.isclose(diversity.pairwise(v)[0], 1 / 3)  # pairs: 1, 0, 0


def _two_conv_model():
    import keras

    keras.utils.set_random_seed(3)
    inp = keras.Input((12, 12, 1))
    h = keras.layers.Conv2D(6, 3, activation="relu", name="Conv2D_1")(inp)
    out = keras.layers.Conv2D(2, 3, activation="relu", name="Conv2D_2")(h)
    return keras.Model(inp, keras.layers.Flatten()(out))


def test_diversity_members_are_distinct():
    model = _two_conv_model()
    cfg = OIPConfig(noise_scales=[2])  # the same noise scale for all three: only the term can part them
    scale = np.ones(2)
    alike = diversity.diverse_patterns(model, "Conv2D_2", scale, cfg, PR, 0, weight=0.0, steps=48)
    apart = diversity.diverse_patterns(model, "Conv2D_2", scale, cfg, PR, 0, weight=1.0, steps=48)
    assert apart["patterns"].shape == (2, 3, 12, 12)
    assert (apart["gram"] < alike["gram"]).all()
    assert (apart["gram"] < 0.9).all()
    # recompute one map's Gram similarity independently from its members' activations
    import keras

    sub = keras.Model(model.inputs, model.get_layer("Conv2D_2").output)
    act = sub.predict(apart["patterns"][0][..., None], verbose=0).reshape(3, -1, 2)
    grams = np.stack([(a.T @ a).ravel() for a in act])
    grams /= np.linalg.norm(grams, axis=1, keepdims=True)
    assert np.isclose(apart["gram"][0], np.mean([grams[0] @ grams[1], grams[0] @ grams[2], grams[1] @ grams[2]]),
                      atol=1e-4)


def test_quick_site_prints_no_flat_shown_pattern_and_has_the_panels(quick_site):
    log = (quick_site.parent / "build.log").read_text()
    line = next(l for l in log.splitlines() if l.startswith("[shown] flat best patterns"))
    assert re.search(r": 0 shown \(", line), line
    for page in sorted((quick_site / "layers").glob("conv2d_[23]/map-*.html")):
        source = page.read_text(encoding="utf-8")
        assert 'id="diversity"' in source, page
        if "none of the three patterns searched together wakes map" in source:  # nothing to show: said so
            assert source.count("-diverse") == 0, page
            continue
        assert "Gram matrices" in source and source.count("-diverse") == 3, page
        assert (page.parent / "img" / f"{page.stem}-diverse0.png").exists()
    for page in (quick_site / "layers" / "conv2d_1").glob("map-*.html"):  # the first layer's kernel says it all
        assert 'id="diversity"' not in page.read_text(encoding="utf-8"), page
