"""How to read this gallery: one page that explains every term, method and colour scale the other pages
use, with small pictures from this very gallery, linked from every page's header.

The explanations are built from the build's own settings and results (its noise scales, its layers,
the map it shows as an example), so they never describe another network than the one on the pages.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from generator import imaging
from generator.features.evidence.map_truth import MEANING, STATUSES
from generator.features.patterns.oip_results import best_final, stage_name, super_ratio
from generator.pages import urls
from generator.pages.model import Link, Page
from generator.pages.section import Section, in_build

NAME = "guide"
COLOURBAR_VIRIDIS = "guide/img/viridis.png"
COLOURBAR_DIVERGING = "guide/img/rdbu.png"
COLOURBAR_GRAY = "guide/img/gray.png"


@dataclass
class Figure:
    image: str
    alt: str
    caption: str
    link: str | None = None
    scale: int = 1


@dataclass
class Topic:
    anchor: str
    title: str
    paragraphs: list[str]
    figures: list[Figure] = field(default_factory=list)


@dataclass
class GuideData:
    topics: list[Topic]


def enabled(build) -> bool:
    return True


def depends(build):
    return []


def draw(build, out: Path) -> None:
    imaging.colorbar(out / COLOURBAR_VIRIDIS, "viridis", 0, 255, "pixel value of a pattern")
    imaging.colorbar(out / COLOURBAR_DIVERGING, "RdBu_r", -1, 1, "negative · zero · positive")
    imaging.colorbar(out / COLOURBAR_GRAY, "gray", 0, 255, "pixel value: black 0, white 255")


def _example(build):
    """(layer, map) of the deepest OIP layer's map with the highest ratio: the gallery's own example."""
    if in_build(build, "layers") is None or not build.cfg.oip.layers:
        return None
    layer = build.cfg.oip.layers[-1]
    a = build.results[stage_name(layer)].arrays
    ratio = super_ratio(a["final"], a["failed"], a["stat_best_test"])
    usable = np.isfinite(ratio) & (ratio >= 1)  # a super-stimulus, which a dead or failed map is not
    if not usable.any():
        return None
    m = int(np.flatnonzero(usable)[np.argmax(ratio[usable])])
    return layer, m, float(ratio[m]), float(best_final(a["final"][m], a["failed"][m])), float(a["stat_best_test"][m])


def _oip_topic(build) -> Topic:
    cfg = build.cfg.oip
    scales = ", ".join(f"{s} px" for s in cfg.noise_scales)
    text = [
        "An OIP — an original input pattern, the blog series' name for it — is an input image made to drive one "
        "map of one layer as hard as possible. It starts as random noise and is changed, step by step, in the "
        f"direction that raises the map's mean activation most (gradient ascent on the input): {cfg.steps} steps, "
        f"with a jitter of up to {cfg.jitter} px and a slight blur every {cfg.blur_every} steps so that the "
        "pattern does not dissolve into pixel noise, and pixel values kept inside the range real images have.",
        f"Every map gets {len(cfg.noise_scales)} starts, from noise at length scales of {scales}: pixel noise "
        "suits maps that look for fine strokes, long waves suit deeper maps that only wake for large, smooth "
        "shapes. The strongest start is the map's pattern; the others show what else it accepts. A faint map "
        "that test images fire but no noise start matches (its ReLU stays closed for noise, so the climb has no "
        "gradient) gets one more start, from the test image that drives it hardest, without jitter or blur; "
        "it replaces the weakest noise start, and the map's page says so.",
        "Each pattern is shown twice: in colour (the viridis scale below, in pixel units 0–255, the same scale on "
        "every map page) and contrast-enhanced in gray (stretched between its own 1st and 99th percentile, so "
        "faint structure shows; two gray views cannot be compared by brightness).",
    ]
    figures = []
    example = _example(build)
    if example:
        layer, m, *_ = example
        figures.append(Figure(urls.map_asset(layer, m, "evolution.png"),
                              f"how the patterns of {layer} map {m} grew from noise, one row per start",
                              f"{layer} map {m}: from noise (left) to its pattern (right), one row per start.",
                              urls.map_page(layer, m), 2))
    figures.append(Figure(COLOURBAR_VIRIDIS, "the viridis colour scale, dark purple low to yellow high",
                          "The colour scale of patterns (pixel units, black 0 to white 255) and of activations: "
                          "dark purple is low, yellow is high. Activation grids carry their own colour bar with "
                          "their range."))
    return Topic("oip", "Input patterns (OIPs)", text, figures)


def _ratio_topic(build) -> Topic:
    text = [
        "The ratio compares a map's best pattern with real data: the pattern's mean activation over the whole "
        "map, divided by the largest mean activation any test image gives that map. A ratio of 1 or more means "
        "the ascent found a super-stimulus — an input the map answers to more strongly than to any digit. "
        "∞ means no test image activates the map at all, but the ascent found an input that does.",
        "The strongest single position of any test image (shown on each map page) is a different number: a map "
        "can answer strongly at one place of a digit and hardly anywhere else, so its peak can exceed the "
        "pattern's mean while the ratio is still above 1.",
    ]
    example = _example(build)
    if example:
        layer, m, ratio, best, test = example
        text.append(f"For example, {layer} map {m}: its pattern's mean activation is {best:.4g}, the best test "
                    f"image's {test:.4g}, so the ratio is {ratio:.2f}.")
    return Topic("ratio", "The ratio", text)


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


def _ablation_topic() -> Topic:
    return Topic("ablation", "Ablation", [
        "To see what a map does for the decision, its output is replaced for every test image — by 0, or by its "
        "mean over the test set — and the rest of the network runs on unchanged. The change in test accuracy and "
        "in each class's recall is the map's share of the decision; changes of a few images are within noise.",
    ])


def _grid_topic(build) -> Topic:
    return Topic("grids", "Activation grids, points and nodes", [
        "An activation grid shows every map of a layer for one input image, 8 maps to a row as in the blog "
        "series: each small square is one map, each of its cells one position. A point is one position of one "
        "map; a node is one unit of a dense layer (drawn as a single cell, 10 to a row).",
        "On a page of image sets one colour range per layer is shared by every grid, so equal colours mean equal "
        "activations across images; each layer's colour bar gives the range.",
        "A comparison marks the points active in every image of one set and in none of the other (orange, teal) "
        "or in every image of both (purple); active means above a stated fraction of the layer's largest value.",
    ])


def _node_topic() -> Topic:
    return Topic("nodes", "Node patterns", [
        "For small maps each position (node) gets its own pattern: the input that drives that single position "
        "hardest, laid out as the positions are. A node only sees part of the image (its receptive field), so "
        "its pattern lives in that part.",
    ])


def _colour_topic() -> Topic:
    return Topic("colours", "Colour scales", [
        "Viridis (dark purple to yellow): patterns in pixel units and activations, low to high.",
        "Blue–white–red: signed numbers — kernel weights and what a dream changed (blue negative or darker, red "
        "positive or brighter, white zero).",
        "Gray: images as they are, black 0 to white 255; and contrast-enhanced patterns.",
        "Inferno (black to pale yellow): only the heat maps over test images, so that the heat stands apart "
        "from the gray digit beneath it; 0 is no colour, pale yellow the image's strongest position.",
    ], [Figure(COLOURBAR_DIVERGING, "the blue–white–red colour scale for signed numbers",
               "Signed numbers: blue negative, white zero, red positive."),
        Figure(COLOURBAR_GRAY, "the gray scale, black to white", "Images: black 0, white 255.")])


def _kernel_topic() -> Topic:
    return Topic("kernels", "Kernels", [
        "A map of the first convolutional layer is one weighted sum of the pixels under its small kernel, plus a "
        "bias, then a ReLU. Its map page shows the kernel's weights in numbers and in colour. When the weights "
        "add up to a clearly positive (negative) number, a uniformly bright (dark) image drives the map, which is "
        "why some first-layer patterns are flat squares.",
    ])


def _dream_topic() -> Topic:
    return Topic("dreams", "Dreams", [
        "Pattern carving runs a map's ascent from a real picture instead of noise: scale the picture down to the "
        "network's input size, ascend, scale up, add back the detail the downscaling lost, and repeat. The map "
        "carves its pattern into the picture. A layer dream climbs a whole layer's mean activation, octave by "
        "octave from a small copy of the picture to its full size (the classic DeepDream).",
    ])


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


def page_data(build) -> GuideData:
    topics = [_oip_topic(build), _ratio_topic(build), _status_topic(), _heat_topic(), _receptive_topic(),
              _node_topic(), _grid_topic(build), _kernel_topic(), _ablation_topic(), _dream_topic(), _colour_topic(),
              _explain_topic(build)]
    topics = [t for t in topics if t is not None]
    return GuideData(topics)


def pages(build) -> list[Page]:
    return [Page(urls.GUIDE, "guide.html", "How to read this gallery", [Link("Index", urls.INDEX)],
                 page_data(build), section=NAME,
                 description="What the gallery's input patterns, ratios, statuses, grids and colours mean.")]


SECTION = Section(NAME, depends, draw, pages, enabled=enabled, nav=("How to read", urls.GUIDE))
