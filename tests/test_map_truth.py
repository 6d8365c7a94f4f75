"""Map pages that tell the truth: firing counts recomputed from the model, statuses that follow them,
examples that are evidence (never zero-activation filler), receptive fields read from the layers."""
from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from generator.features.evidence import firing, map_truth
from generator.model import receptive

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "generator" / "data" / "sample" / "mnist-sample.npz"


def _seed_model():
    import keras

    from generator.model.architecture import build_model

    keras.utils.set_random_seed(0)
    return build_model()


def test_receptive_fields_come_from_the_layers():
    model = _seed_model()
    assert [receptive.field(model, n)[:2] for n in ("Conv2D_1", "Conv2D_2", "Conv2D_3")] == [(3, 1), (8, 2), (18, 4)]
    assert receptive.box((18, 4, 0), 2, 2, 28, 28) == (8, 8, 26, 26)


def test_receptive_fields_follow_the_graph_through_a_shortcut():
    """A 1×1 stride-2 shortcut sees only what its own input sees; after the Add, the union of both branches.
    Counted by hand: main 3×3 'same' convolutions widen the field by 2 px × the jump before them."""
    import keras
    from keras import layers

    inp = keras.Input((16, 16, 1))
    stem = layers.Conv2D(2, 3, padding="same", name="stem")(inp)                            # 3, jump 1, from -1
    main = layers.Conv2D(2, 3, strides=2, padding="same", name="main_a")(stem)              # 5, jump 2, from -2
    main = layers.Conv2D(2, 3, padding="same", name="main_b")(main)                         # 9, jump 2, from -4
    short = layers.Conv2D(2, 1, strides=2, name="short")(stem)                              # 3, jump 2, from -1
    added = layers.Add(name="add")([main, short])
    after = layers.Conv2D(2, 3, padding="same", name="after")(added)                        # 13, jump 2, from -6
    model = keras.Model(inp, layers.GlobalAveragePooling2D()(after))
    assert [receptive.field(model, n) for n in ("stem", "main_a", "main_b", "short", "after")] == \
        [(3, 1, -1), (5, 2, -2), (9, 2, -4), (3, 2, -1), (13, 2, -6)]
    size, jump, start = receptive.field(model, "short")
    assert all(receptive.box((size, jump, start), r, r, 16, 16)[2] > receptive.box((size, jump, start), r, r, 16, 16)[0]
               for r in range(8))  # every position's crop holds pixels


def test_firing_counts_match_a_plain_forward_pass():
    from generator.model import taps

    model = _seed_model()
    x = np.random.default_rng(1).normal(size=(60, 28, 28, 1)).astype(np.float32)
    stats = firing.firing_statistics(model, "Conv2D_2", x, top=9)
    act = taps.outputs(model, ["Conv2D_2"], x)["Conv2D_2"]
    means = act.mean(axis=(1, 2))
    assert np.array_equal(stats["fire_mean"], (means > 0).sum(axis=0))
    assert np.allclose(stats["image_means"], means, atol=1e-6)
    assert np.array_equal(stats["fire_any"], (act.max(axis=(1, 2)) > 0).sum(axis=0))
    shown = stats["top_indices"] >= 0
    assert np.all(stats["top_values"][shown] > 0), "an example with activation 0 is filler, not evidence"
    assert np.array_equal(shown.sum(axis=1), np.minimum(9, stats["fire_mean"]))
    m, t = np.argwhere(shown)[0]
    assert np.allclose(stats["heat"][m, t], act[stats["top_indices"][m, t], :, :, m])


def test_statuses_follow_the_counts():
    final = np.array([[1.0], [1.0], [0.5], [0.0], [0.0]])
    failed = np.array([[False], [False], [False], [False], [True]])
    status = map_truth.map_status(np.array([500, 3, 0, 0, 0]), 1000, final, failed)
    assert list(status) == ["live", "rare", "silent", "dead", "failed"]


def _text(page: Path) -> str:
    body = re.sub(r"<script.*?</script>", " ", page.read_text(encoding="utf-8"), flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)))


def test_badges_and_examples_agree_with_the_model(quick_site):
    """Recompute every map's firing count from the site's own model and the sample's test images."""
    import keras

    recipe = json.loads((quick_site / "model" / "standardization.json").read_text())
    model = keras.saving.load_model(quick_site / "model" / "model.keras")
    x = ((np.load(SAMPLE)["x_test"].astype(np.float32) - recipe["mean"]) / recipe["std"])[..., None]
    n = len(x)
    for layer in ("Conv2D_1", "Conv2D_2", "Conv2D_3"):
        outputs = keras.Model(model.inputs, model.get_layer(layer).output).predict(x, verbose=0, batch_size=500)
        counts = (outputs.mean(axis=(1, 2)) > 0).sum(axis=0)
        for m, count in enumerate(counts):
            page = quick_site / "layers" / layer.lower() / f"map-{m:03d}.html"
            source = page.read_text(encoding="utf-8")
            status = re.search(r'<h1>.*?class="badge (\w+)"', source).group(1)
            expected = "live" if count >= 0.01 * n else "rare" if count else ("silent", "dead", "failed")
            assert status in expected if isinstance(expected, tuple) else status == expected, (layer, m)
            text = _text(page)
            assert f"Fires on {count:,} of the {n:,} test images" in text, (layer, m)
            values = [float(v) for v in re.findall(r"mean ([0-9.e+-]+) · at", text)]
            assert len(values) == min(9, count) and all(v > 0 for v in values), (layer, m)
            if 0 < count < 9:
                assert f"Only {count} of the {n:,} test images activate this map" in text


def test_index_counts_every_status(quick_site):
    text = _text(quick_site / "index.html")
    for word in ("Live", "Rare", "Silent", "Dead"):
        assert word in text
    assert "maps that some test image fires" in text


def test_every_map_has_a_centre_pattern_and_examples_with_heat_and_crop(quick_site):
    for page in sorted((quick_site / "layers").glob("*/map-*.html")):
        source = page.read_text(encoding="utf-8")
        assert "One position&#39;s pattern" in source or "One position's pattern" in source, page
        if "no input the ascent tried raises the central position" in source:  # a position nothing wakes: a sentence, not a picture of nothing
            continue
        assert "-centre-rf.png" in source, page
        heat, crops = source.count("-heat") - source.count("colorbar-heat"), source.count("-crop")
        assert heat == crops, page  # every example shown has both its heat map and its crop


def test_auc_counts_ties_half_and_ranks_right():
    from generator.features.evidence import trust

    scores = np.array([[0.9], [0.8], [0.1], [0.8]])
    positive = np.array([[True], [True], [False], [False]])
    assert trust.auc_per_map(scores, positive)[0] == pytest.approx((1 + 1 + 1 + 0.5) / 4)


def test_a_template_matches_its_own_patch_perfectly():
    from generator.features.evidence import trust

    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 28, 28, 1)).astype(np.float32)
    scores = trust.match_scores(x, x[:, :, :, 0], (4, 5), (8, 2, 0), -0.4)
    assert np.allclose(np.diag(scores), 1.0, atol=1e-4)


def test_a_field_larger_than_the_image_still_matches_its_own_patch():
    """A deep layer of a small image (a ResNet's last stage): the central field runs past the far edge."""
    from generator.features.evidence import trust

    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 8, 8, 1)).astype(np.float32)
    scores = trust.match_scores(x, x[:, :, :, 0], (1, 1), (12, 4, -2), -0.4)
    assert scores.shape == (3, 3)
    assert np.allclose(np.diag(scores), 1.0, atol=1e-4) and (scores <= 1 + 1e-4).all()


def test_every_map_says_how_far_to_trust_it(quick_site):
    for page in sorted((quick_site / "layers").glob("*/map-*.html")):
        text = _text(page)
        assert "How far to trust the picture" in text or "no input the ascent tried raises the central position" in text, page
    assert "Median AUC" in _text(quick_site / "index.html")
