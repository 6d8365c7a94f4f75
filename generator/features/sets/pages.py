"""Image sets: every layer's activations for chosen test images, and what tells two sets apart.

One colour scale per layer is shared by every grid this section draws (all images of all sets), so
on any page - a set, one image, a comparison - equal colours mean equal activations.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from generator import imaging, registry
from generator.features.sets.activations import grid_layout, layer_scales, layer_stats, merge_activations
from generator.features.sets.page_comparisons import comparison_views, count_text, key_layers, key_note, overlay_asset
from generator.features.sets.page_data import ImagePageData, ImageView, LayerView, SetPageData, SetsIndexData, SetView
from generator.features.sets.stage import MASKS, NAME, cmp_key, set_key
from generator.pages import urls
from generator.pages.colour_keys import INPUT
from generator.pages.glossary import Term
from generator.pages.model import Link, Page, Topic, chain
from generator.pages.section import Card, Section, in_build
from generator.pages.testimages import draw_test_images
from generator.pages.model import Finding
from generator.features.sets import findings as set_findings

INPUT_SCALE = 6          # 28 px -> 168 px
GRID_WIDTH, GRID_HEIGHT, MAX_CELL = 440, 480, 24
MAP_COLS, NODE_COLS, SEP = 8, 10, 2   # maps 8 to a row as in the seed; dense nodes 10 to a row
COLOURS = {"only_a": (217, 95, 2), "only_b": (27, 158, 119), "common": (117, 112, 179)}
OVERLAY_SEPARATOR = (60, 60, 60)


# ---- paths -------------------------------------------------------------------------------------

def _layer_slug(layer: str) -> str:
    return urls.layer_slug(layer)


def image_asset(index: int, what: str) -> str:
    return f"sets/img/{index:05d}/{what}.png"


def grid_asset(index: int, layer: str) -> str:
    return image_asset(index, _layer_slug(layer))


def colorbar_asset(layer: str) -> str:
    return f"sets/img/colorbar-{_layer_slug(layer)}.png"


def download(set_slug: str) -> str:
    return f"sets/{set_slug}/activations.npz"


# ---- numbers shared by drawing, pages and tests -------------------------------------------------

def _art(build):
    return build.results[NAME]


def set_arrays(art, set_slug: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(test image numbers, {layer: (n, ...) activations}) of one set."""
    return (art.arrays[set_key(set_slug, "indices")],
            {layer: art.arrays[set_key(set_slug, layer)] for layer in art.meta["layers"]})


def all_activations(art) -> dict[str, np.ndarray]:
    """Every layer's activations for every distinct image of every set (each image once)."""
    parts = [set_arrays(art, s["slug"]) for s in art.meta["sets"]]
    indices = np.concatenate([p[0] for p in parts])
    merged = merge_activations(*(p[1] for p in parts))
    _, first = np.unique(indices, return_index=True)
    return {layer: values[np.sort(first)] for layer, values in merged.items()}


def shared_scales(art, scaling: str) -> dict[str, tuple[float, float]]:
    """The one (vmin, vmax) per layer every grid of the section is coloured with."""
    return layer_scales(all_activations(art), scaling)


def cell_scale(shape) -> int:
    """Nearest-neighbour factor for one map (or node) so a layer's grid is about GRID_WIDTH wide
    and at most GRID_HEIGHT tall; `shape` is one image's activation shape."""
    h, w, count, cols = _geometry(shape)
    rows = -(-count // cols)
    return max(1, min(MAX_CELL, (GRID_WIDTH - (cols - 1) * SEP) // (cols * w),
                      (GRID_HEIGHT - (rows - 1) * SEP) // (rows * h)))


def _geometry(shape) -> tuple[int, int, int, int]:
    """(map height, map width, maps, maps per row); a dense layer is a row of 1×1 'maps' per 10 nodes."""
    if len(shape) == 3:
        return shape[0], shape[1], shape[2], min(MAP_COLS, shape[2])
    return 1, 1, shape[0], min(NODE_COLS, shape[0])


def tiled_grid(activation: np.ndarray) -> tuple[np.ndarray, list[tuple[int, int, int, int]], int]:
    """One image's activation of one layer as the drawn 2-D grid, already at picture size.

    Every map (or dense node) is enlarged by nearest neighbour *before* tiling, so the NaN
    separators stay SEP pixels thin however large the cells. Returns (grid, positions of each map
    or node in it, cell scale); a map's pixel (i, j) covers grid[row0 + i*s : row0 + (i+1)*s, ...].
    """
    activation = np.asarray(activation)
    s = cell_scale(activation.shape)
    maps = activation if activation.ndim == 3 else activation.reshape(1, 1, -1)
    big = imaging.upscale(maps, s)
    grid, positions = grid_layout(big, cols=_geometry(activation.shape)[3], sep=SEP)
    return grid, positions, s


def draw_grid(path: Path, activation: np.ndarray, scale_range: tuple[float, float], cmap: str) -> None:
    grid, _, _ = tiled_grid(activation)
    imaging.save_array_png(path, grid, cmap, scale_range[0], scale_range[1])


def _layout(shape, unit: str) -> tuple[str, int, int]:
    """Geometry for the hover labels: "W H cols cell_h cell_w sep count unit scale" in picture pixels."""
    grid, positions, s = tiled_grid(np.zeros(shape, dtype=np.float32))
    _, _, h, w = positions[0]
    cols = _geometry(shape)[3]
    layout = f"{grid.shape[1]} {grid.shape[0]} {cols} {h} {w} {SEP} {len(positions)} {unit} {s}"
    return layout, cols, len(positions)


# ---- drawing -------------------------------------------------------------------------------------

def depends(build):
    acfg = build.cfg.activations
    return [_art(build).key, acfg.colormap, acfg.scaling, build.dataset.class_names]


def draw(build, out: Path) -> None:
    art, acfg = _art(build), build.cfg.activations
    names = build.dataset.class_names
    scales = shared_scales(art, acfg.scaling)
    stats = layer_stats(all_activations(art))
    drawn: set[int] = set()
    for s in art.meta["sets"]:
        indices, acts = set_arrays(art, s["slug"])
        (out / download(s["slug"])).parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(out / download(s["slug"]), indices=indices,
                            labels=build.dataset.y_test[indices].astype(np.int64), **acts)
        for row, index in enumerate(int(i) for i in indices):
            if index in drawn:
                continue
            drawn.add(index)
            pixels = build.dataset.x_test[index]
            imaging.save_array_png(out / image_asset(index, "gray"), pixels, None, 0, 255, scale=INPUT_SCALE)
            imaging.save_array_png(out / image_asset(index, "colour"), pixels, INPUT.cmap, INPUT.vmin, INPUT.vmax,
                                   scale=INPUT_SCALE)
            probs = acts["Dense_2"][row] if "Dense_2" in acts else build.results["evaluation"].arrays["probs"][index]
            true = int(build.dataset.y_test[index])
            imaging.bar_chart(out / image_asset(index, "probs"), [float(p) for p in probs], names,
                              f"test image #{index} (true {names[true]})", highlight=int(np.argmax(probs)),
                              ylabel="probability")
            for layer in art.meta["layers"]:
                draw_grid(out / grid_asset(index, layer), acts[layer][row], scales[layer], acfg.colormap)
    draw_test_images(build, out, drawn)
    INPUT.draw(out)
    for layer in art.meta["layers"]:
        vmin, vmax = scales[layer]
        if acfg.scaling == "standardized":
            mean, std = stats[layer]
            std = std if std > 0 else 1.0
            imaging.colorbar(out / colorbar_asset(layer), acfg.colormap, (vmin - mean) / std,
                             (vmax - mean) / std, "z-score: (activation − layer mean) / std")
        else:
            imaging.colorbar(out / colorbar_asset(layer), acfg.colormap, vmin, vmax, "activation")
    # The gray under the marks is always raw (white = 0), whatever the grids' scaling.
    raw = scales if acfg.scaling == "raw" else shared_scales(art, "raw")
    for position, comparison in enumerate(art.meta["comparisons"]):
        draw_overlays(art, position, comparison, raw, out)


def draw_overlays(art, position: int, comparison: dict, scales, out: Path) -> None:
    _, acts_a = set_arrays(art, comparison["a_slug"])
    _, acts_b = set_arrays(art, comparison["b_slug"])
    for layer in comparison["layers"]:
        mean = np.concatenate([acts_a[layer], acts_b[layer]]).mean(axis=0)
        grid, _, _ = tiled_grid(mean)
        marks = [(np.nan_to_num(tiled_grid(art.arrays[cmp_key(position, layer, m)])[0]) > 0.5, COLOURS[m])
                 for m in MASKS]
        pixels = imaging.mark_points(grid, marks, *scales[layer], separator=OVERLAY_SEPARATOR)
        imaging.save_png(out / overlay_asset(comparison["a_slug"], comparison["b_slug"], layer), pixels)


# ---- page data -------------------------------------------------------------------------------------

def describe(set_cfg, names: list[str], indices: np.ndarray) -> str:
    """How the set was chosen, in words."""
    if set_cfg.rule is None:
        return "test images " + ", ".join(f"#{int(i)}" for i in indices) + ", chosen by number"
    rule, count = set_cfg.rule, set_cfg.rule.count
    label = names[rule.label]
    if rule.kind == "first":
        return f"the first {count} test images of class {label}"
    if rule.kind == "most_confident":
        return f"the {count} test images of class {label} the network is most sure of"
    if rule.kind == "least_confident":
        return f"the {count} test images of class {label} the network is least sure of"
    if rule.kind == "misclassified":
        return f"up to {count} test images of class {label} the network gets wrong, most confident mistakes first"
    other = names[rule.other]
    return (f"the {count} test images of class {label} the network rates closest to {other} "
            f"(highest probability for {other})")


def layer_views(build) -> list[LayerView]:
    art = _art(build)
    scales = shared_scales(art, build.cfg.activations.scaling)
    with_pages = map_page_layers(build)
    views = []
    for layer in art.meta["layers"]:
        shape = art.meta["shapes"][layer]
        unit = "map" if len(shape) == 3 else "class" if shape[-1] == 10 else "node"
        layout, cols, count = _layout(shape, unit)
        if len(shape) == 3:
            title = f"{layer} · {count} maps of {shape[0]}×{shape[1]}"
            legend = (f"Maps 0–{count - 1}, {cols} to a row, numbered left to right and top to bottom "
                      f"(map {cols} starts the second row); hover over a map to see its number "
                      f"(on a touch screen it is in the map's corner)"
                      f"{'; a map links to its page' if layer in with_pages else ''}.")
        elif unit == "class":
            title = f"{layer} · the 10 outputs (softmax probabilities)"
            legend = "Classes 0 to 9 from left to right; hover for the class."
        else:
            title = f"{layer} · {count} nodes, shown as a {-(-count // cols)}×{cols} grid"
            legend = (f"Node k sits in row k ÷ {cols}, column k mod {cols} (node 0 top left, node {cols} "
                      f"starts the second row); hover for a node's number.")
        vmin, vmax = scales[layer]
        acfg = build.cfg.activations
        alt = (f"colour bar of {layer}: {acfg.colormap}, z-scores around the layer mean"
               if acfg.scaling == "standardized" else
               f"colour bar of {layer}: {acfg.colormap} from {vmin:.3g} to {vmax:.3g}")
        views.append(LayerView(layer, f"layer-{_layer_slug(layer)}", title, legend, colorbar_asset(layer),
                               alt, layout, vmin, vmax, urls.map_page(layer, 0) if layer in with_pages else None))
    return views


def scale_note(build) -> str:
    acfg = build.cfg.activations
    if acfg.scaling == "standardized":
        how = ("standardized: each layer's colours run symmetrically around its mean activation "
               "(z-scores), over every image of every set")
    else:
        how = "raw: each layer's colours run from 0 to its largest activation over every image of every set"
    return (f"Colour map {acfg.colormap}, scaling {how}. The scale is the same on every image-set page, "
            f"so equal colours mean equal activations; gray lines separate the maps.")


def _image_view(build, set_slug: str, position: int, index: int, probs: np.ndarray, layers) -> ImageView:
    names = build.dataset.class_names
    true, predicted = int(build.dataset.y_test[index]), int(np.argmax(probs))
    return ImageView(index, position, urls.set_image(set_slug, index), urls.test_image(index),
                     image_asset(index, "gray"), image_asset(index, "colour"), image_asset(index, "probs"),
                     names[true], names[predicted], float(probs[predicted]), float(probs[true]),
                     true == predicted, [float(p) for p in probs],
                     {layer: grid_asset(index, layer) for layer in layers})


def set_views(build) -> list[SetView]:
    art = _art(build)
    configs = {s.name: s for s in build.cfg.activations.image_sets}
    evaluation = build.results["evaluation"].arrays["probs"]
    views = []
    for s in art.meta["sets"]:
        indices, acts = set_arrays(art, s["slug"])
        probs = acts.get("Dense_2", evaluation[indices])
        images = [_image_view(build, s["slug"], k + 1, int(i), probs[k], art.meta["layers"])
                  for k, i in enumerate(indices)]
        comparisons = [Link(f"{_title(art, c['a'])} vs {_title(art, c['b'])}",
                            urls.comparison(c["a_slug"], c["b_slug"]))
                       for c in art.meta["comparisons"] if s["name"] in (c["a"], c["b"])]
        views.append(SetView(s["name"], s["slug"], s["title"], urls.image_set(s["slug"]),
                             describe(configs[s["name"]], build.dataset.class_names, indices),
                             download(s["slug"]), images, comparisons))
    return views


def tour(build) -> list[Finding]:
    """Start here, step 1: one digit through every layer (the first image of the first set)."""
    art = _art(build)
    if not art.meta["sets"]:
        return []
    s = art.meta["sets"][0]
    indices = set_arrays(art, s["slug"])[0]
    if not len(indices):
        return []
    index = int(indices[0])
    label = build.dataset.class_names[int(build.dataset.y_test[index])]
    layers = art.meta["layers"]
    return [Finding(f"Follow one digit through the network: test image #{index} (a {label}, from “{s['title']}”), "
                    f"its activations in every layer from {layers[0]} to {layers[-2]}, and the class scores "
                    f"of {layers[-1]}.",
                    urls.set_image(s["slug"], index), f"test image #{index}", order=1)]


def _title(art, name: str) -> str:
    return next(s["title"] for s in art.meta["sets"] if s["name"] == name)


def layers_linked(build) -> bool:
    """Whether the OIP gallery (section 'layers') is part of this build, so map links resolve."""
    return in_build(build, "layers") is not None


def map_page_layers(build) -> set[str]:
    """The layers whose maps have pages in this build (links to them resolve)."""
    return set(build.cfg.oip.layers or ()) if layers_linked(build) else set()


# ---- pages -------------------------------------------------------------------------------------

def pages(build) -> list[Page]:
    layers = layer_views(build)
    sets = set_views(build)
    comparisons = comparison_views(build, _art(build), sets, layers, layers_linked(build), scale_note(build))
    names, note = build.dataset.class_names, scale_note(build)
    home, index = Link("Index", urls.INDEX), Link("Image sets", urls.SETS)
    acfg = build.cfg.activations
    result = [Page(urls.SETS, "sets_index.html", "Image sets", [home],
                   SetsIndexData(sets, comparisons, acfg.threshold, acfg.scaling, acfg.colormap,
                                 key_note(_art(build).meta)),
                   section="sets", description="Chosen test images, every layer's activations, and what "
                                               "tells two sets apart.")]
    set_pages = [Page(s.url, "image_set.html", s.title, [home, index], SetPageData(s, layers, names, note),
                      section="sets", description=f"{s.title}: {s.how}, with every layer's activations.")
                 for s in sets]
    result += chain(set_pages)
    for s in sets:
        image_pages = [Page(im.url, "set_image.html", f"Test image #{im.index}",
                            [home, index, Link(s.title, s.url)],
                            ImagePageData(s, im, im.position - 1, layers, names, note, panels=
                                          registry.image_panels(build, im.index)), section="sets",
                            description=f"Test image #{im.index} ({s.title}): input, predictions and "
                                        f"every layer's activations.")
                       for im in s.images]
        result += chain(image_pages, label=lambda p: f"#{p.data.image.index}")
    comparison_pages = [Page(c.url, "comparison.html", c.title, [home, index], c, section="sets",
                             description=f"Which activation points and dense nodes tell {c.a.title} "
                                         f"from {c.b.title}.")
                        for c in comparisons]
    result += chain(comparison_pages)
    return result


def card(build) -> Card:
    art = _art(build)
    sets = art.meta["sets"]
    images = sum(s["count"] for s in sets)
    lines = [f"{len(sets)} sets, {images} test images: " + ", ".join(s["title"] for s in sets)]
    for c in art.meta["comparisons"]:
        parts = []
        for layer in key_layers(art.meta):
            info = c["layers"][layer]
            n = info["counts"]["only_a"] + info["counts"]["only_b"]
            parts.append(count_text(n, info["unit"]).replace(" ", f" {layer} ", 1))
        if parts:
            lines.append(f"{_title(art, c['a'])} vs {_title(art, c['b'])}: " + ", ".join(parts) + " separate them")
    thumbs = []
    per_set = max(1, 12 // max(1, len(sets)))
    for s in sets:
        indices = art.arrays[set_key(s["slug"], "indices")][:per_set]
        thumbs += [(urls.test_image(int(i)), f"test image {int(i)} of the set {s['title']}",
                    urls.image_set(s["slug"])) for i in indices]
    return Card("Image sets", urls.SETS, lines, thumbs[:12])


def enabled(build) -> bool:
    return bool(build.cfg.activations.image_sets) and NAME in build.results



# ---- what the guide says about this feature, and the terms that link there ----

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


def guide_topics(build) -> list:
    return [_grid_topic(build)]


def glossary() -> list:
    return [Term(r"activation grids?", "grids", "every map of a layer for one image, one small square per map"),
            Term(r"separating points|activation points", "grids", "positions of a map (or dense nodes) active in one set only")]


SECTION = Section("sets", depends, draw, pages, cards=lambda build: [card(build)], enabled=enabled, tour=tour,
                  findings=lambda build: set_findings.findings(build, _art(build), set_arrays, _title),
                  nav=("Image sets", urls.SETS), guide_topics=guide_topics, glossary=glossary)
