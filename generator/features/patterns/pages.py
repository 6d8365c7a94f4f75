"""The OIP gallery: a page per layer with a card per map, and a page per map."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from generator import imaging, progress, registry
from generator.data.dataset import unstandardize
from generator.features.evidence import pages as map_evidence
from generator.features.evidence.map_truth import MEANING, STATUSES, fires_on, map_status
from generator.features.patterns import page_index as map_index
from generator.features.patterns.oip_results import best_final, best_start, stage_name, start_labels, super_ratio
from generator.features.patterns.page_charts import MapCharts, map_charts
from generator.features.patterns.shown_panels import shown_pattern
from generator.features.role import page_units as units
from generator.pages import urls
from generator.pages.colour_keys import PATTERN, ColourKey, pattern_key
from generator.pages.glossary import Term
from generator.pages.model import Figure, Link, Page, Panel, Topic, chain
from generator.pages.section import Card, Section, in_build
from generator.features.patterns import findings as quiet_maps

THUMB_SCALE = 3  # layer-page thumbnails: 28 px patterns shown at 84 px, pixelated
STRIP = 24  # thumbnails on a layer's card on the index; the card says how many more its page has



@dataclass
class MapCard:
    layer: str
    index: int
    url: str
    thumb: str
    status: str
    ratio: float
    ratio_text: str
    search: str


@dataclass
class LayerData:
    layer: str
    maps: list[MapCard]
    counts: dict[str, int]
    meanings: dict[str, str]
    seconds: float
    starts: int
    steps: int
    live_ok_share: float | None
    objective: str
    panels: list[Panel] = field(default_factory=list)
    tabs: list[Link] = field(default_factory=list)
    thumb_scale: int = THUMB_SCALE
    median_auc: str = "–"  # median over the maps of how well the position pattern predicts strong firing
    colours: ColourKey = PATTERN  # the thumbnails' colour scale


@dataclass
class StartView:
    label: str   # what the start began from: "noise scale 7 px" or "test image #123"
    final: float
    plain: str
    contrast: str
    failed: bool
    best: bool


@dataclass
class MapData:
    layer: str
    index: int
    status: str
    ratio_text: str
    best_final: float
    best_test: float
    max_point: float
    ratio_words: str   # what the ratio compares, with its numbers
    peak_words: str    # the strongest single position, compared on its own
    status_meaning: str  # e.g. "Rare: fires on fewer than 1 % of the test images"
    evidence: list[str]
    starts: list[StartView]
    strip: str
    snapshots: int
    charts: MapCharts  # the ascent curve and the class profile, or the sentences that stand for them
    nodes: str | None
    node_side: int
    downloads: list[Link]
    measure: str       # what the numbers and the curve measure, e.g. "mean activation"
    panels_top: list[Panel] = field(default_factory=list)  # other analyses' panels beside the patterns
    panels: list[Panel] = field(default_factory=list)      # and at the end of the page
    tabs: list[Link] = field(default_factory=list)
    pattern_colours: ColourKey = PATTERN  # the colour view of the patterns


def _arts(build) -> dict:
    return {layer: build.results[stage_name(layer)] for layer in build.cfg.oip.layers}


def enabled(build) -> bool:
    return bool(build.cfg.oip.layers)


def depends(build):
    from generator.features.patterns.shown_patterns import stage_name as shown_stage

    shown = [build.results[shown_stage(layer)].key for layer in build.cfg.oip.layers if shown_stage(layer) in build.results]
    return ([a.key for a in _arts(build).values()] + map_evidence.firing_keys(build) + shown
            + [build.mean, build.std])


def statuses(build) -> dict[str, np.ndarray]:
    """Each layer's map statuses from the test-set firing counts and the OIP starts (map_truth)."""
    firing = map_evidence.firing_arrays(build)
    n = len(build.dataset.x_test)
    return {layer: map_status(firing[layer]["fire_mean"], n, art.arrays["final"], art.arrays["failed"])
            for layer, art in _arts(build).items()}


def _pixels(build, x: np.ndarray) -> np.ndarray:
    return unstandardize(x, build.mean, build.std)


def _asset(layer: str, m: int, what: str) -> str:
    return urls.map_asset(layer, m, what)


def draw(build, out: Path) -> None:
    update = progress.bar("[layers] drawing the map pages' pictures", unit="map",
                          total=sum(art.arrays["patterns"].shape[0] for art in _arts(build).values()))
    done = 0
    for layer, art in _arts(build).items():
        a = art.arrays
        best = _best_start(a)
        for m in range(a["patterns"].shape[0]):
            done += 1
            update(done)
            _draw_map(build, out, layer, m, a, int(best[m]))
    _draw_map_index(build, out)
    PATTERN.draw(out)


def _draw_map_index(build, out: Path) -> None:
    states = statuses(build)
    layers = [layer_data(build, layer, art.arrays, states[layer]) for layer, art in _arts(build).items()]
    sizes = {layer: int(art.arrays["patterns"].shape[-1] * THUMB_SCALE) for layer, art in _arts(build).items()}
    rows = map_index.entries(layers, sizes)
    if rows:
        path = out / urls.SEARCH_INDEX
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(map_index.script(rows), encoding="utf-8")


def _draw_map(build, out: Path, layer: str, m: int, a: dict, best: int) -> None:
    patterns = _pixels(build, a["patterns"][m])  # (S, 28, 28) in 0..255 pixel units
    for s, pattern in enumerate(patterns):
        imaging.save_array_png(out / _asset(layer, m, f"s{s}.png"), pattern, PATTERN.cmap, PATTERN.vmin, PATTERN.vmax)
        imaging.save_array_png(out / _asset(layer, m, f"s{s}c.png"), imaging.contrast(pattern), "gray", 0, 1)
    shown = shown_pattern(build, layer, m)  # the strongest pattern, or a non-flat one when that is flat
    thumb = patterns[best] if shown is None else _pixels(build, shown)
    starts = _start_images(a, m)
    noise = np.flatnonzero((starts < 0) & ~a["failed"][m])
    if starts[best] >= 0 and len(noise):
        # The strongest climb began at a test image and still looks like that digit; the strips show what
        # the map responds to from noise (the map page shows both, labelled).
        thumb = patterns[noise[np.argmax(a["final"][m][noise])]]
    imaging.save_array_png(out / _asset(layer, m, "thumb.png"), thumb, PATTERN.cmap, PATTERN.vmin, PATTERN.vmax)
    frames = [imaging.contrast(f) for row in _pixels(build, a["snapshots"][m]) for f in row]
    imaging.save_array_png(out / _asset(layer, m, "evolution.png"),
                           imaging.tile(frames, cols=a["snapshots"].shape[2]), "gray", 0, 1)
    if "node_patterns" in a:
        nodes = [imaging.contrast(p) for row in _pixels(build, a["node_patterns"][m]) for p in row]
        side = a["node_patterns"].shape[1]
        imaging.save_array_png(out / _asset(layer, m, "nodes.png"), imaging.tile(nodes, cols=side, sep=1),
                               "gray", 0, 1)
    data = out / _data_url(layer, m, "patterns")
    data.parent.mkdir(parents=True, exist_ok=True)
    np.save(data, patterns.astype(np.float32))
    np.save(out / _data_url(layer, m, "curves"), a["curve"][m].astype(np.float32))


def _dims(shape) -> str:
    """An image's size as the pages write it: "28 × 28", "32 × 32 × 3"."""
    return " × ".join(str(int(n)) for n in shape)


def _data_url(layer: str, m: int, what: str) -> str:
    return f"layers/{urls.layer_slug(layer)}/data/map-{m:03d}-{what}.npy"


def _best_start(a: dict) -> np.ndarray:
    return best_start(a["final"], a["failed"])


def _ratio_text(r: float) -> str:
    return "—" if np.isnan(r) else "∞" if np.isinf(r) else f"{r:.2f}"


def _cards(layer: str, a: dict, status_of: np.ndarray) -> list[MapCard]:
    ratios = super_ratio(a["final"], a["failed"], a["stat_best_test"])
    out = []
    for m, (status, r) in enumerate(zip(status_of, ratios)):
        extra = " ratio<1" if r < 1 else ""
        out.append(MapCard(layer, m, urls.map_page(layer, m), _asset(layer, m, "thumb.png"), str(status),
                           float(r), _ratio_text(r), f"{layer.lower()} map {m} #{m:03d} {status}{extra}"))
    return out


def layer_data(build, layer: str, a: dict, status_of: np.ndarray | None = None) -> LayerData:
    status_of = statuses(build)[layer] if status_of is None else status_of
    cards = _cards(layer, a, status_of)
    counts = {s: int((status_of == s).sum()) for s in STATUSES}
    fired = [c for c in cards if fires_on(c.status)]
    live_ok = float(np.mean([c.ratio >= 1 for c in fired])) if fired else None
    data = LayerData(layer, cards, counts, {s: MEANING[s] for s in STATUSES},
                     float(build.results[stage_name(layer)].meta["seconds"]),
                     a["final"].shape[1], build.cfg.oip.steps, live_ok, OBJECTIVES[build.cfg.oip.objective])
    data.median_auc = map_evidence.median_auc_text(map_evidence.trust_auc(build, layer),
                                                   map_evidence.firing_arrays(build)[layer]["fire_mean"])
    data.colours = pattern_key(build)
    return data


def _evidence(build, a: dict, m: int, status: str) -> list[str]:
    lines = []
    finals = ", ".join(f"{v:.4g}" for v in a["final"][m])
    labels = _start_labels(build, a, m)
    lines.append(f"Final mean activation from each of the {a['final'].shape[1]} starts "
                 f"({', '.join(labels)}): {finals}")
    for s, i in enumerate(_start_images(a, m)):
        if i >= 0:
            lines.append(_image_start_words(a, m, s, labels[s]))
    if status == "dead":
        lines.append("No test image and no start (pixel noise to long waves, with the pre-activation "
                     "objective to get past the ReLU) produces any activation: this map is dead. The patterns "
                     "below are where each start's climb of the pre-activation ended.")
    if status == "silent":
        lines.append("Silent on data: no test image activates this map, but the ascent finds inputs that do "
                     "(the patterns below); it responds to something the digits do not contain.")
    if fires_on(status) and best_final(a["final"][m], a["failed"][m]) < a["stat_best_test"][m]:
        best = float(best_final(a["final"][m], a["failed"][m]))
        lines.append(f"Ratio below 1: no start, not even one from the best test image, reached the best test image's mean activation ({best:.4g} against "
                     f"{a['stat_best_test'][m]:.4g}). The map fires only faintly anywhere in the test set, "
                     "and the curve shows the ascent touching it without holding it.")
    if a["failed"][m].any():
        lines.append(f"{int(a['failed'][m].sum())} start(s) failed: a NaN or infinity appeared in the ascent.")
    return lines


def _image_start_words(a: dict, m: int, s: int, label: str) -> str:
    """Why start s began from a test image, and whether its climb got past that image."""
    test, got = float(a["stat_best_test"][m]), float(a["final"][m, s])
    climbed = (f"climbed from {test:.4g} to {got:.4g}" if got > test * (1 + 1e-3) else
               f"found no step that raises it ({got:.4g}): the pattern is that image, barely changed")
    return (f"No noise start reached the mean activation of the test image that drives this map hardest "
            f"({test:.4g}): the map is closed for almost every noise image, so those climbs have no gradient. "
            f"One more start began from that image ({label}), without jitter or blur, which would move its few "
            f"firing positions off it; it {climbed}, and replaces the weakest noise start.")


# What the ascent drives up, in the words of the layer page.
OBJECTIVES = {"mean": "the map's mean activation", "preact": "the map's mean pre-activation (before its ReLU)"}


def _ratio_words(a: dict, f: dict, m: int, ratio_text: str) -> tuple[str, str]:
    """The ratio defined, and the strongest single position compared separately, with their numbers."""
    best, test = float(best_final(a["final"][m], a["failed"][m])), float(a["stat_best_test"][m])
    ratio = (f"Ratio {ratio_text}: the best input pattern's mean activation over the whole map ({best:.4g}) "
             f"against the mean of the test image that drives the map hardest ({test:.4g}).")
    if not best > 0 and not test > 0:
        ratio = "No ratio: neither an input pattern nor any test image activates the map (both give 0)."
    pattern, data = float(f["pattern_peak"][m]), float(f["max_point"][m])
    if data > 0:
        peak = (f"Strongest single position, a different measure: the best pattern reaches {pattern:.4g} at its "
                f"strongest position, the strongest position of any test image {data:.4g} "
                f"(ratio {pattern / data:.2f}).")
    else:
        peak = (f"Strongest single position: the best pattern reaches {pattern:.4g}; no position of any test "
                "image is above 0.")
    return ratio, peak


def _start_images(a: dict, m: int):
    """Which test image each start of map m began from (-1: noise); all noise in an older result."""
    return a["start_image"][m] if "start_image" in a else np.full(a["final"].shape[1], -1)


def _start_labels(build, a: dict, m: int) -> list[str]:
    return start_labels(build.cfg.oip.noise_scales, _start_images(a, m))


def map_data(build, layer: str, a: dict, m: int, status: str) -> MapData:
    f = map_evidence.firing_arrays(build)[layer]
    best = int(_best_start(a)[m])
    labels = _start_labels(build, a, m)
    starts = [StartView(labels[s], float(a["final"][m, s]), _asset(layer, m, f"s{s}.png"),
                        _asset(layer, m, f"s{s}c.png"), bool(a["failed"][m, s]), s == best)
              for s in range(a["final"].shape[1])]
    ratio = super_ratio(a["final"][m:m + 1], a["failed"][m:m + 1], a["stat_best_test"][m:m + 1])[0]
    charts = map_charts(build.cfg.oip, a, m, labels, best, build.dataset.class_names)
    has_nodes = "node_patterns" in a
    ratio_words, peak_words = _ratio_words(a, f, m, _ratio_text(ratio))
    data = MapData(layer, m, status, _ratio_text(ratio),
                   float(a["final"][m, best]), float(a["stat_best_test"][m]), float(a["stat_max_point"][m]),
                   ratio_words, peak_words, f"{status.capitalize()}: {MEANING[status]}",
                   _evidence(build, a, m, status), starts, _asset(layer, m, "evolution.png"), a["snapshots"].shape[2],
                   charts, _asset(layer, m, "nodes.png") if has_nodes else None,
                   a["node_patterns"].shape[1] if has_nodes else 0,
                   [Link(f"patterns (.npy, starts × {_dims(a['patterns'].shape[2:])}, pixel units 0–255)",
                         _data_url(layer, m, "patterns")),
                    Link("activation per step (.npy, starts × steps+1)", _data_url(layer, m, "curves"))],
                   "mean activation", registry.map_top_panels(build, layer, m), registry.map_panels(build, layer, m))
    data.pattern_colours = pattern_key(build)
    return data


def pages(build) -> list[Page]:
    out: list[Page] = []
    states = statuses(build)
    for layer, art in _arts(build).items():
        a = art.arrays
        crumbs = [Link("Index", urls.INDEX)]
        data = layer_data(build, layer, a, states[layer])
        data.panels = registry.layer_panels(build, layer)
        out.append(Page(urls.layer(layer), "layer.html", layer, crumbs, data,
                        section="layers", description=f"Input patterns that drive each map of {layer}."))
        crumbs = crumbs + [Link(layer, urls.layer(layer))]
        maps = [Page(urls.map_page(layer, m), "map.html", f"{layer} map {m}", crumbs,
                     map_data(build, layer, a, m, str(states[layer][m])), section="layers",
                     description=f"What drives map {m} of {layer}.")
                for m in range(a["patterns"].shape[0])]
        out += chain(maps, label=lambda p: f"map {p.data.index}")
    _layer_tabs(out, list(_arts(build)) + units.node_layers(build))
    return out


def _layer_tabs(pages: list[Page], layers: list[str]) -> None:
    for page in pages:
        page.data.tabs = [Link(l, urls.layer(l)) for l in layers]


def _strip_key(build, first: bool):
    """Every strip carries its colour bar; what the colours mean is said once, under the first."""
    from dataclasses import replace

    key = pattern_key(build)
    return key if first else replace(key, caption="")


def cards(build) -> list[Card]:
    result = []
    for i, (layer, art) in enumerate(_arts(build).items()):
        a = art.arrays
        d = layer_data(build, layer, a)
        c = d.counts
        # (the share of maps at ratio >= 1 is in the index's table, once, not on every layer's card)
        lines = [f"{len(d.maps)} maps: " + ", ".join(f"{c[s]} {s}" for s in STATUSES if c[s] or s != "failed")]
        thumbs = [(m.thumb, f"{layer} map {m.index} OIP ({m.status})", m.url) for m in d.maps[:STRIP]]
        result.append(Card(f"{layer} — input patterns", urls.layer(layer), lines, thumbs,
                           more=len(d.maps) - len(thumbs), colours=_strip_key(build, first=i == 0)))
    return result



# ---- what the guide says about this feature, and the terms that link there ----

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
    figures.append(Figure(PATTERN.image, "the viridis colour scale, dark purple low to yellow high",
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


def _node_topic() -> Topic:
    return Topic("nodes", "Node patterns", [
        "For small maps each position (node) gets its own pattern: the input that drives that single position "
        "hardest, laid out as the positions are. A node only sees part of the image (its receptive field), so "
        "its pattern lives in that part.",
        "“Node” here is the blog series' word for one position of a map; the units of a dense layer are called "
        "nodes too, and have pages of their own (their patterns drive one unit, wherever it looks).",
    ])


def guide_topics(build) -> list:
    return [_oip_topic(build), _ratio_topic(build), _node_topic()]


def glossary() -> list:
    return [Term(r"OIPs?|original input patterns?|input patterns?", "oip",
         "original input pattern: an input made by gradient ascent to drive one map hardest"),
            Term(r"super-stimulus|ratio", "ratio",
         "the best pattern's mean activation divided by the best test image's"),
            Term(r"node patterns?|one pattern per node", "nodes", "the input that drives one position of a map hardest")]


SECTION = Section("layers", depends, draw, pages, cards, enabled,
                  nav=lambda build: ("Layers", urls.layer(build.cfg.oip.layers[0])), guide_topics=guide_topics, glossary=glossary,
                  findings=lambda build: quiet_maps.findings(build, statuses(build)))
