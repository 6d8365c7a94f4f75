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

from generator.features.explain import attr_core as core
from generator.features.explain import faithfulness as faith
from generator.features.explain.attributions import _probability, attributions, randomized

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
BORDER_SHARE = {"occlusion": 0.3, "Grad-CAM": 0.25}


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
    start = np.broadcast_to(reference[:, :1], (len(x), half + 1))
    np.testing.assert_allclose(reference[:, :half + 1], start, atol=1e-6)  # the right half is ignored
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


# ---- the pages, in the quick site ------------------------------------------------------------------

def _hrefs(page: Path) -> list[str]:
    return re.findall(r'href="([^"#]+)', page.read_text(encoding="utf-8"))


def _wrong(site: Path) -> list[int]:
    text = (site / "confusion.html").read_text(encoding="utf-8")
    return [int(i) for i in re.findall(r"<b>#(\d+)</b>", text.split("Every misclassified test image")[1])]


def _unresolved(site: Path, pages: list[Path]) -> list[str]:
    """The href/src of these pages that do not name a file of the site (tests/linkcheck, on a few pages)."""
    from linkcheck import parse

    bad = []
    for page in pages:
        for _tag, ref in parse(page).refs:
            path = ref.split("#")[0]
            if path and not (page.parent / path).resolve().is_file():
                bad.append(f"{page.relative_to(site)}: {ref}")
    return bad


def test_every_misclassified_image_has_a_page_linked_from_the_confusion_page(quick_site):
    wrong = _wrong(quick_site)
    assert wrong, "the quick model makes no mistakes?"
    pages = sorted(p.name for p in (quick_site / "images").glob("test-*.html"))
    assert pages == sorted(f"test-{i:05d}.html" for i in set(wrong))
    assert {f"images/test-{i:05d}.html" for i in wrong} <= set(_hrefs(quick_site / "confusion.html"))
    ours = (sorted((quick_site / "images").glob("*.html")) + [quick_site / "explain" / "index.html",
            quick_site / "confusion.html"] + sorted(quick_site.glob("sets/*/image-*.html")))
    assert _unresolved(quick_site, ours) == []


def test_an_image_page_shows_methods_contrast_probabilities_and_linked_maps(quick_site):
    index = _wrong(quick_site)[0]
    page = quick_site / "images" / f"test-{index:05d}.html"
    html = page.read_text(encoding="utf-8")
    for method in ("gradient", "SmoothGrad", "IG, black baseline", "IG, blurred baseline", "occlusion", "Grad-CAM",
                   "logit(true) − logit(predicted)", "random order"):
        assert method in html, method
    assert html.count('class="bar') == 10  # one probability bar per class
    maps = [h for h in _hrefs(page) if "/map-" in h]
    assert maps and all((page.parent / h).resolve().is_file() for h in maps)
    assert "Completeness of integrated gradients" in html
    assert "explain/img/colorbar.png" in html


def test_set_image_pages_carry_the_explanation_and_the_summary_reads_its_numbers(quick_site):
    set_pages = sorted(quick_site.glob("sets/*/image-*.html"))
    assert set_pages and all('id="explain"' in p.read_text(encoding="utf-8") for p in set_pages)
    full = (quick_site / "explain" / "index.html").read_text(encoding="utf-8")
    summary = full.split("What the numbers say")[0]  # the method table, not the example's
    rows = re.findall(r"<tr[^>]*><td>([^<]+)</td><td class=\"n\">([0-9.]+)</td><td class=\"n\">([0-9.]+)</td>"
                      r"<td class=\"n\">([+−-][0-9.]+)</td>", summary)
    assert len(rows) == 7, rows  # six methods and the random order
    for method, deletion, insertion, score in rows:
        assert abs(float(insertion) - float(deletion) - float(score.replace("−", "-"))) < 0.0015, method
    assert "randomization check" in full
    assert "explain/index.html" in (quick_site / "index.html").read_text(encoding="utf-8")


def test_rank_correlation_on_the_digit_ignores_the_shared_black_background():
    a = np.zeros((1, 10, 10), np.float32)
    b = np.zeros((1, 10, 10), np.float32)
    a[0, 0, :5] = [1, 2, 3, 4, 5]
    b[0, 0, :5] = [5, 4, 3, 2, 1]   # opposite order on the "digit", the same zeros elsewhere
    digit = np.zeros((1, 10, 10), bool)
    digit[0, 0, :5] = True
    assert faith.spearman(a, b)[0] > 0.5
    np.testing.assert_allclose(faith.spearman(a, b, where=digit), [-1.0])


def test_a_network_with_many_mistakes_gets_its_most_confident_ones_explained():
    from types import SimpleNamespace

    from generator.features.explain import attributions
    from generator.features.explain.pages import _scope

    n, k = attributions.MAX_MISTAKES + 40, 3
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(k), size=n + 10).astype(np.float32)
    wrong = np.arange(5, n + 5)
    build = SimpleNamespace(results={"evaluation": SimpleNamespace(arrays={"probs": probs, "misclassified": wrong})})
    chosen = attributions.chosen_mistakes(build)
    sure = probs[wrong].max(axis=1)
    assert len(chosen) == attributions.MAX_MISTAKES and (np.diff(chosen) > 0).all()
    assert sure[np.isin(wrong, chosen)].min() >= sure[~np.isin(wrong, chosen)].max()
    assert _scope(len(chosen), n) == (f"the {attributions.MAX_MISTAKES} misclassified test images the network is "
                                      f"most sure of (of {n} mistakes)")
    small = SimpleNamespace(results={"evaluation": SimpleNamespace(arrays={"probs": probs, "misclassified": wrong[:9]})})
    assert attributions.chosen_mistakes(small).tolist() == wrong[:9].tolist() and _scope(9, 9) == "the 9 misclassified test images"
