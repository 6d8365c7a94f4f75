"""Dreams: a page per dream (its frames, an animation, the settings) and an index with a thumbnail each.

Three kinds: pattern carving of one map on the picture scaled to the model's input size, the tiled
variant (every tile of that size of a larger copy), and layer dreams (the classic multi-octave
algorithm). A one-channel model's dreams are drawn in gray, a three-channel model's in colour. Each
map's OIP page links to its dreams through `links_by_map`.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from generator import imaging
from generator.features.dreams import dream_picture as dp
from generator.features.dreams import page_words as dw
from generator.features.dreams.page_data import KINDS, DreamView, Frame, IndexData, kind_words
from generator.features.dreams.stage import NAME, dream_slug
from generator.features.patterns.oip_results import best_start, stage_name
from generator.pages import urls
from generator.pages.colour_keys import PATTERN, ColourKey
from generator.pages.model import Link, Page, Panel, Topic, chain
from generator.pages.section import Card, Section, in_build
from generator.pages.glossary import Term

PATTERN_PX = 168          # the dreamt small picture is shown about this wide (nearest-neighbour)
THUMB_PX = 128
ANIMATION_MS = 700
DIFF_CMAP = "RdBu_r"      # red: the dream made the picture brighter, blue: darker


# ---- paths -------------------------------------------------------------------------------------

def slug(kind: str, layer: str | None = None, m: int | None = None, name: str = "") -> str:
    if kind == "layer":
        return dream_slug(name)
    return f"{kind}-{urls.layer_slug(layer)}-map-{m:03d}"


def asset(dream_slug: str, what: str) -> str:
    return f"dreams/img/{dream_slug}/{what}"


PICTURE = "dreams/img/picture.png"


def oip_asset(layer: str, m: int, what: str) -> str:
    return f"dreams/img/oip/{urls.layer_slug(layer)}-{m:03d}-{what}.png"


# ---- access to results ---------------------------------------------------------------------------

def _art(build):
    return build.results.get(NAME)


def enabled(build) -> bool:
    return bool(build.cfg.dreams.enabled) and _art(build) is not None


def _oip_arrays(build, layer: str):
    art = build.results.get(stage_name(layer))
    return art.arrays if art is not None else None


def depends(build):
    art = _art(build)
    oip = build.results.get(stage_name(art.meta["layer"]))
    return [art.key, oip.key if oip is not None else None, build.mean, build.std]


def map_pages_linked(build, layer: str) -> bool:
    """Whether the OIP gallery is part of this build and has a page for the layer's maps."""
    return layer in build.cfg.oip.layers and in_build(build, "layers") is not None


def _entries(build) -> list[tuple[str, int | None, int | None, str]]:
    """(kind, map, position in its array, slug) for every dream of the build, in page order."""
    art = _art(build)
    a, layer = art.arrays, art.meta["layer"]
    maps = [int(m) for m in a["maps"]]
    out = []
    if "carve_result" in a:
        out += [("carve", m, i, slug("carve", layer, m)) for i, m in enumerate(maps)]
    if "tiled_result" in a:
        out += [("tiled", m, i, slug("tiled", layer, m)) for i, m in enumerate(maps)]
    for i, name in enumerate(art.meta["layer_dreams"]):
        out.append(("layer", None, i, slug("layer", name=name)))
    return out


def map_panel(build, layer: str, m: int) -> list[Panel]:
    """The map page's links to the dreams this map dreamt."""
    links = links_by_map(build).get((layer, m), [])
    return [Panel("dreams", "Dreams", "panels/links.html", links)] if links else []


def links_by_map(build) -> dict[tuple[str, int], list[Link]]:
    """{(layer, map): [Link(label, url), ...]}: each dreaming map's dream pages, for its OIP page."""
    art = _art(build)
    if art is None or not build.cfg.dreams.enabled:
        return {}
    layer = art.meta["layer"]
    links: dict[tuple[str, int], list[Link]] = {}
    for kind, m, _, s in _entries(build):
        if m is not None:
            links.setdefault((layer, m), []).append(Link(f"{KINDS[kind]} into the picture", urls.dream(s)))
    return links


# ---- drawing -----------------------------------------------------------------------------------

def _contrast_all(frames) -> list[np.ndarray]:
    """One percentile stretch shared by all frames, so an animation does not flicker."""
    stack = np.stack([np.asarray(f, np.float64) for f in frames])
    return list(imaging.contrast(stack))


def _pixels(a: np.ndarray, white: float = 255.0) -> np.ndarray:
    """Gray (h, w) or colour (h, w, 3) values, black at 0 and white at `white`, as uint8 of the same
    shape (imaging.gray scales element by element, so a colour picture stays in colour)."""
    return imaging.gray(a, 0.0, white)


def _stretched(a: np.ndarray) -> np.ndarray:
    """The contrast-enhanced view: one percentile stretch over all pixels (and channels: hues keep)."""
    return _pixels(imaging.contrast(a), 1.0)


def _scale_for(shape) -> int:
    return max(1, round(PATTERN_PX / max(shape[:2])))


def _thumb_shape(shape) -> tuple[int, int]:
    """The thumbnail's (h, w): the picture's aspect, its longer side THUMB_PX."""
    h, w = shape[:2]
    return (THUMB_PX, max(1, round(THUMB_PX * w / h))) if h >= w else (max(1, round(THUMB_PX * h / w)), THUMB_PX)


def _change(final: np.ndarray, picture: np.ndarray) -> np.ndarray:
    """What a dream changed, in pixel values; a colour picture's by its mean over the channels."""
    diff = np.asarray(final, np.float64) - picture
    return diff.mean(axis=-1) if diff.ndim == 3 else diff


def _finals(build):
    """Every dream's final picture, in _entries order."""
    a = _art(build).arrays
    for kind, _, i, _ in _entries(build):
        yield a["layer_frames"][i][-1] if kind == "layer" else a[f"{kind}_result"][i][-1]


def diff_key(build) -> ColourKey:
    """One red-blue scale for every dream's change, so two dream pages compare by colour: ±the largest
    99.5th percentile of |change| over all dreams, in whole pixel values (rarer larger changes saturate)."""
    picture = _art(build).arrays["picture"].astype(np.float64)
    bound = max([float(np.percentile(np.abs(_change(f, picture)), 99.5)) for f in _finals(build)] + [1.0])
    bound = float(np.ceil(bound))
    return ColourKey("dreams/img/colorbar-change.png", DIFF_CMAP, -bound, bound,
                     "change in pixel value (final − original)",
                     f"colour bar: blue at −{bound:.0f}, white at 0, red at +{bound:.0f} pixel values",
                     f"What the dream changed: red where it made the picture brighter, blue where darker, by up to "
                     f"{bound:.0f} pixel values (of 0–255); larger changes keep the end colour. The same scale on "
                     f"every dream page.")


def _colour_keys(build) -> list[ColourKey]:
    """The dream pages' colour scales: the change, and for a gray model the patterns' fixed scale."""
    keys = [diff_key(build)]
    # The dreams section's own copy of the pattern bar: each section draws (and caches) its own pictures.
    pattern = dataclasses.replace(PATTERN, image="dreams/img/colorbar-pixels.png",
                                  caption="Colour view of the dreamt small picture: pixel values 0 (dark purple) "
                                          "to 255 (yellow), the scale of every pattern on the site.")
    return keys + [pattern] if dw.picture_kind(_art(build)) == "gray" else keys


def _save_common(out: Path, s: str, picture: np.ndarray, frames: list[np.ndarray], plain: bool,
                 change: ColourKey) -> None:
    """Thumbnail, final frame, difference to the picture and the animation (picture, then frames).
    plain: frames in pixel units (black 0, white 255); else contrast-adjusted as the seed shows them."""
    final = frames[-1]
    view = _pixels if plain else _stretched
    imaging.save_png(out / asset(s, "final.png"), view(final))
    imaging.save_png(out / asset(s, "thumb.png"), view(dp.resize(final, _thumb_shape(final.shape))))
    imaging.save_array_png(out / asset(s, "diff.png"), _change(final, picture), DIFF_CMAP, change.vmin, change.vmax)
    movie = [_pixels(f) for f in [picture] + frames] if plain else \
        [_pixels(f, 1.0) for f in _contrast_all([picture] + frames)]
    imaging.save_animation(out / asset(s, "anim.webp"), movie + [movie[-1]], ANIMATION_MS)


def draw(build, out: Path) -> None:
    art = _art(build)
    a, layer = art.arrays, art.meta["layer"]
    picture = a["picture"].astype(np.float64)
    imaging.save_png(out / PICTURE, _pixels(picture))
    keys = _colour_keys(build)
    for key in keys:
        key.draw(out)
    oips = _oip_arrays(build, layer)
    for kind, m, i, s in _entries(build):
        if kind == "layer":
            frames = [f.astype(np.float64) for f in a["layer_frames"][i]]
            for k, f in enumerate(frames):
                imaging.save_png(out / asset(s, f"o{k}.png"), _pixels(f))
            _save_common(out, s, picture, frames, plain=True, change=keys[0])
            continue
        small, results = a[f"{kind}_small"][i], a[f"{kind}_result"][i]
        scale = _scale_for(small.shape[1:])
        for r in range(small.shape[0]):
            pattern = small[r].astype(np.float64)
            imaging.save_array_png(out / asset(s, f"r{r}-pattern.png"), pattern, PATTERN.cmap, PATTERN.vmin,
                                   PATTERN.vmax, scale=scale)
            imaging.save_png(out / asset(s, f"r{r}-gray.png"), _stretched(pattern), scale=scale)
            up = dp.resize(pattern, picture.shape)
            imaging.save_png(out / asset(s, f"r{r}-up.png"), _stretched(up))
            imaging.save_png(out / asset(s, f"r{r}-result.png"), _stretched(results[r]))
        _save_common(out, s, picture, [f.astype(np.float64) for f in results], plain=False, change=keys[0])
        if oips is not None and not (out / oip_asset(layer, m, "best")).exists():
            _draw_oip(build, out, layer, m, oips)


def _draw_oip(build, out: Path, layer: str, m: int, oips: dict) -> None:
    """The map's strongest OIP in the OIP gallery's two views, to set beside its dreams."""
    from generator.data.dataset import unstandardize

    best = int(best_start(oips["final"][m], oips["failed"][m]))
    pattern = unstandardize(oips["patterns"][m, best], build.mean, build.std).astype(np.float64)
    scale = _scale_for(pattern.shape)
    imaging.save_array_png(out / oip_asset(layer, m, "best"), pattern, PATTERN.cmap, PATTERN.vmin, PATTERN.vmax,
                           scale=scale)
    imaging.save_png(out / oip_asset(layer, m, "bestc"), _stretched(pattern), scale=scale)


# ---- pages ---------------------------------------------------------------------------------------

def dream_views(build) -> list[DreamView]:
    art = _art(build)
    a, layer = art.arrays, art.meta["layer"]
    tile, (first, second) = dw.dims(dw.tile_shape(art)), dw.view_words(art)
    linked = map_pages_linked(build, layer)
    has_oips = _oip_arrays(build, layer) is not None
    keys = _colour_keys(build)
    views = []
    for kind, m, i, s in _entries(build):
        common = dict(kind=kind, kind_label=KINDS[kind], slug=s, url=urls.dream(s), thumb=asset(s, "thumb.png"),
                      anim=asset(s, "anim.webp"), final=asset(s, "final.png"), diff=asset(s, "diff.png"),
                      picture=PICTURE, settings=dw.settings(build.cfg.dreams, build.cfg.oip, art, kind, i),
                      diff_words=dw.diff_words(art), colours=keys if kind != "layer" else keys[:1])
        if kind == "layer":
            name = art.meta["layer_dreams"][i]
            sizes = dw.octave_sizes(art)
            frames = [Frame(f"octave {k + 1} · {dw.px(size)}", [(asset(s, f"o{k}.png"),
                                                              f"layer dream {name} after octave {k + 1}", True)],
                            float(a["layer_objective"][i, k, 0]), float(a["layer_objective"][i, k, 1]))
                      for k, size in enumerate(sizes)]
            views.append(DreamView(**common, title=f"Layer dream: {name}", words=kind_words(kind, name=name),
                                   summary=f"{name}: {len(sizes)} octaves from {dw.side(sizes[0])} to {dw.px(sizes[-1])}",
                                   columns=["the picture after the octave"], frames=frames,
                                   measure="objective"))
            continue
        what = f"{layer} map {m}"
        act = a[f"{kind}_act"][i]
        frames = [Frame(f"round {r + 1}",
                        [(asset(s, f"r{r}-pattern.png"), f"{what}, round {r + 1}: dreamt small picture, {first}", False),
                         (asset(s, f"r{r}-gray.png"), f"{what}, round {r + 1}: dreamt small picture, {second}", False),
                         (asset(s, f"r{r}-up.png"), f"{what}, round {r + 1}: the dream scaled up", True),
                         (asset(s, f"r{r}-result.png"), f"{what}, round {r + 1}: with the detail added back", True)],
                        float(act[r, 0]), float(act[r, 1]))
                  for r in range(act.shape[0])]
        small = a[f"{kind}_small"].shape[2:4]
        oip = [(oip_asset(layer, m, "best"), f"{what}: strongest OIP, colour map"),
               (oip_asset(layer, m, "bestc"), f"{what}: strongest OIP, contrast-enhanced")] if has_oips else []
        views.append(DreamView(**common, title=f"{what}: {KINDS[kind]}",
                               match=dw.match_text(a, i, tile) if kind == "carve" else "",
                               summary=f"{what}, {act.shape[0]} rounds on {dw.dims(small)} px",
                               columns=dw.columns(art, small),
                               frames=frames, measure=f"activation of map {m}", layer=layer, map=m,
                               map_page=urls.map_page(layer, m) if linked else None, oip=oip,
                               words=kind_words(kind, layer, m, tile=tile)))
    for v in views:
        if v.map is not None:
            v.siblings = [Link(KINDS[o.kind], o.url) for o in views if o.map == v.map and o is not v]
    return views


def index_data(build, views: list[DreamView]) -> IndexData:
    art = _art(build)
    cfg, meta = build.cfg.dreams, art.meta
    timings = []
    n = len(art.arrays["maps"])
    if "carve_seconds" in meta:
        timings.append(f"Pattern carving: {n} maps × {cfg.rounds} rounds, one batch of {meta['carve_rows']} rows "
                       f"per round ({cfg.steps} ascent steps): {meta['carve_seconds']:.1f} s in all")
    if "tiled_seconds" in meta:
        timings.append(f"Tiled: {n} maps × {cfg.tiles ** 2} tiles, one batch of {meta['tiled_rows']} rows per "
                       f"round ({cfg.tiled_steps} ascent steps): {meta['tiled_seconds']:.1f} s in all")
    if meta["layer_dreams"]:
        timings.append("Layer dreams: " + ", ".join(f"{name} {sec:.1f} s" for name, sec in
                                                    zip(meta["layer_dreams"], meta["layer_seconds"])))
    tile, shape = dw.tile_shape(art), art.arrays["picture"].shape
    groups = [("carving", f"Pattern carving: one map, {dw.dims(tile)}", [v for v in views if v.kind == "carve"]),
              ("tiled", f"Tiled: every {dw.dims(tile)} tile of a {dw.px((tile[0] * cfg.tiles, tile[1] * cfg.tiles))} copy",
               [v for v in views if v.kind == "tiled"]),
              ("layers", "Layer dreams", [v for v in views if v.kind == "layer"])]
    return IndexData(PICTURE, meta["picture"], dw.picture_kind(art), dw.px(shape), dw.dims(shape), dw.dims(tile),
                     meta["layer"], meta["rule"], [int(m) for m in art.arrays["maps"]], timings,
                     dw.match_summary(art.arrays, dw.dims(tile)), [g for g in groups if g[2]])


def pages(build) -> list[Page]:
    views = dream_views(build)
    home, index = Link("Index", urls.INDEX), Link("Dreams", urls.DREAMS)
    result = [Page(urls.DREAMS, "dreams_index.html", "Dreams", [home], index_data(build, views), section="dreams",
                   description="The network dreaming on a real picture: maps carved in, layers dreaming.")]
    dream_pages = [Page(v.url, "dream.html", v.title, [home, index], v, section="dreams",
                        description=f"DeepDream: {v.summary}.") for v in views]
    return result + chain(dream_pages, label=lambda p: p.data.words["pager"])


def cards(build) -> list[Card]:
    art = _art(build)
    meta, cfg = art.meta, build.cfg.dreams
    views = dream_views(build)
    n = len(art.arrays["maps"])
    lines = []
    if n:
        lines.append(f"{n} maps of {meta['layer']} carved into the picture ({meta['rule']})")
        lines.append(f"all {n} maps in one batch per round: {meta['carve_seconds']:.1f} s for {cfg.rounds} rounds")
    if meta["layer_dreams"]:
        lines.append(f"{len(meta['layer_dreams'])} layer dreams: " + ", ".join(meta["layer_dreams"]))
    thumbs = [(v.thumb, f"{v.title}: final picture", v.url) for v in views][:12]
    return [Card("Dreams", urls.DREAMS, lines, thumbs)]



# ---- what the guide says about this feature, and the terms that link there ----

def _dream_topic() -> Topic:
    return Topic("dreams", "Dreams", [
        "Pattern carving runs a map's ascent from a real picture instead of noise: scale the picture down to the "
        "network's input size, ascend, scale up, add back the detail the downscaling lost, and repeat. The map "
        "carves its pattern into the picture. A layer dream climbs a whole layer's mean activation, octave by "
        "octave from a small copy of the picture to its full size (the classic DeepDream).",
    ])


def guide_topics(build) -> list:
    return [_dream_topic()]


SECTION = Section("dreams", depends, draw, pages, cards, enabled, nav=("Dreams", urls.DREAMS),
                  map_panels=map_panel, guide_topics=guide_topics,
                  glossary=lambda: [Term(r"carv(?:ed|es|ing)", "dreams",
                                         "a map's pattern grown into a real picture by gradient ascent")])
