"""A map page's test-set evidence: its firing counts in words, and its top examples, each with a
heat map of where the map fires over the digit and the receptive-field crop at its strongest
position. Only images that fire the map are shown; fewer than asked are said to be fewer."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from generator import imaging
from generator.features.evidence.firing import stage_name
from generator.features.evidence.map_truth import MEANING, STATUSES
from generator.features.patterns.oip_results import stage_name as oip_stage
from generator.features.patterns.page_layer_panels import enabled as patterns_shown
from generator.model import receptive
from generator.pages import urls
from generator.pages.glossary import Term
from generator.pages.model import Finding, Panel, Topic
from generator.pages.section import Section

CROP_PX = 54  # crops are enlarged to about this many CSS pixels, whatever the receptive field
HEAT_ALPHA = 0.6  # how much of the heat colour covers the digit


@dataclass
class TopImage:
    index: int
    image: str
    heat: str
    crop: str
    crop_scale: int
    value: float       # the image's mean activation over the map
    peak: float        # the map's value at its strongest position on this image
    position: str      # that position, e.g. "(12, 7)"
    label: str


@dataclass
class Firing:
    """The numbers and sentences of a map's firing statistics, made here so templates only lay out."""
    lines: list[str]
    examples_note: str  # "" when as many examples as asked fire the map
    rf_text: str


def firing_arrays(build) -> dict:
    return {layer: build.results[stage_name(layer)].arrays for layer in build.cfg.oip.layers}


def firing_keys(build) -> list:
    return [build.results[stage_name(layer)].key for layer in build.cfg.oip.layers]


def _heat_pixels(heat: np.ndarray, rf, shape: tuple[int, int]) -> np.ndarray:
    """The activation map laid over the input: each pixel takes the position whose receptive-field
    centre is nearest, so the heat sits where the map looks, not stretched over the whole image."""
    size, jump, start = (int(v) for v in rf)
    centre = start + (size - 1) / 2

    def nearest(n_pixels: int, n_positions: int) -> np.ndarray:
        return np.clip(np.round((np.arange(n_pixels) - centre) / jump), 0, n_positions - 1).astype(int)

    rows, cols = nearest(shape[0], heat.shape[0]), nearest(shape[1], heat.shape[1])
    return heat[np.ix_(rows, cols)]


def _overlay(digit: np.ndarray, heat_px: np.ndarray) -> np.ndarray:
    """RGB: the digit in gray, the map's activation over it in colour (black where it is 0)."""
    base = np.repeat(imaging.gray(digit)[..., None], 3, axis=-1).astype(np.float64)
    top = heat_px.max()
    colour = imaging.colorize(heat_px, "inferno", 0.0, top if top > 0 else 1.0).astype(np.float64)
    weight = HEAT_ALPHA * (heat_px > 0)[..., None]
    return (base * (1 - weight) + colour * weight).round().astype(np.uint8)


def draw(build, out: Path, layer: str, m: int, f: dict) -> None:
    images = build.dataset.x_test
    for t, index in enumerate(f["top_indices"][m]):
        if index < 0:
            continue
        image = np.asarray(images[int(index)], np.float64)
        image = image[..., 0] if image.ndim == 3 and image.shape[-1] == 1 else image
        digit = image.mean(axis=-1) if image.ndim == 3 else image  # the heat lies over a gray copy of a colour image
        heat_px = _heat_pixels(f["heat"][m, t], f["rf"], digit.shape)
        imaging.save_png(out / urls.map_asset(layer, m, f"heat{t}.png"), _overlay(digit, heat_px))
        top, left, bottom, right = receptive.box(f["rf"], *f["peak"][m, t], *digit.shape)
        crop = image[top:bottom, left:right]
        if crop.ndim == 3:  # the crop keeps its colours
            imaging.save_png(out / urls.map_asset(layer, m, f"crop{t}.png"), np.clip(crop, 0, 255).round().astype(np.uint8))
        else:
            imaging.save_array_png(out / urls.map_asset(layer, m, f"crop{t}.png"), crop, None)


def top_images(build, layer: str, m: int, f: dict) -> list[TopImage]:
    names = build.dataset.class_names
    scale = max(1, CROP_PX // int(f["rf"][0]))
    out = []
    for t, (index, value) in enumerate(zip(f["top_indices"][m], f["top_values"][m])):
        if index < 0:
            continue
        row, col = (int(v) for v in f["peak"][m, t])
        out.append(TopImage(int(index), urls.test_image(int(index)), urls.map_asset(layer, m, f"heat{t}.png"),
                            urls.map_asset(layer, m, f"crop{t}.png"), scale, float(value),
                            float(f["peak_value"][m, t]), f"({row}, {col})",
                            names[int(build.dataset.y_test[int(index)])]))
    return out


def firing(build, m: int, f: dict, asked: int) -> Firing:
    n = len(build.dataset.x_test)
    fire, anywhere = int(f["fire_mean"][m]), int(f["fire_any"][m])
    lines = [f"Fires on {fire:,} of the {n:,} test images ({fire / n:.2%}): their mean activation over the "
             f"map is above 0" + ("" if anywhere == fire else
                                  f"; {anywhere:,} have some position above 0"),
             f"Mean activation over all test images {f['mean'][m]:.4g}; 99th percentile of the images' means "
             f"{f['p99'][m]:.4g}"]
    shown = int((f["top_indices"][m] >= 0).sum())
    if shown == 0:
        note = f"No test image activates this map: none of the {n:,} gives it a mean activation above 0."
    elif shown < min(asked, n):
        note = f"Only {shown} of the {n:,} test images activate this map; all of them are shown."
    else:
        note = ""
    size, jump = int(f["rf"][0]), int(f["rf"][1])
    rf_text = (f"Each example: the digit, where the map fires over it (heat, black where 0), and the "
               f"{size}×{size}-pixel patch one position of this layer sees (its receptive field, read from "
               f"the model's layers; neighbouring positions are {jump} px apart), at the strongest position.")
    return Firing(lines, note, rf_text)


@dataclass
class CentreView:
    """The pattern that drives the map's central position hardest, whole and inside its receptive field."""
    whole: str
    crop: str
    crop_scale: int
    caption: str


def draw_centre(build, out: Path, layer: str, m: int, centre: dict | None, f: dict, pixels) -> None:
    if centre is None:
        return
    pattern = pixels(centre["patterns"][m])
    top, left, bottom, right = receptive.box(f["rf"], *centre["position"], *pattern.shape[:2])
    for name, view in (("centre.png", pattern), ("centre-rf.png", pattern[top:bottom, left:right])):
        if view.ndim == 3:  # a colour pattern is shown in its colours, contrast-stretched
            imaging.save_png(out / urls.map_asset(layer, m, name), (imaging.contrast(view) * 255).round().astype(np.uint8))
        else:
            imaging.save_array_png(out / urls.map_asset(layer, m, name), imaging.contrast(view), "gray", 0, 1)


def centre_view(layer: str, m: int, centre: dict | None, f: dict) -> CentreView | None:
    if centre is None:
        return None
    size = int(f["rf"][0])
    row, col = centre["position"]
    return CentreView(urls.map_asset(layer, m, "centre.png"), urls.map_asset(layer, m, "centre-rf.png"),
                      max(1, CROP_PX * 2 // size),
                      f"The input that drives position ({row}, {col}) of the map hardest (activation "
                      f"{float(centre['final'][m]):.4g}), whole (contrast-enhanced) and inside the "
                      f"{size}×{size}-pixel receptive field that position sees: only those pixels can change it.")


def trust_auc(build, layer: str) -> np.ndarray | None:
    """Each map's ROC AUC from the trust stage, or None when it did not run."""
    from generator.features.evidence.trust import stage_name as trust_stage

    art = build.results.get(trust_stage(layer))
    return None if art is None or not len(art.arrays["auc"]) else art.arrays["auc"]


MIN_FIRED = 20  # test images: an AUC over fewer images the map fires on says little, and is not shown


def trust_sentence(auc: float, n: int, fired: int) -> str:
    if np.isnan(auc):
        return ("How far to trust the picture: not measurable, as no test image fires this map strongly "
                "(or every one does).")
    if fired < MIN_FIRED:
        return (f"How far to trust the picture: not measured, as only {fired} of the {n:,} test images fire this "
                f"map; a ranking over so few images says little (at least {MIN_FIRED} are needed here).")
    return (f"How far to trust the picture: ROC AUC {auc:.2f}. Over the {n:,} test images, the best match "
            f"(normalized correlation) of the position's pattern above with any patch of an image ranks an image "
            f"this map fires strongly on (its top 10 %) above one it does not {auc:.0%} of the time; 0.5 "
            f"would be chance, 1 a perfect guide.")


def median_auc_text(auc: np.ndarray | None, fired: np.ndarray) -> str:
    """The median over the maps enough test images fire (MIN_FIRED): the others' AUC says little."""
    if auc is None:
        return "–"
    auc = np.where(np.asarray(fired) >= MIN_FIRED, auc, np.nan)
    return f"{float(np.nanmedian(auc)):.2f}" if np.isfinite(auc).any() else "–"



# ---- the evidence on map and layer pages: the map page lays these panels out and knows none of them ----

@dataclass
class Examples:
    """A map's firing counts in words and its strongest test images, each with heat map and crop."""
    layer: str
    index: int
    firing: Firing
    top: list[TopImage]


@dataclass
class Position:
    """The central position's pattern, and how far it predicts the images the map fires strongly on."""
    layer: str
    index: int
    centre: CentreView
    trust: str


def _oip(build, layer: str) -> dict:
    return build.results[oip_stage(layer)].arrays


def _centres(build, layer: str) -> dict | None:
    from generator.features.patterns.centre_nodes import centre_patterns

    return centre_patterns(build, layer, _oip(build, layer))


def _trust(build, layer: str, m: int) -> str:
    auc = trust_auc(build, layer)
    fired = int(firing_arrays(build)[layer]["fire_mean"][m])
    return "" if auc is None else trust_sentence(float(auc[m]), len(build.dataset.x_test), fired)


def depends(build) -> list:
    from generator.features.patterns.centre_nodes import stage_name as centre_stage

    centres = [build.results[centre_stage(layer)].key for layer in build.cfg.oip.layers
               if centre_stage(layer) in build.results]
    oips = [build.results[oip_stage(layer)].key for layer in build.cfg.oip.layers]
    return firing_keys(build) + centres + oips + [build.mean, build.std]


def draw_all(build, out: Path) -> None:
    from generator.data.dataset import unstandardize
    from generator.pages.colour_keys import HEAT
    from generator.pages.testimages import draw_test_images

    firing_of = firing_arrays(build)
    for layer in build.cfg.oip.layers:
        f, centres = firing_of[layer], _centres(build, layer)
        for m in range(len(f["fire_mean"])):
            draw(build, out, layer, m, f)
            draw_centre(build, out, layer, m, centres, f, lambda x: unstandardize(x, build.mean, build.std))
        top = f["top_indices"]
        draw_test_images(build, out, top[top >= 0])
    HEAT.draw(out)


def map_panels(build, layer: str, m: int) -> list[Panel]:
    from generator.pages.colour_keys import HEAT

    f = firing_arrays(build)[layer]
    panels = []
    centres = _centres(build, layer)
    centre = centre_view(layer, m, centres, f)
    if centre is not None and not float(centres["final"][m]) > 0:
        panels.append(Panel("position", "One position's pattern", "panels/note.html",
                            f"Not shown: no input the ascent tried raises the central position of map {m} above 0, "
                            f"so its picture would show nothing the map responds to."))
    elif centre is not None:
        panels.append(Panel("position", "One position's pattern", "evidence/position.html",
                            Position(layer, m, centre, _trust(build, layer, m))))
    top = top_images(build, layer, m, f)
    panels.append(Panel("examples", "Test images that drive it hardest", "evidence/examples.html",
                        Examples(layer, m, firing(build, m, f, build.cfg.oip.top_images), top),
                        colours=HEAT if top else None))
    return panels


def layer_panels(build, layer: str) -> list[Panel]:
    median = median_auc_text(trust_auc(build, layer), firing_arrays(build)[layer]["fire_mean"])
    return [Panel("trust", "How far to trust the pictures", "evidence/trust.html", median)]



def tour(build) -> list[Finding]:
    """Start here, step 2: one map of the middle layer, the one whose picture best predicts the images it
    fires on (among the maps enough images fire to say), else the one most images fire."""
    layers = build.cfg.oip.layers
    if not layers:
        return []
    layer = layers[len(layers) // 2]
    fired, n = firing_arrays(build)[layer]["fire_mean"], len(build.dataset.x_test)
    enough = fired >= MIN_FIRED
    auc = trust_auc(build, layer)
    scored = np.where(enough, auc, np.nan) if auc is not None else np.full(len(fired), np.nan)
    if np.isfinite(scored).any():
        m = int(np.nanargmax(scored))
        why = f"the one whose picture best predicts the test images it fires on (ROC AUC {scored[m]:.2f})"
    elif fired.max() > 0:
        m = int(np.argmax(fired))
        why = "the one the most test images fire"
    else:
        return []
    return [Finding(f"Then one map: {layer} map {m}, {why}; it fires on {fired[m] / n:.0%} of the test images. "
                    f"Its page shows what it responds to, and on what evidence.",
                    urls.map_page(layer, m), f"{layer} map {m}", order=2)]


# ---- what the guide says about this feature, and the terms that link there ----

def _status_topic() -> Topic:
    return Topic("statuses", "Statuses", [f"{name.capitalize()}: {MEANING[name]}." for name in STATUSES] + [
        "Firing means a test image's mean activation over the whole map is above 0; the map page gives the "
        "counts, and for a map that never fires it says so instead of drawing charts of zeros."])


def _heat_topic() -> Topic:
    return Topic("heat", "Heat maps", [
        "Under each test image that drives a map hardest, a heat map shows where on the digit the map fires: its "
        "activation at each position, laid over a gray copy of the digit, from no colour at 0 to pale yellow at "
        "that image's strongest position. It uses the inferno scale rather than viridis so that the heat stands "
        "apart from the gray digit; its colour bar is on every map page.",
    ])


def _receptive_topic() -> Topic:
    return Topic("receptive-field", "Receptive fields", [
        "One position of a map does not see the whole image, only a square patch of it: its receptive field, "
        "which grows with each convolution and pooling layer (read from the model's own layers). The crops next "
        "to each test image show the patch seen by the map's strongest position.",
    ])


def _trust_topic() -> Topic:
    return Topic("trust", "How far to trust a picture", [
        "A map's pattern is a claim: “this is what the map looks for”. The claim is tested on the test images. "
        "The pattern of the map's central position is matched against every patch of every test image "
        "(normalized correlation); if the claim holds, the images the map fires on strongly (its top 10 %) "
        "contain a better match than the others. The ROC AUC says how often: the chance that an image the map "
        "fires on strongly has a better best match than one it does not. 0.5 is chance (the picture tells "
        "nothing), 1 is a perfect guide.",
        f"The AUC is not shown for a map fewer than {MIN_FIRED} test images fire, nor counted in a layer's median: "
        "a ranking of so few images says little.",
    ])


def guide_topics(build) -> list:
    return [_status_topic(), _heat_topic(), _receptive_topic(), _trust_topic()]


def glossary() -> list:
    return [Term(r"live|rare|silent|dead|failed", "statuses", "a map's status: whether and how often it fires"),
            Term(r"heat maps?|heat", "heat", "where on an image a map fires, position by position"),
            Term(r"receptive fields?", "receptive-field", "the patch of the input one position of a layer sees"),
            Term(r"how far to trust|ROC AUC", "trust", "whether the picture predicts the images the map fires on")]


SECTION = Section("evidence", depends, draw_all, enabled=patterns_shown, map_panels=map_panels, tour=tour,
                  layer_panels=layer_panels, guide_topics=guide_topics, glossary=glossary)
