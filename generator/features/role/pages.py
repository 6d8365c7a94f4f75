"""The hidden dense layers' pages: one per layer with a card per node, and one per node, like a map
page: its input patterns, the test images that fire it (only those), its mean per class, its weights
to the classes; other analyses add their panels ("node", "node-layer": ablation, influence, inputs)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from generator import imaging, registry
from generator.features.evidence.map_truth import MEANING, STATUSES, map_status
from generator.features.patterns.oip_results import best_start
from generator.data.dataset import unstandardize
from generator.pages.colour_keys import PATTERN, ColourKey, pattern_key
from generator.pages import svg, urls
from generator.pages.model import Link, Page, Panel, chain
from generator.pages.section import Card, Section, in_build
from generator.pages.testimages import draw_test_images
from generator.features.role.page_units import NODES, Bar, StageResult, signed_bars
from generator.pages.numbers import signed

RESULT = StageResult(NODES)
THUMB_SCALE = 3


@dataclass
class NodeCard:
    index: int
    url: str
    thumb: str
    status: str
    fire: str


@dataclass
class DenseLayerData:
    layer: str
    nodes: list[NodeCard]
    counts: dict[str, int]
    meanings: dict[str, str]
    lead: str
    tabs: list[Link] = field(default_factory=list)
    panels: list[Panel] = field(default_factory=list)
    thumb_scale: int = THUMB_SCALE
    colours: ColourKey = PATTERN  # the node patterns' scale


@dataclass
class Start:
    plain: str
    contrast: str
    caption: str
    best: bool


@dataclass
class Example:
    index: int
    image: str
    url: str | None
    label: str
    value: str


@dataclass
class NodeData:
    layer: str
    index: int
    status: str
    lead: str
    firing: list[str]
    starts: list[Start]
    examples: list[Example]
    examples_note: str
    profile: svg.BarChart
    weights: list[Bar]
    weights_to: str   # "the classes (Dense_2)" or "Dense_3's nodes"
    weights_words: str
    tabs: list[Link] = field(default_factory=list)
    panels: list[Panel] = field(default_factory=list)
    colours: ColourKey = PATTERN  # the node patterns' scale


def enabled(build) -> bool:
    art = RESULT.art(build)
    return art is not None and bool(art.meta["layers"]) and in_build(build, "layers") is not None


def _a(build, layer: str) -> dict:
    art = RESULT.art(build)
    return {k[len(layer) + 1:]: v for k, v in art.arrays.items() if k.startswith(layer + ".")}


def layers(build) -> list[str]:
    return list(RESULT.art(build).meta["layers"])


def statuses(build, layer: str) -> np.ndarray:
    a = _a(build, layer)
    return map_status(a["fire"], len(build.dataset.x_test), a["final"], a["failed"])


def _asset(layer: str, i: int, what: str) -> str:
    return urls.node_asset(layer, i, what)


def draw(build, out: Path) -> None:
    for layer in layers(build):
        a = _a(build, layer)
        best = best_start(a["final"], a["failed"])
        for i in range(a["patterns"].shape[0]):
            patterns = unstandardize(a["patterns"][i], build.mean, build.std)
            for s, pattern in enumerate(patterns):
                imaging.save_array_png(out / _asset(layer, i, f"s{s}.png"), pattern, PATTERN.cmap, PATTERN.vmin, PATTERN.vmax)
                imaging.save_array_png(out / _asset(layer, i, f"s{s}c.png"), imaging.contrast(pattern), "gray", 0, 1)
            imaging.save_array_png(out / _asset(layer, i, "thumb.png"), patterns[best[i]], PATTERN.cmap, PATTERN.vmin,
                                   PATTERN.vmax)
        top = a["top_indices"]
        draw_test_images(build, out, top[top >= 0])
    _draw_search_entries(build, out)


def _draw_search_entries(build, out: Path) -> None:
    """The dense nodes' part of the index's filter (patterns.page_index writes the maps' part)."""
    from generator.features.patterns import page_index

    rows = []
    for layer in layers(build):
        size = int(_a(build, layer)["patterns"].shape[2] * THUMB_SCALE)
        rows += [{"l": layer, "m": i, "k": "node", "s": str(s), "r": None, "rt": "—", "u": urls.node_page(layer, i),
                  "t": _asset(layer, i, "thumb.png"), "w": size, "h": size} for i, s in enumerate(statuses(build, layer))]
    if rows:
        path = out / urls.SEARCH_NODES
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page_index.script(rows, "Every node of the hidden dense layers"), encoding="utf-8")


def _fire_text(fire: int, n: int) -> str:
    return f"fires on {fire:,} of {n:,} ({fire / n:.1%})"


def layer_data(build, layer: str) -> DenseLayerData:
    a, status = _a(build, layer), statuses(build, layer)
    n = len(build.dataset.x_test)
    cards = [NodeCard(i, urls.node_page(layer, i), _asset(layer, i, "thumb.png"), str(status[i]),
                      _fire_text(int(a["fire"][i]), n)) for i in range(len(status))]
    counts = {s: int((status == s).sum()) for s in STATUSES}
    lead = (f"The {len(cards)} nodes of the hidden dense layer {layer}. A node fires on an image when its activation "
            f"is above 0. Each card shows the input pattern that drives the node hardest (gradient ascent from "
            f"{a['final'].shape[1]} random starts, {build.cfg.oip.steps} steps, all nodes in one batch, "
            f"{float(a['seconds']):.1f} s).")
    return DenseLayerData(layer, cards, counts, {s: MEANING[s] for s in STATUSES}, lead, colours=pattern_key(build))


def _weights(build, layer: str, a: dict, i: int) -> tuple[list[Bar], str, str]:
    art = RESULT.art(build)
    nxt = art.meta["feeds"][layer]
    w = a["out"][i]
    last = nxt not in layers(build)
    names = build.dataset.class_names if last and len(w) == build.dataset.n_classes else [str(k) for k in range(len(w))]
    bars = signed_bars(w, names)
    to = f"the classes ({nxt})" if last else f"the nodes of {nxt}"
    best, worst = int(np.argmax(w)), int(np.argmin(w))
    words = (f"Each bar: the weight from node {i} to {'the logit of a class' if last else 'a node'} of {nxt} "
             f"(its activation times this weight is what it adds there). Strongest push towards {names[best]} "
             f"({signed(w[best], 3)}), strongest against {names[worst]} ({signed(w[worst], 3)}).")
    return bars, to, words


def _examples(build, layer: str, a: dict, i: int) -> tuple[list[Example], str]:
    names, n, asked = build.dataset.class_names, len(build.dataset.x_test), build.cfg.oip.top_images
    shown = [(int(t), float(v)) for t, v in zip(a["top_indices"][i], a["top_values"][i]) if t >= 0]
    examples = [Example(t, urls.test_image(t), None, names[int(build.dataset.y_test[t])], f"{v:.3g}") for t, v in shown]
    if not shown:
        note = f"No test image activates this node: none of the {n:,} gives it an activation above 0."
    elif len(shown) < min(asked, n):
        note = f"Only {len(shown)} of the {n:,} test images activate this node; all of them are shown."
    else:
        note = ""
    return examples, note


def node_data(build, layer: str, i: int, status: str) -> NodeData:
    a, n = _a(build, layer), len(build.dataset.x_test)
    best = int(best_start(a["final"], a["failed"])[i])
    scales = build.cfg.oip.noise_scales
    starts = [Start(_asset(layer, i, f"s{s}.png"), _asset(layer, i, f"s{s}c.png"),
                    f"noise scale {scales[s]} px · activation {float(a['final'][i, s]):.4g}"
                    + (" · failed" if a["failed"][i, s] else "") + (" · best" if s == best else ""), s == best)
             for s in range(a["final"].shape[1])]
    fire = int(a["fire"][i])
    firing = [f"Fires on {fire:,} of the {n:,} test images ({fire / n:.2%}): its activation is above 0.",
              f"Mean activation over all test images {float(a['mean'][i]):.4g}; the strongest pattern reaches "
              f"{float(a['final'][i, best]):.4g}, the strongest test image "
              f"{float(a['top_values'][i, 0]):.4g}."]
    examples, note = _examples(build, layer, a, i)
    profile = a["class_means"][i]
    bars, to, words = _weights(build, layer, a, i)
    return NodeData(layer, i, status, f"{status.capitalize()}: {MEANING[status]}.", firing, starts, examples, note,
                    svg.bar_chart(profile, list(build.dataset.class_names), "class of the test image", "mean activation",
                                  int(np.argmax(profile))),
                    bars, to, words, panels=registry.node_panels(build, layer, i), colours=pattern_key(build))


def tabs(build) -> list[Link]:
    """The layer tabs of the gallery's pages: every map layer, then the dense layers."""
    return [Link(layer, urls.layer(layer)) for layer in list(build.cfg.oip.layers or ()) + layers(build)]


def pages(build) -> list[Page]:
    out: list[Page] = []
    home = Link("Index", urls.INDEX)
    for layer in layers(build):
        data = layer_data(build, layer)
        data.panels = registry.node_layer_panels(build, layer)
        out.append(Page(urls.layer(layer), "dense_layer.html", layer, [home], data, section="layers",
                        description=f"What each node of the dense layer {layer} responds to and does."))
        status = statuses(build, layer)
        nodes = [Page(urls.node_page(layer, i), "node.html", f"{layer} node {i}", [home, Link(layer, urls.layer(layer))],
                      node_data(build, layer, i, str(status[i])), section="layers",
                      description=f"What drives node {i} of {layer}, and what it does for the decision.")
                 for i in range(len(status))]
        out += chain(nodes, label=lambda p: f"node {p.data.index}")
    for page in out:
        page.data.tabs = tabs(build)
    return out


def cards(build) -> list[Card]:
    result = []
    for layer in layers(build):
        d = layer_data(build, layer)
        line = f"{len(d.nodes)} nodes: " + ", ".join(f"{d.counts[s]} {s}" for s in STATUSES if d.counts[s] or s != "failed")
        thumbs = [(c.thumb, f"{layer} node {c.index} input pattern ({c.status})", c.url) for c in d.nodes[:24]]
        result.append(Card(f"{layer} — dense nodes", urls.layer(layer), [line], thumbs))
    return result


SECTION = Section(NODES, depends=lambda build: [RESULT.art(build).key, build.mean, build.std, build.cfg.oip.top_images],
                  draw=draw, pages=pages, cards=cards, enabled=enabled)
