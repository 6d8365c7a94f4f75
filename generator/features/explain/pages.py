"""Why the network predicted that: a page for every misclassified test image, the same explanation
on every image-set page (a "set-image" panel), and a summary of which method to believe.

Overlays share ONE colour scale: each method's map is divided by its own largest |value| on that
image, so −1..1 on the colour bar means "as strong as this method's strongest pixel here", red for
pixels that raise the score, blue for those that lower it, blended over the digit by |value|.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from generator import imaging
from generator.features.explain import faithfulness as faith
from generator.features.explain.attributions import NAME
from generator.features.explain.page_data import (
    Explanation,
    ImagePage,
    LayerTop,
    Overlay,
    SummaryData,
    Tile,
    TopMap,
    method_rows,
    reading,
    verdict,
)
from generator.pages import svg, urls
from generator.pages.model import Figure, Finding, Link, Page, Panel, Topic, chain
from generator.pages.section import Card, Section, in_build
from generator.pages.glossary import Term

SUMMARY = "explain/index.html"
CMAP = "RdBu_r"
COLORBAR = "explain/img/colorbar.png"
CONTRAST = "logit(true) − logit(predicted)"


def image_page(index: int) -> str:
    return f"images/test-{index:05d}.html"


def _asset(index: int, what: str) -> str:
    return f"explain/img/{index:05d}/{what.lower().replace(', ', '-').replace(' ', '-')}.png"


def _art(build):
    return build.results[NAME]


def _rows(art) -> dict[int, int]:
    return {int(i): k for k, i in enumerate(art.arrays["indices"])}


# ---- pictures ------------------------------------------------------------------------------------

def overlay(digit: np.ndarray, values: np.ndarray) -> np.ndarray:
    """RGB: the digit in gray (dimmed to 20-70 %), blended with the colour of values/max|values| by
    its absolute value, so strong pixels show their colour and weak ones the digit."""
    values = np.nan_to_num(np.asarray(values, np.float64))  # a method that broke draws nothing, not garbage
    top = float(np.abs(values).max()) or 1.0
    v = values / top
    base = (51 + digit.astype(np.float64) * (128 / 255))[..., None]
    colour = imaging.colorize(v, CMAP, -1.0, 1.0).astype(np.float64)
    alpha = np.abs(v)[..., None]
    return np.round((1 - alpha) * base + alpha * colour).astype(np.uint8)


def _digit(build, index: int) -> np.ndarray:
    image = build.dataset.x_test[index]
    pixels = np.clip(np.round(image), 0, 255).astype(np.uint8)
    return pixels[..., 0] if pixels.ndim == 3 else pixels


def draw(build, out: Path) -> None:
    art = _art(build)
    a = art.arrays
    for k, index in enumerate(int(i) for i in a["indices"]):
        digit = _digit(build, index)
        imaging.save_png(out / _asset(index, "digit"), digit)
        for m in art.meta["methods"]:
            imaging.save_png(out / _asset(index, m), overlay(digit, a[f"attr/{m}"][k]))
            imaging.save_png(out / _asset(index, "random " + m), overlay(digit, a[f"rand/{m}"][k]))
        if a["wrong"][k]:
            imaging.save_png(out / _asset(index, "contrast"), overlay(digit, a["contrast"][k]))
    imaging.colorbar(out / COLORBAR, CMAP, -1, 1, "share of the method's largest |value|")


# ---- page data -----------------------------------------------------------------------------------

def _overlay(index: int, what: str, label: str, values: np.ndarray, units: str) -> Overlay:
    return Overlay(label, _asset(index, what), f"{label} attribution over test image {index}",
                   f"1 = {float(np.abs(values).max()):.3g} {units}")


UNITS = {"Grad-CAM": "(Grad-CAM units)", "occlusion": "logit drop per pixel"}


def _tops(build, art, k: int) -> list[LayerTop]:
    with_pages = set(build.cfg.oip.layers or ()) if in_build(build, "layers") is not None else set()
    out = []
    for name in (key[4:] for key in art.arrays if key.startswith("top/")):
        maps = [TopMap(int(m), f"{float(v):.3g}",
                       urls.map_asset(name, int(m), "thumb.png") if name in with_pages else None,
                       urls.map_page(name, int(m)) if name in with_pages else None)
                for m, v in zip(art.arrays[f"top/{name}"][k], art.arrays[f"topval/{name}"][k])]
        out.append(LayerTop(name, maps))
    return out


def _table(art, k: slice | int):
    a, methods = art.arrays, art.meta["methods"] + [faith.RANDOM]
    pick = (lambda v: v[k:k + 1]) if isinstance(k, int) else (lambda v: v[k])
    return faith.method_table({m: pick(a[f"del/{m}"]) for m in methods}, {m: pick(a[f"ins/{m}"]) for m in methods},
                              {m: pick(a[f"spearman/{m}"]) for m in art.meta["methods"]},
                              {m: pick(a[f"spearman_digit/{m}"]) for m in art.meta["methods"]})


def explanation(build, index: int) -> Explanation:
    art = _art(build)
    a, k = art.arrays, _rows(art)[index]
    names = build.dataset.class_names
    pred, true = int(a["pred"][k]), int(a["true"][k])
    methods = art.meta["methods"]
    overlays = [_overlay(index, m, m, a[f"attr/{m}"][k], UNITS.get(m, "logit per pixel")) for m in methods]
    randomized = [_overlay(index, "random " + m, m + " (random weights)", a[f"rand/{m}"][k],
                           UNITS.get(m, "logit per pixel")) for m in methods]
    contrast = (_overlay(index, "contrast", CONTRAST, a["contrast"][k], "logit per pixel (integrated gradients)")
                if a["wrong"][k] else None)
    table = _table(art, k)
    rows = method_rows(table)
    series = {m: a[f"del/{m}"][k] for m in methods + [faith.RANDOM]}
    best = next(r.method for r in rows if r.best)
    s = art.meta["settings"]
    gap = float(a["ig_gap"][k])
    ig_note = (f"Completeness of integrated gradients (black baseline): its pixels sum to {float(a['ig_sum'][k]):.3f}, "
               f"the logit of {names[pred]} for this image minus that for an all-black image is {gap:.3f}.")
    curve_note = (f"Pixels are removed (deletion) or put back onto an all-black image (insertion) in order of "
                  f"each method's attribution, most positive first, {faith.STEPS} steps of 1/{faith.STEPS} of the "
                  f"pixels; removed pixels are set to black (0 on the stored pixel scale, {s['fill_pixel']:.3g} as "
                  f"the model is fed it). The curves give the probability of {names[pred]}; the areas under "
                  "them are in the table (deletion: lower is more faithful; insertion: higher).")
    return Explanation(index, _asset(index, "digit"), names[true], names[pred], float(a["probs"][k, pred]),
                       float(a["probs"][k, true]), bool(a["wrong"][k]),
                       svg.bar_chart(a["probs"][k], names, "class", "probability", highlight=pred), overlays, contrast,
                       randomized, COLORBAR, scale_note(), rows,
                       svg.line_chart(series, "pixels removed (step)", f"probability of {names[pred]}", highlight=best),
                       svg.line_chart({m: a[f"ins/{m}"][k] for m in series}, "pixels put back (step)",
                                      f"probability of {names[pred]}", highlight=best), curve_note,
                       reading(rows, table), ig_note, _tops(build, art, k), SUMMARY,
                       image_page(index) if a["wrong"][k] else None)


def scale_note() -> str:
    return ("One colour scale for every overlay: each method's map is divided by its own largest absolute value "
            "on this image (given under each picture), so 1 is that method's strongest pixel here. Red pixels "
            "raise the score, blue ones lower it; the colour covers the gray digit in proportion to |value|.")


def set_image_panel(build, index: int) -> list[Panel]:
    if index not in _rows(_art(build)):
        return []
    return [Panel("explain", "Why the network predicted that", "panels/explain.html", explanation(build, index))]


def summary(build) -> SummaryData:
    art = _art(build)
    a = art.arrays
    wrong = np.flatnonzero(a["wrong"])
    rows = method_rows(_table(art, wrong)) if len(wrong) else []
    names = build.dataset.class_names
    tiles = [Tile(int(a["indices"][k]), _asset(int(a["indices"][k]), "digit"), image_page(int(a["indices"][k])),
                  names[int(a["true"][k])], names[int(a["pred"][k])], float(a["probs"][k, a["pred"][k]]),
                  float(a["probs"][k, a["true"][k]])) for k in wrong]
    findings = [f"{r.method}: {r.verdict}." for r in rows if r.method != faith.RANDOM]
    return SummaryData(len(wrong), rows, findings, how(art), tiles,
                       explanation(build, tiles[0].index) if tiles else None,
                       scope=_scope(len(wrong), len(build.results["evaluation"].arrays["misclassified"])),
                       verdict=_verdict(art),
                       methods=NUMBER_WORDS.get(len(art.meta["methods"]), str(len(art.meta["methods"]))))


NUMBER_WORDS = {4: "four", 5: "five", 6: "six", 7: "seven"}


def _scope(explained: int, total: int) -> str:
    """Which mistakes the page covers, in words: all, or the most confident few (see chosen_mistakes)."""
    if explained == total:
        return f"the {total:,} misclassified test images"
    return f"the {explained:,} misclassified test images the network is most sure of (of {total:,} mistakes)"


def how(art) -> list[str]:
    s = art.meta["settings"]
    cam = art.meta["cam_layer"]
    return [f"Gradient: the derivative of the predicted class's logit with respect to each pixel. SmoothGrad: "
            f"its mean over {s['smooth_samples']} copies with Gaussian noise of {s['smooth_noise']:.0%} of the "
            f"pixel range.", f"Integrated gradients: (image − baseline) × the mean gradient over {s['ig_steps']} "
            f"points on the straight path from the baseline, an all-black image or the image blurred "
            f"(Gaussian, σ = {s['blur_sigma']:g} px); its pixels sum to the logit difference to the baseline.",
            f"Occlusion: the drop of the logit when a {s['patch']}×{s['patch']} square is set to black, squares "
            f"every {s['stride']} px, averaged over the squares covering a pixel.",
            f"Grad-CAM at {cam}, the last map layer: its maps weighted by the mean gradient of the logit, summed, "
            "negative values set to 0, enlarged to the image." if cam else "Grad-CAM needs a chain model; not shown.",
            "Randomization check: the same methods with every weight array of the network replaced by Gaussian "
            "noise of that array's mean and standard deviation; ρ is the Spearman rank correlation of |attribution| "
            "over the pixels (median over the images). A method that still gives a similar picture fails."]


def pages(build) -> list[Page]:
    home, top = Link("Index", urls.INDEX), Link("Explanations", SUMMARY)
    data = summary(build)
    result = [Page(SUMMARY, "explain_index.html", "Explanations", [home], data, section=NAME,
                   description="Which pixels made the network decide, and which attribution method to believe.")]
    image_pages = [Page(t.page, "explain_image.html", f"Test image #{t.index}", [home, top],
                        ImagePage(_own(explanation(build, t.index))), section=NAME,
                        description=f"Test image #{t.index}, a {t.true} taken for a {t.predicted}: why.")
                   for t in data.tiles]
    return result + chain(image_pages, label=lambda p: f"#{p.data.data.index}")


def _own(e: Explanation) -> Explanation:
    """On the image's own page it needs no link to itself."""
    e.page = None
    return e


def page_of(build, index: int) -> str | None:
    """The explanation page of a misclassified test image, when the build has one."""
    if in_build(build, NAME) is None:
        return None
    art = _art(build)
    k = _rows(art).get(int(index))
    return image_page(int(index)) if k is not None and art.arrays["wrong"][k] else None


def cards(build) -> list[Card]:
    data = summary(build)
    lines = [f"{data.count} misclassified test images explained by {len(_art(build).meta['methods'])} methods"]
    if data.verdict:
        lines.append(data.verdict.headline)
    return [Card("Explanations", SUMMARY, lines,
                 [(t.image, f"test image {t.index}, a {t.true} taken for a {t.predicted}", t.page)
                  for t in data.tiles[:12]])]


def _verdict(art):
    """Which method to believe, from the mistakes explained (None without a mistake)."""
    wrong = np.flatnonzero(art.arrays["wrong"])
    return verdict(_table(art, wrong)) if len(wrong) else None


def findings(build) -> list[Finding]:
    """The explanation verdict, on the index: which method to believe for this model."""
    found = _verdict(_art(build))
    return [Finding(found.headline, SUMMARY, "the explanations", order=40)] if found else []


def tour(build) -> list[Finding]:
    """Start here, step 3: the mistake the network is most sure of, and why."""
    art = _art(build)
    wrong = np.flatnonzero(art.arrays["wrong"])
    if not len(wrong):
        return []
    k = int(wrong[0])  # the chosen mistakes come most confident first
    a, names = art.arrays, build.dataset.class_names
    index, pred = int(a["indices"][k]), int(a["pred"][k])
    return [Finding(f"Then one mistake: test image #{index}, a {names[int(a['true'][k])]} the network takes for a "
                    f"{names[pred]} with probability {float(a['probs'][k, pred]):.0%}, and which pixels made it decide.",
                    image_page(index), f"test image #{index} explained", order=3)]


def depends(build):
    return [_art(build).key]


def enabled(build) -> bool:
    return NAME in build.results and len(build.results[NAME].arrays.get("indices", [])) > 0



# ---- what the guide says about this feature, and the terms that link there ----

def _explain_topic(build) -> Topic | None:
    explained = in_build(build, "explanations")
    if explained is None:
        return None
    steps = build.results[explained.NAME].meta["settings"]["steps"]
    return Topic("explanations", "Attributions and how faithful they are", [
        "An attribution says, for one image, how much each pixel did for the predicted class's score (its logit, "
        "the output before the softmax). The gradient is how the score changes when a pixel changes a little; "
        "SmoothGrad averages it over noisy copies of the image; integrated gradients add up the gradient along "
        "the straight path from a baseline image (all black, or the image blurred) to the image, so the pixels' "
        "values sum to the score's difference between the two; occlusion blacks out small squares and records "
        "how much the score drops; Grad-CAM weights the maps of the last convolutional layer by their mean "
        "gradient and enlarges the result. For a mistake the contrast logit(true) − logit(predicted) shows which "
        "pixels spoke for the right class (red) and which for the wrong one (blue).",
        "Whether to believe a method is measured, not assumed. Deletion: the pixels are set to black, "
        f"1/{steps} of them at a time, in the order the method ranks them, most positive first, and the class "
        "probability recorded; a faithful method makes it fall fast (small area under the curve). Insertion: "
        "the pixels are put back onto a black image in the same order; faithful makes it rise fast (large "
        "area). A random order is the reference. The randomization check recomputes every method with the "
        "network's weights replaced by noise: a method whose picture barely changes (high rank correlation) "
        "shows the digit, not what the network learned.",
    ], [Figure(explained.COLORBAR, "the blue–white–red colour scale of the attribution overlays",
               "Overlays: each method's map divided by its largest |value| on the image; red raises the score, "
               "blue lowers it.", explained.SUMMARY)])


def guide_topics(build) -> list:
    return [_explain_topic(build)]


def glossary() -> list:
    return [Term(r"randomization check", "explanations", "the same method on a network with random weights"),
            Term(r"Spearman( rank correlation)?", "explanations", "how alike two rankings of the pixels are (1: the same)"),
            Term(r"insertion − deletion|faithful", "explanations", "how much the pixels a method ranks first matter")]


SECTION = Section(NAME, depends, draw, pages, cards, enabled=enabled, findings=findings, tour=tour, nav=("Explanations", SUMMARY),
                  image_panels=set_image_panel, guide_topics=guide_topics, glossary=glossary)
