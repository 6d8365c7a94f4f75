"""Dreams: a page per dream (its frames, an animation, the settings) and an index with a thumbnail each.

Three kinds: pattern carving of one map on the 28×28 picture, the tiled variant (every 28×28 tile of
a larger copy), and layer dreams (the classic multi-octave algorithm). Each map's OIP page links to
its dreams through `links_by_map`.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import imaging
from ..analyses import dream_picture as dp
from ..analyses.dreams import NAME, dream_name, dream_slug
from ..analyses.oip_results import best_start, stage_name
from . import urls
from .dream_data import KINDS, DreamView, Frame, IndexData, kind_words
from .model import Link, Page, Panel, chain
from .section import Card, Section, in_build

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


def _gray_rgb(a01: np.ndarray) -> np.ndarray:
    return imaging.gray(a01, 0.0, 1.0)


def _scale_for(side: int) -> int:
    return max(1, round(PATTERN_PX / side))


def _save_diff(path: Path, diff: np.ndarray) -> None:
    bound = float(np.percentile(np.abs(diff), 99.5)) or 1.0
    imaging.save_array_png(path, diff, DIFF_CMAP, -bound, bound)


def _save_common(out: Path, s: str, picture: np.ndarray, frames: list[np.ndarray], plain: bool) -> None:
    """Thumbnail, final frame, difference to the picture and the animation (picture, then frames).
    plain: frames in pixel units (black 0, white 255); else contrast-adjusted as the seed shows them."""
    final = frames[-1]
    view = imaging.gray if plain else (lambda a: _gray_rgb(imaging.contrast(a)))
    imaging.save_png(out / asset(s, "final.png"), view(final))
    imaging.save_png(out / asset(s, "thumb.png"), view(dp.resize(final, THUMB_PX)))
    _save_diff(out / asset(s, "diff.png"), final - picture)
    movie = [imaging.gray(f) for f in [picture] + frames] if plain else \
        [_gray_rgb(f) for f in _contrast_all([picture] + frames)]
    imaging.save_animation(out / asset(s, "anim.webp"), movie + [movie[-1]], ANIMATION_MS)


def draw(build, out: Path) -> None:
    art = _art(build)
    a, layer = art.arrays, art.meta["layer"]
    picture = a["picture"].astype(np.float64)
    imaging.save_png(out / PICTURE, imaging.gray(picture))
    oips = _oip_arrays(build, layer)
    for kind, m, i, s in _entries(build):
        if kind == "layer":
            frames = [f.astype(np.float64) for f in a["layer_frames"][i]]
            for k, f in enumerate(frames):
                imaging.save_png(out / asset(s, f"o{k}.png"), imaging.gray(f))
            _save_common(out, s, picture, frames, plain=True)
            continue
        small, results = a[f"{kind}_small"][i], a[f"{kind}_result"][i]
        scale = _scale_for(small.shape[-1])
        for r in range(small.shape[0]):
            pattern = small[r].astype(np.float64)
            imaging.save_array_png(out / asset(s, f"r{r}-pattern.png"), pattern, "viridis", scale=scale)
            imaging.save_png(out / asset(s, f"r{r}-gray.png"), _gray_rgb(imaging.contrast(pattern)), scale=scale)
            up = dp.resize(pattern, picture.shape)
            imaging.save_png(out / asset(s, f"r{r}-up.png"), _gray_rgb(imaging.contrast(up)))
            imaging.save_png(out / asset(s, f"r{r}-result.png"), _gray_rgb(imaging.contrast(results[r])))
        _save_common(out, s, picture, [f.astype(np.float64) for f in results], plain=False)
        if oips is not None and not (out / oip_asset(layer, m, "best")).exists():
            _draw_oip(build, out, layer, m, oips)


def _draw_oip(build, out: Path, layer: str, m: int, oips: dict) -> None:
    """The map's strongest OIP in the OIP gallery's two views, to set beside its dreams."""
    from ..data.dataset import unstandardize

    best = int(best_start(oips["final"][m], oips["failed"][m]))
    pattern = unstandardize(oips["patterns"][m, best], build.mean, build.std).astype(np.float64)
    imaging.save_array_png(out / oip_asset(layer, m, "best"), pattern, "viridis", scale=6)
    imaging.save_png(out / oip_asset(layer, m, "bestc"), _gray_rgb(imaging.contrast(pattern)), scale=6)


# ---- pages ---------------------------------------------------------------------------------------

def _settings(build, kind: str, i: int) -> list[tuple[str, str]]:
    cfg, ocfg, art = build.cfg.dreams, build.cfg.oip, _art(build)
    size = cfg.picture_size
    rows = [("picture", f"{art.meta['picture']}, gray, central square at {size}×{size} px")]
    if kind in ("carve", "tiled"):
        side = dp.TILE * (cfg.tiles if kind == "tiled" else 1)
        rows += [("layer", art.meta["layer"]),
                 ("dreamt at", f"{side}×{side} px" + (f" = {cfg.tiles}×{cfg.tiles} tiles of 28×28, shifted by "
                                                      f"a random offset each round (wrapping around)"
                                                      if kind == "tiled" else "")),
                 ("rounds", str(cfg.rounds)),
                 ("ascent per round", f"{cfg.tiled_steps if kind == 'tiled' else cfg.steps} steps of size "
                                      f"{cfg.step_size:g} (OIP ascent: jitter "
                                      f"{ocfg.jitter} px, blur σ {ocfg.blur_sigma:g} every {ocfg.blur_every} "
                                      f"steps, objective: {ocfg.objective} activation)"),
                 ("scaling", "bicubic down and up; the detail (picture minus its down-and-up-scaled copy) "
                             "is added back after every round"),
                 ("maps chosen", art.meta["rule"])]
        seconds, n_rows = art.meta[f"{kind}_seconds"], art.meta[f"{kind}_rows"]
        rows.append(("computed", f"all {len(art.arrays['maps'])} maps together, one batch of {n_rows} rows "
                                 f"per round: {seconds:.1f} s for {cfg.rounds} rounds"))
    else:
        weights = build.cfg.dreams.layer_dreams[i].layers
        sizes = [int(v) for v in art.arrays["layer_sizes"]]
        rows += [("objective", " + ".join(f"{w:g} × mean({name})" for name, w in weights.items())),
                 ("octaves", f"{cfg.octaves}: " + ", ".join(f"{v} px" for v in sizes)
                  + f" (scale {cfg.octave_scale:g})"),
                 ("ascent per octave", f"{cfg.octave_steps} steps of size {cfg.octave_step_size:g} "
                                       f"(gradient divided by its standard deviation)"),
                 ("tiles", f"gradient on {cfg.tile_size}×{cfg.tile_size} tiles in one batch, at a random "
                           f"shift every step"),
                 ("between octaves", "the dream's change so far is scaled up and added to the larger picture"),
                 ("computed", f"{art.meta['layer_seconds'][i]:.1f} s")]
    return rows


def dream_views(build) -> list[DreamView]:
    art = _art(build)
    a, layer = art.arrays, art.meta["layer"]
    linked = map_pages_linked(build, layer)
    has_oips = _oip_arrays(build, layer) is not None
    views = []
    for kind, m, i, s in _entries(build):
        common = dict(kind=kind, kind_label=KINDS[kind], slug=s, url=urls.dream(s), thumb=asset(s, "thumb.png"),
                      anim=asset(s, "anim.webp"), final=asset(s, "final.png"), diff=asset(s, "diff.png"),
                      picture=PICTURE, settings=_settings(build, kind, i))
        if kind == "layer":
            name = art.meta["layer_dreams"][i]
            sizes = [int(v) for v in a["layer_sizes"]]
            frames = [Frame(f"octave {k + 1} · {size} px", [(asset(s, f"o{k}.png"),
                                                              f"layer dream {name} after octave {k + 1}", True)],
                            float(a["layer_objective"][i, k, 0]), float(a["layer_objective"][i, k, 1]))
                      for k, size in enumerate(sizes)]
            views.append(DreamView(**common, title=f"Layer dream: {name}", words=kind_words(kind, name=name),
                                   summary=f"{name}: {len(sizes)} octaves from {sizes[0]} to {sizes[-1]} px",
                                   columns=["the picture after the octave"], frames=frames,
                                   measure="objective"))
            continue
        what = f"{layer} map {m}"
        act = a[f"{kind}_act"][i]
        frames = [Frame(f"round {r + 1}",
                        [(asset(s, f"r{r}-pattern.png"), f"{what}, round {r + 1}: dreamt small picture, colour map", False),
                         (asset(s, f"r{r}-gray.png"), f"{what}, round {r + 1}: dreamt small picture, gray", False),
                         (asset(s, f"r{r}-up.png"), f"{what}, round {r + 1}: the dream scaled up", True),
                         (asset(s, f"r{r}-result.png"), f"{what}, round {r + 1}: with the detail added back", True)],
                        float(act[r, 0]), float(act[r, 1]))
                  for r in range(act.shape[0])]
        side = a[f"{kind}_small"].shape[-1]
        oip = [(oip_asset(layer, m, "best"), f"{what}: strongest OIP, colour map"),
               (oip_asset(layer, m, "bestc"), f"{what}: strongest OIP, contrast-enhanced")] if has_oips else []
        views.append(DreamView(**common, title=f"{what}: {KINDS[kind]}", match=_match_text(a, i) if kind == "carve" else "",
                               summary=f"{what}, {act.shape[0]} rounds on {side}×{side} px",
                               columns=[f"dreamt {side}×{side}", "gray, contrast-enhanced",
                                        "scaled up", "detail added back"],
                               frames=frames, measure=f"activation of map {m}", layer=layer, map=m,
                               map_page=urls.map_page(layer, m) if linked else None, oip=oip,
                               words=kind_words(kind, layer, m)))
    for v in views:
        if v.map is not None:
            v.siblings = [Link(KINDS[o.kind], o.url) for o in views if o.map == v.map and o is not v]
    return views


def _match_text(a: dict, i: int) -> str:
    if "carve_match" not in a:
        return ""
    match, maps = a["carve_match"], [int(m) for m in a["maps"]]
    own = float(match[i, i])
    others = [j for j in range(len(maps)) if j != i]
    text = (f"Shape check: what carving changed in the 28×28 picture correlates {own:.2f} with map {maps[i]}'s "
            f"own OIP (largest correlation over shifts of up to 3 px)")
    if not others:
        return text + "."
    j = max(others, key=lambda k: match[i, k])
    verdict = "less" if match[i, j] < own else "more"
    return text + (f"; {verdict} with any other dreaming map's OIP: the closest is map {maps[j]} "
                   f"({float(match[i, j]):.2f}).")


def match_summary(a: dict) -> str:
    if "carve_match" not in a or len(a["maps"]) < 2:
        return ""
    match = a["carve_match"]
    own_best = int(sum(match[i, i] >= match[i].max() for i in range(len(match))))
    return (f"Shape check: for {own_best} of {len(match)} maps, what carving changed in the 28×28 picture "
            f"correlates more with the map's own OIP than with any other dreaming map's "
            f"(largest correlation over shifts of up to 3 px; own {np.diag(match).min():.2f}–"
            f"{np.diag(match).max():.2f}).")


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
        timings.append(f"Layer dreams: " + ", ".join(f"{name} {sec:.1f} s" for name, sec in
                                                    zip(meta["layer_dreams"], meta["layer_seconds"])))
    groups = [("carving", "Pattern carving: one map, 28×28", [v for v in views if v.kind == "carve"]),
              ("tiled", f"Tiled: every 28×28 tile of a {dp.TILE * cfg.tiles} px copy",
               [v for v in views if v.kind == "tiled"]),
              ("layers", "Layer dreams", [v for v in views if v.kind == "layer"])]
    return IndexData(PICTURE, meta["picture"], cfg.picture_size, meta["layer"], meta["rule"],
                     [int(m) for m in art.arrays["maps"]], timings, match_summary(art.arrays),
                     [g for g in groups if g[2]])


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


SECTION = Section("dreams", depends, draw, pages, cards, enabled, nav=("Dreams", urls.DREAMS),
                  panels={"map": map_panel})
